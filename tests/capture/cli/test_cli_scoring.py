"""``leadwheel model|token|lead``: publishing with a dry run and a re-score, tokens, a lead's reasons."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.capture.cli.test_cli import run as run  # noqa: F401  (the fixture)
from tests.capture.conftest import ORIGIN, Browser
from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, make_leads, track


@pytest.fixture
def model_file(tmp_path: Path) -> Any:
    def write(document: dict[str, Any] = MODEL, name: str = "model.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        return path

    return write


def test_publish_dry_run_rescore_export_and_show(
    run: Any, model_file: Any, app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    first = run("model", "publish", str(model_file()))
    assert first.exit_code == 0 and "published scoring model version 1" in first.output
    app.extensions["leadwheel"].catalog.clear()
    make_leads(client, publish_form(), clock, 3, on_pricing=1)

    stricter = model_file({**MODEL, "thresholds": {"mql": 40, "sql": 80}}, "stricter.yaml")
    dry = run("model", "publish", str(stricter), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 leads scored; 1 would change stage" in dry.stdout
    assert re.search(r"mql → engaged\s+1$", dry.stdout, re.MULTILINE)
    assert "version 2" not in run("model", "export").stdout.splitlines()[0]  # nothing was published

    published = run("model", "publish", str(stricter))
    assert published.exit_code == 0
    assert "published scoring model version 2" in published.stdout
    assert "3 leads scored; 1 changed stage" in published.stdout
    again = run("model", "publish", str(stricter))
    assert "already has this content" in again.stdout

    exported = json.loads(run("model", "export", "--format", "json").stdout)
    assert exported["thresholds"] == {"mql": 40, "sql": 80}
    assert json.loads(run("model", "export", "--version", "1", "--format", "json").stdout)["thresholds"]["mql"] == 25

    shown = run("lead", "show", "LEAD0@example.com")
    assert shown.exit_code == 0
    assert "stage engaged" in shown.stdout and "model version 2" in shown.stdout
    assert "Pricing page" in shown.stdout and "Buys for a company" in shown.stdout
    assert "mql → engaged" in shown.stdout and "(rescore)" in shown.stdout


def test_invalid_model_files_are_refused_with_every_problem(run: Any, model_file: Any) -> None:
    bad = {**MODEL, "thresholds": {"mql": 80, "sql": 20}, "fit": [{"id": "x", "field": "a", "points": "many"}]}
    result = run("model", "publish", str(model_file(bad)))
    assert result.exit_code != 0
    assert "not a valid scoring model" in result.output
    assert result.output.count("\n  - ") >= 2
    assert "Traceback" not in result.output
    assert run("model", "export").exit_code != 0  # nothing was published
    assert "no scoring model is published" in run("model", "export").output
    assert run("model", "publish").exit_code == 2  # neither FILE nor --default


def test_tokens_are_shown_once_listed_by_prefix_and_revoked(run: Any, client: Any) -> None:
    key = run("site", "create", "Acme", "--origin", ORIGIN).stdout.strip()
    created = run("token", "create", "--site", key, "--name", "Mailchimp", "--scope", "events")
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith("lw_") and len(token) > 40
    listing = run("token", "list", "--site", key).stdout
    assert token[:10] in listing and token not in listing and "active" in listing
    body = {"events": [{"id": "esp-1", "type": "email_open", "email": "a@example.com"}]}
    assert client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 202
    assert listing.splitlines()[0].split() == ["ID", "STARTS", "NAME", "SCOPES", "STATE"]
    (listed,) = json.loads(run("token", "list", "--site", key, "--format", "json").stdout)
    assert listed["name"] == "Mailchimp" and listed["scopes"] == ["events"] and token not in json.dumps(listed)
    token_id = str(listed["id"])
    assert run("token", "revoke", token_id).exit_code == 0
    assert "revoked" in run("token", "list", "--site", key).stdout
    assert client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert run("token", "create", "--site", key, "--name", " ", "--scope", "sales").exit_code != 0
    assert run("token", "revoke", "999").exit_code != 0


def test_refresh_lets_decay_move_stages_back(
    run: Any, app: Any, client: Any, browser: Browser, clock: Any, model_file: Any
) -> None:
    run("model", "publish", str(model_file()))
    app.extensions["leadwheel"].catalog.clear()
    clock.now = datetime(2026, 1, 5, tzinfo=UTC)  # the command runs on the real clock: months later
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    assert "stage mql" in run("lead", "show", "ada@example.com").stdout
    result = run("model", "refresh")
    assert result.exit_code == 0 and "1 changed stage" in result.stdout
    assert "stage engaged" in run("lead", "show", "ada@example.com").stdout


def test_routing_publish_and_export(run: Any, tmp_path: Path) -> None:
    from tests.capture.handoff.test_handoff import ROUTING

    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(ROUTING), encoding="utf-8")
    assert "no routing is published" in run("routing", "export").output
    assert run("routing", "publish", str(path)).stdout.strip() == "published routing version 1"
    assert json.loads(run("routing", "export").stdout)["default_team"] == "inbound"
    path.write_text(yaml.safe_dump({**ROUTING, "default_team": "ghosts"}), encoding="utf-8")
    refused = run("routing", "publish", str(path))
    assert refused.exit_code != 0 and "default_team: 'ghosts' is not one of the teams" in refused.output
