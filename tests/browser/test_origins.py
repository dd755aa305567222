"""The two origins the snippet lives between: the customer's page and the form service.

These hold without the snippet: the host site serves its pages, the API answers
``ask`` for a page on an allowed origin, and a browser on any other origin gets
no readable answer (no CORS headers) and leaves nothing stored.
"""

from __future__ import annotations

from typing import Any

from capture.db.models import Answer, Lead, Visitor
from tests.browser.conftest import Live

ASK = """async ([api, site]) => {
  try {
    const response = await fetch(`${api}/api/v1/sites/${site}/forms/wheel/ask`, {
      method: "POST", headers: {"Content-Type": "text/plain"}, body: JSON.stringify({locale: "en"}),
    });
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


def test_an_allowed_origin_can_ask_the_api_from_the_page(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    assert page.title() == "Example Ltd"
    assert page.locator("[data-leadwheel-form=wheel]").count() == 1
    result = page.evaluate(ASK, [live.api, form.site_key])
    assert result.get("status") == 200, result
    assert [q["key"] for q in result["body"]["questions"]] == ["email", "first_name", "customer_type"]
    assert result["body"]["min_fill_ms"] == 300


def test_another_origin_gets_no_answer_it_can_read(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key, foreign=True))
    result = page.evaluate(ASK, [live.api, form.site_key])
    assert "error" in result, result  # the 403 carries no CORS header, so the page cannot read it
    assert live.count(Answer) == live.count(Lead) == live.count(Visitor) == 0
