"""The demo's host site embeds the snippet the way a customer would, under a strict CSP."""

from __future__ import annotations

from typing import Any

import pytest

from capture.demo.host_site import PAGES, create_site
from capture.web.serving import ByPort

FORMS = "http://127.0.0.1:5000"


@pytest.fixture
def site() -> Any:
    return create_site(FORMS, "site_abc", "wheel").test_client()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.path)
def test_every_page_carries_the_snippet_and_a_strict_policy(site: Any, page: Any) -> None:
    response = site.get(page.path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<script async src="{FORMS}/static/embed.js" data-site="site_abc"></script>' in html
    assert ('<div data-leadwheel-form="wheel"></div>' in html) is page.form
    policy = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {FORMS};" in policy and "unsafe-inline" not in policy


def test_the_language_switch_sets_html_lang_and_refuses_anything_else(site: Any) -> None:
    assert '<html lang="da">' in site.get("/pricing?lang=da").get_data(as_text=True)
    injected = site.get('/?lang="><script>alert(1)</script>').get_data(as_text=True)
    assert '<html lang="en">' in injected and "<script>alert(1)" not in injected


def test_one_server_serves_each_site_on_its_own_port() -> None:
    def answering(text: bytes) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [text]

        return app

    both = ByPort(answering(b"forms"), {5001: answering(b"host")})
    seen = []
    assert both({"SERVER_PORT": "5001"}, lambda *a: seen.append(a)) == [b"host"]
    assert both({"SERVER_PORT": "5000"}, lambda *a: seen.append(a)) == [b"forms"]
