"""The ``leadwheel`` command: sites, sequence import/export, clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from capture.cli.main import main
from tests.capture.conftest import SMALL_WHEEL


@pytest.fixture
def run(config: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_site_create_prints_a_key_and_import_export_round_trips(run: Any, tmp_path: Path) -> None:
    created = run(
        "site",
        "create",
        "Northwind",
        "--origin",
        "https://www.northwind.example/",
        "--origin",
        "HTTPS://Shop.Northwind.example:443",
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("site_")
    listed = run("site", "list").stdout.splitlines()
    assert listed[0].split() == ["KEY", "NAME", "ORIGINS", "CREATED"]
    assert "https://shop.northwind.example" in listed[1] and "Northwind" in listed[1]
    (site,) = json.loads(run("site", "list", "--format", "json").stdout)
    assert site["key"] == key and site["origins"] == ["https://shop.northwind.example", "https://www.northwind.example"]

    source = tmp_path / "wheel.yaml"
    source.write_text(yaml.safe_dump(SMALL_WHEEL, allow_unicode=True), encoding="utf-8")
    first = run("sequence", "import", str(source), "--form", "wheel", "--site", key)
    assert first.exit_code == 0 and "version 1" in first.output
    again = run("sequence", "import", str(source), "--form", "wheel", "--site", key)
    assert again.exit_code == 0 and "nothing published" in again.output

    exported = run("sequence", "export", "--form", "wheel", "--site", key, "--format", "json")
    assert exported.exit_code == 0
    document = json.loads(exported.stdout)
    assert document["stages"][0]["questions"][1]["key"] == "email"
    edited = tmp_path / "wheel.json"
    document["settings"]["questions_per_visit"] = 2
    edited.write_text(json.dumps(document), encoding="utf-8")
    second = run("sequence", "import", str(edited), "--form", "wheel", "--site", key)
    assert "version 2" in second.output
    old = run("sequence", "export", "--form", "wheel", "--site", key, "--version", "1")
    assert yaml.safe_load(old.stdout)["settings"]["questions_per_visit"] == 3


def test_bad_files_and_arguments_fail_with_a_clear_message(run: Any, tmp_path: Path) -> None:
    key = run("site", "create", "Shop", "--origin", "https://shop.example").stdout.strip()
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: [\n", encoding="utf-8")
    result = run("sequence", "import", str(broken), "--form", "wheel", "--site", key)
    assert result.exit_code != 0 and "not valid YAML" in result.output and "Traceback" not in result.output

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        yaml.safe_dump(
            {
                "name": "x",
                "stages": [{"key": "a", "label": "A", "questions": [{"key": "q", "type": "dropdown", "label": "Q"}]}],
            }
        ),
        encoding="utf-8",
    )
    result = run("sequence", "import", str(wrong), "--form", "wheel", "--site", key)
    assert result.exit_code != 0 and "stages[0].questions[0].type" in result.output

    missing = run("sequence", "import", str(tmp_path / "nope.yaml"), "--form", "wheel", "--site", key)
    assert missing.exit_code != 0 and "cannot read" in missing.output
    unknown_site = run("sequence", "export", "--form", "wheel", "--site", "site_nope")
    assert unknown_site.exit_code != 0 and "no site has the key" in unknown_site.output
    no_form = run("sequence", "export", "--form", "nope", "--site", key)
    assert no_form.exit_code != 0 and "no published form" in no_form.output
    bad_origin = run("site", "create", "Shop", "--origin", "ftp://shop.example")
    assert bad_origin.exit_code != 0 and "is not an origin" in bad_origin.output


def test_serve_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code != 0 and "SECRET_KEY is not set" in result.output


def test_stats_report_skip_rates(run: Any, browser: Any) -> None:
    browser.ask()
    browser.answer({"email": "a@example.com", "customer_type": "b2c"}, skipped=["first_name"])
    result = run("sequence", "stats", "--form", "wheel", "--site", browser.form.site_key)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if line.startswith("first_name"))
    assert line.split()[1:] == ["0", "1", "100%"]


def test_lead_show_names_the_first_stage_change_in_words(run: Any, app: Any, browser: Any, tmp_path: Path) -> None:
    from tests.capture.qualifying.test_scoring_service import MODEL, become_lead

    model = tmp_path / "model.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    assert run("model", "publish", str(model)).exit_code == 0
    app.extensions["leadwheel"].catalog.clear()
    become_lead(browser)

    shown = run("lead", "show", "ada@example.com")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    first_change = lines[lines.index("  answers (oldest first):") - 1]
    assert "None" not in shown.stdout
    assert re.search(r"\bnew → (subscriber|engaged)\s+\(answer\)$", first_change), first_change


def test_lead_show_lists_every_answer_with_its_provenance(run: Any, browser: Any) -> None:
    browser.ask()
    given = {"email": "ada@example.com", "first_name": "Ada\x1b[31m", "customer_type": "b2b"}
    assert browser.answer(given, skipped=[]).status_code == 201
    browser.next_visit()
    browser.answer({"looking_for": ["reports"], "consent": True}, skipped=["company_size"])

    shown = run("lead", "show", "ada@example.com").stdout
    answers = shown[shown.index("  answers (oldest first):") :].splitlines()[1:]
    assert len(answers) == 6
    assert 'first_name = "Ada[31m"' in shown and "\x1b" not in shown  # the escape never reaches a terminal
    assert all("(form wheel v1, en, https://www.example.com/pricing" in line for line in answers)
    assert any("company_size = (not now)" in line for line in answers)
    consent = next(line for line in answers if "marketing_consent" in line)
    assert "consent text 2026-11: You may e-mail me about products." in consent


def test_site_identity_secret_prints_the_key_of_user_hash_and_rotates_it(run: Any) -> None:
    from capture.leads.claims import user_hash, vouched_for

    key = run("site", "create", "Northwind", "--origin", "https://www.northwind.example").stdout.strip()
    secret = run("site", "identity-secret", key).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert run("site", "identity-secret", key).stdout.strip() == secret  # reading does not change it
    signed = user_hash(secret, "Ada@Example.com ")
    assert vouched_for(secret, "ada@example.com", signed)

    rotated = run("site", "identity-secret", key, "--rotate")
    assert rotated.exit_code == 0 and "refused from now on" in rotated.stderr
    new = rotated.stdout.strip()
    assert new != secret and not vouched_for(new, "ada@example.com", signed)
    assert run("site", "identity-secret", "site_nope").exit_code == 1


def test_a_command_on_a_database_without_the_schema_says_to_upgrade_it(run: Any, config: Any) -> None:
    from capture.db.migrate import downgrade, upgrade

    downgrade(config.database_url, "base")
    try:
        for args in (("site", "list"), ("lead", "show", "ada@example.com"), ("webhook", "list")):
            result = CliRunner().invoke(main, list(args))
            assert result.exit_code == 1, (args, result.output)
            assert "run `leadwheel db upgrade` first" in result.output
            assert "Traceback" not in result.output and "SELECT" not in result.output
    finally:
        upgrade(config.database_url)
