"""``leadwheel demo`` prepares a site, the demo form and its scoring model, and a re-run changes nothing."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from capture.app import create_app
from capture.db import Database
from capture.demo import DEMO_FORM, prepare_demo
from capture.models import Lead, ScoringModelVersion, SequenceVersion, Site


def test_the_demo_scores_its_visitors_and_a_second_run_publishes_nothing_new(tmp_path: Path) -> None:
    config, key = prepare_demo(tmp_path, "127.0.0.1", 5001)
    again, same_key = prepare_demo(tmp_path, "127.0.0.1", 5001)
    assert same_key == key and again.secret_keys == config.secret_keys
    db = Database(config.database_url)
    try:
        with db.read() as session:
            counts = [
                session.scalar(select(func.count()).select_from(m))
                for m in (Site, SequenceVersion, ScoringModelVersion)
            ]
        assert counts == [1, 1, 1]

        client = create_app(config).test_client()
        origin = {"Origin": "http://127.0.0.1:5001"}
        base = f"/api/v1/sites/{key}"
        asked = client.post(f"{base}/forms/{DEMO_FORM}/ask", json={"locale": "en"}, headers=origin).get_json()
        event = {"id": secrets.token_hex(16), "type": "page_view", "url": "http://127.0.0.1:5001/pricing"}
        sent = client.post(f"{base}/events", json={"visitor": asked["visitor"], "events": [event]}, headers=origin)
        assert sent.status_code == 202
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Lead)) == 0  # anonymous until an answer
    finally:
        db.dispose()
