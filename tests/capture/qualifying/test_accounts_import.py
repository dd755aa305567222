"""``leadwheel accounts import``: target accounts from a CSV file into the live model's domain list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from capture.qualifying.target_accounts import domain_of, read_accounts
from tests.capture.cli.test_cli import run as run  # noqa: F401  (the fixture)
from tests.capture.conftest import Browser
from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, lead_row

#: the test model, with a fit rule for target accounts (an empty list until one is imported)
ACCOUNTS_MODEL: dict[str, Any] = {
    **MODEL,
    "domains": {**MODEL["domains"], "target_accounts": ["old.example"]},
    "fit": [
        *MODEL["fit"],
        {"id": "target", "label": "A target account", "email_domain": "target_accounts", "points": 20},
    ],
}


def test_entries_are_reduced_to_their_domain() -> None:
    assert domain_of("Acme.COM") == "acme.com"
    assert domain_of("ceo@northwind.example") == "northwind.example"
    assert domain_of("https://www.contoso.example/about?x=1") == "contoso.example"
    assert domain_of("www.fabrikam.example/") == "fabrikam.example"
    assert domain_of("not a domain") is None and domain_of("") is None and domain_of("localhost") is None


def test_a_csv_with_a_domain_column_and_a_plain_list_both_read() -> None:
    table = read_accounts("Company;Domain;Owner\nAcme;acme.com;Kim\nBad;;Kim\nNorthwind;https://northwind.example;Bo\n")
    assert table.domains == ("acme.com", "northwind.example")
    assert table.problems == ((3, "'' is not a domain, e-mail address or URL"),)
    plain = read_accounts("acme.com\n\nsales@acme.com\nnonsense here\n")
    assert plain.domains == ("acme.com",)
    assert [line for line, _ in plain.problems] == [4]


def test_import_publishes_a_new_version_with_the_list_replaced_and_rescores(
    run: Any, app: Any, client: Any, publish_form: Any, clock: Any, tmp_path: Path
) -> None:
    model_file = tmp_path / "model.yaml"
    model_file.write_text(yaml.safe_dump(ACCOUNTS_MODEL), encoding="utf-8")
    assert run("model", "publish", str(model_file)).exit_code == 0
    form = publish_form()
    become_lead(Browser(client, form, clock), email="kim@acme.com")
    become_lead(Browser(client, form, clock), email="bo@old.example")
    assert lead_row(app, "kim@acme.com").fit == 10 and lead_row(app, "bo@old.example").fit == 30

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "company,domain,owner\nAcme,www.acme.com,Kim\nJunk,n/a,Kim\nNorthwind,kim@northwind.example,Bo\n",
        encoding="utf-8",
    )
    result = run("accounts", "import", str(accounts))
    assert result.exit_code == 0, result.output
    assert f"{accounts}:3: 'n/a' is not a domain" in result.stderr
    assert "2 domains for the list target_accounts, 1 rows skipped" in result.stdout
    assert "published scoring model version 2" in result.stdout
    assert "2 leads scored;" in result.stdout

    exported = yaml.safe_load(run("model", "export").stdout)
    assert exported["domains"]["target_accounts"] == ["acme.com", "northwind.example"]
    assert exported["domains"]["competitors"] == ["rival.example"]  # the other lists stay
    assert yaml.safe_load(run("model", "export", "--version", "1").stdout)["domains"]["target_accounts"] == [
        "old.example"
    ]  # published versions never change
    assert lead_row(app, "kim@acme.com").fit == 30 and lead_row(app, "bo@old.example").fit == 10

    again = run("accounts", "import", str(accounts))
    assert "already has this content" in again.stdout


def test_import_for_one_site_makes_its_own_model_and_leaves_the_others(
    run: Any, app: Any, client: Any, publish_form: Any, clock: Any, tmp_path: Path
) -> None:
    model_file = tmp_path / "model.yaml"
    model_file.write_text(yaml.safe_dump(ACCOUNTS_MODEL), encoding="utf-8")
    run("model", "publish", str(model_file))
    shop, other = publish_form(), publish_form()
    become_lead(Browser(client, shop, clock), email="kim@acme.com")
    become_lead(Browser(client, other, clock), email="bo@acme.com")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("acme.com\n", encoding="utf-8")

    result = run("accounts", "import", str(accounts), "--site", shop.site_key)
    assert result.exit_code == 0, result.output
    assert "1 leads scored (the site's leads)" in result.stdout
    assert lead_row(app, "kim@acme.com").fit == 30 and lead_row(app, "bo@acme.com").fit == 10


def test_a_file_without_any_domain_or_an_unused_list_is_said_plainly(
    run: Any, tmp_path: Path, app: Any, clock: Any
) -> None:
    model_file = tmp_path / "model.yaml"
    model_file.write_text(yaml.safe_dump(MODEL), encoding="utf-8")
    run("model", "publish", str(model_file))
    empty = tmp_path / "empty.csv"
    empty.write_text("domain\nnope\n", encoding="utf-8")
    refused = run("accounts", "import", str(empty))
    assert refused.exit_code == 1 and "names no domain: nothing imported" in refused.output
    good = tmp_path / "good.csv"
    good.write_text("acme.com\n", encoding="utf-8")
    unused = run("accounts", "import", str(good), "--list", "partners")
    assert unused.exit_code == 0 and "no rule of the model reads the list partners" in unused.stderr
    builtin = run("accounts", "import", str(good), "--list", "free_mail")
    assert builtin.exit_code == 1 and "built-in list" in builtin.output
