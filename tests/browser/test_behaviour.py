"""Behaviour tracking in the snippet: page views (also of single-page sites) and custom events, batched.

The tests watch the requests the page really makes to ``POST /api/v1/sites/<key>/events``,
read their bodies as the browser sent them, and check the service's answers (202) and the
events it stored.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from capture.db.models import BehaviourEvent
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.hostsite import QUEUE_JS

EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
#: the snippet sends a batch at most this long after an event (its timer is 1 s)
FLUSH_WAIT_MS = 1_500
#: The page is told it is hidden, as when the visitor switches tab, leaves or closes it (a test cannot hide the tab).
HIDE = """() => {
    Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
    document.dispatchEvent(new Event("visibilitychange"));
    delete document.hidden;
}"""


@dataclass
class Sent:
    """Every batch of events the page POSTed, as the browser sent it."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    preflights: int = 0
    #: the service's answers, as Playwright responses (read them outside the event handler)
    responses: list[Any] = field(default_factory=list)
    read: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [event for body in self.bodies for event in body["events"]]

    def views(self) -> list[dict[str, Any]]:
        return [event for event in self.events() if event["type"] == "page_view"]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events() if event["type"] == kind]

    def answers(self, page: Page) -> list[tuple[int, dict[str, Any]]]:
        """(status, JSON) of every batch, once all have been answered (read before the page goes)."""
        until(page, lambda: len(self.responses) == len(self.bodies), "the service's answers")
        self.read += [(response.status, response.json()) for response in self.responses[len(self.read) :]]
        return self.read


def watch(page: Page, live: Live, site_key: str) -> Sent:
    """Record the page's requests to the site's events endpoint (before the page is opened)."""
    sent = Sent()
    endpoint = f"{live.api}/api/v1/sites/{site_key}/events"

    def seen(request: Any) -> None:
        if request.url != endpoint:
            return
        if request.method == "OPTIONS":
            sent.preflights += 1
        elif request.method == "POST":
            sent.bodies.append(json.loads(request.post_data or "null"))
            sent.content_types.append(request.headers.get("content-type", ""))

    def answered(response: Any) -> None:
        if response.url == endpoint and response.request.method == "POST":
            sent.responses.append(response)

    page.on("request", seen)
    page.on("response", answered)
    return sent


def until(page: Page, condition: Callable[[], object], what: str, timeout_ms: int = 10_000) -> None:
    """Let the page run until ``condition()`` holds (request events are delivered while it waits)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def visitor_of(live: Live, token: str | None) -> str | None:
    """The visitor id a token names (tokens are re-signed on every answer; the id stays)."""
    return live.app.extensions["leadwheel"].tokens.read_visitor(token, live.clock())  # type: ignore[no-any-return]


def stored(live: Live) -> dict[str, BehaviourEvent]:
    """The events the service stored, by their id."""
    return {event.uid: event for event in live.rows(BehaviourEvent)}


def stored_token(page: Page, site_key: str) -> str | None:
    return page.evaluate("key => localStorage.getItem(key)", f"lw.{site_key}")  # type: ignore[no-any-return]


def test_a_page_view_is_sent_once_per_page_load_with_the_page_address_and_title(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    sent = watch(page, live, form.site_key)
    address = live.url(form.site_key)
    page.goto(address + "#access_token=secret")  # a fragment can hold secrets: it is never sent
    expect(snippet.control(page, "email")).to_be_visible()
    until(page, lambda: sent.views(), "the page view")

    [view] = sent.views()
    assert view["url"] == address
    assert view["props"] == {"title": "Example Ltd", "referrer": ""}  # opened directly: no referrer
    assert EVENT_ID.match(view["id"]), view["id"]
    at = datetime.fromisoformat(view["at"])
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
    # the visitor the form was asked for (tokens are re-signed by every answer: compare visitors)
    assert visitor_of(live, sent.bodies[0]["visitor"]) == visitor_of(live, stored_token(page, form.site_key))
    assert visitor_of(live, sent.bodies[0]["visitor"])
    assert all(t.startswith("text/plain") for t in sent.content_types), sent.content_types
    assert sent.preflights == 0

    # Still one page view a moment later: a custom event flushes alone.
    page.evaluate("leadwheel('track', 'download', {file: 'brochure.pdf'})")
    until(page, lambda: sent.of_type("download"), "the custom event")
    assert len(sent.views()) == 1
    sent.answers(page)  # read before the page goes

    page.reload()  # a new page load: a new page view, from the same visitor
    until(page, lambda: len(sent.views()) == 2, "the second page view")
    visitor = visitor_of(live, sent.bodies[0]["visitor"])
    assert visitor_of(live, sent.bodies[-1]["visitor"]) == visitor
    assert sent.views()[1]["id"] != view["id"]

    # The service took every batch, and stored each event as sent.
    assert [(status, answer["accepted"]) for status, answer in sent.answers(page)] == [
        (202, len(body["events"])) for body in sent.bodies
    ]
    rows = stored(live)
    assert sorted(rows) == sorted(event["id"] for event in sent.events())
    row = rows[view["id"]]
    assert (row.type, row.url, row.path, row.props, row.visitor_id, row.source) == (
        "page_view",
        address,
        "/page",
        {"title": "Example Ltd", "referrer": ""},
        visitor,
        "browser",
    )

    # A client retry (the same batch again) is stored once.
    retried = page.evaluate(
        """async ([url, body]) => {
            const r = await fetch(url, {method: "POST", body, credentials: "omit"});
            return {status: r.status, answer: await r.json()};
        }""",
        [f"{live.api}/api/v1/sites/{form.site_key}/events", json.dumps(sent.bodies[0])],
    )
    assert retried["status"] == 202
    assert retried["answer"]["duplicates"] == len(sent.bodies[0]["events"])
    assert len(stored(live)) == len(rows)


def test_a_referrer_is_sent_only_from_another_site(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key), referer="https://search.example/results?q=leads")
    until(page, lambda: sent.views(), "the page view from another site")
    assert sent.views()[0]["props"]["referrer"].startswith("https://search.example/")
    page.evaluate("history.pushState(null, '', '/page/next')")  # the next page came from this one
    until(page, lambda: len(sent.views()) == 2, "the page view of the next page")
    assert sent.views()[1]["props"]["referrer"] == ""

    page.goto(live.url(form.site_key), referer=f"{live.host}/page?from=home")  # from the site itself
    until(page, lambda: len(sent.views()) == 3, "the page view from the same site")
    assert sent.views()[2]["props"]["referrer"] == ""


def test_single_page_navigation_sends_a_page_view_only_when_the_path_or_query_changes(
    live: Live, open_page: Any
) -> None:
    form = live.publish_form()
    page = open_page()
    sent = watch(page, live, form.site_key)
    start = live.url(form.site_key)
    page.goto(start)
    until(page, lambda: sent.views(), "the first page view")

    # The same address again, then only a new fragment: no new page.
    page.evaluate("""() => {
        history.pushState({same: true}, "", location.href);
        history.replaceState(history.state, "", "#pricing-table");
    }""")
    # A router's navigation: the new address, then the new title.
    page.evaluate("""() => {
        history.pushState({page: "pricing"}, "", "/page/pricing?plan=pro");
        document.title = "Pricing";
    }""")
    until(page, lambda: len(sent.views()) == 2, "the page view of the pushed page")
    pricing = sent.views()[1]
    assert pricing["url"] == f"{live.host}/page/pricing?plan=pro"
    assert pricing["props"] == {"title": "Pricing", "referrer": ""}

    page.evaluate("history.replaceState(null, '', '/page/pricing?plan=team')")  # a redirect within the app
    until(page, lambda: len(sent.views()) == 3, "the page view of the replaced address")
    assert sent.views()[2]["url"] == f"{live.host}/page/pricing?plan=team"

    page.evaluate("history.back()")  # popstate, back to the first address (with its fragment)
    until(page, lambda: len(sent.views()) == 4, "the page view after Back")
    assert sent.views()[3]["url"] == start
    page.wait_for_timeout(FLUSH_WAIT_MS)
    assert [v["url"] for v in sent.views()] == [
        start,
        f"{live.host}/page/pricing?plan=pro",
        f"{live.host}/page/pricing?plan=team",
        start,
    ]
    ids = [event["id"] for event in sent.events()]
    assert len(ids) == len(set(ids))


def test_the_host_pages_own_history_calls_work_as_before(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    expect(snippet.control(page, "email")).to_be_visible()
    result = page.evaluate("""async () => {
        const out = {};
        const state = {step: 2, items: [1, 2], nested: {at: "x"}};
        out.returned = history.pushState(state, "", "/page/next?x=1");
        out.state = history.state;
        out.address = location.pathname + location.search;
        history.pushState.call(history, {step: 3}, "", "/page/last");
        out.replaced = history.replaceState({step: 4}, "", "?y=2");
        out.replacedState = history.state;
        out.replacedAddress = location.pathname + location.search;
        try { history.pushState(null, "", "https://elsewhere.example/"); } catch (e) { out.crossOrigin = e.name; }
        try { history.pushState({f: () => 1}, ""); } catch (e) { out.uncloneable = e.name; }
        out.popped = await new Promise(resolve => {
            addEventListener("popstate", e => resolve(e.state), {once: true});
            history.back();
        });
        out.back = location.pathname + location.search;
        return out;
    }""")
    assert result["returned"] is None  # undefined, as the browser's own pushState returns
    assert result["state"] == {"step": 2, "items": [1, 2], "nested": {"at": "x"}}
    assert result["address"] == "/page/next?x=1"
    assert result["replaced"] is None
    assert result["replacedState"] == {"step": 4}
    assert result["replacedAddress"] == "/page/last?y=2"
    assert result["crossOrigin"] == "SecurityError"  # the browser's errors still reach the host
    assert result["uncloneable"] == "DataCloneError"
    assert result["popped"] == {"step": 2, "items": [1, 2], "nested": {"at": "x"}}
    assert result["back"] == "/page/next?x=1"


def test_custom_events_arrive_batched_with_their_props_and_unique_ids(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    page.context.add_init_script(QUEUE_JS + "leadwheel('track', 'newsletter_signup', {list: 'weekly'});\n")
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key))  # the call above waits in the queue until embed.js runs
    until(page, lambda: sent.of_type("newsletter_signup"), "the queued event")
    assert sent.of_type("newsletter_signup")[0]["props"] == {"list": "weekly"}

    page.evaluate("""() => {
        leadwheel('track', 'demo_request', {plan: 'pro'});
        leadwheel('track', 'download', {file: 'a.pdf'});
        leadwheel('track', 'download');
    }""")
    until(page, lambda: len(sent.of_type("download")) == 2, "the custom events")
    [demo] = sent.of_type("demo_request")
    assert demo["props"] == {"plan": "pro"}
    assert EVENT_ID.match(demo["id"]), demo["id"]
    assert demo["url"] == live.url(form.site_key)
    assert [e["props"] for e in sent.of_type("download")] == [{"file": "a.pdf"}, {}]
    batch = next(body["events"] for body in sent.bodies if demo in body["events"])
    assert [e["type"] for e in batch][-3:] == ["demo_request", "download", "download"]  # one request for all three

    page.evaluate("() => { for (let i = 0; i < 20; i++) leadwheel('track', 'video_play', {n: i}); }")
    until(page, lambda: len(sent.of_type("video_play")) == 20, "twenty more events")
    ids = [event["id"] for event in sent.events()]
    assert all(EVENT_ID.match(i) for i in ids)
    assert len(ids) == len(set(ids)), "event ids repeat"
    assert sent.preflights == 0
    assert {status for status, _ in sent.answers(page)} == {202}
    rows = stored(live)
    assert sorted(rows) == sorted(ids)
    assert (rows[demo["id"]].type, rows[demo["id"]].props) == ("demo_request", {"plan": "pro"})


def test_a_page_being_hidden_sends_its_events_at_once(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key))
    until(page, lambda: sent.views(), "the page view")
    page.evaluate("leadwheel('track', 'offer_download', {offer: 'q4'})")
    page.evaluate(HIDE)
    until(page, lambda: sent.of_type("offer_download"), "the event, before the 1 s timer", timeout_ms=600)


def test_with_consent_required_nothing_is_sent_before_consent_and_the_page_view_after(
    live: Live, open_page: Any
) -> None:
    form = live.publish_form()
    page = open_page()
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key, consent="required"))
    expect(snippet.control(page, "email")).to_be_visible()
    page.evaluate("leadwheel('track', 'demo_request', {plan: 'pro'})")
    page.evaluate(HIDE)
    page.wait_for_timeout(FLUSH_WAIT_MS)  # past the batch timer: still nothing
    assert sent.bodies == []
    assert stored(live) == {}

    page.evaluate("leadwheel('consent', true)")
    until(page, lambda: sent.of_type("demo_request"), "the kept events after consent")
    assert [e["type"] for e in sent.events()] == ["page_view", "demo_request"]  # in the order they happened
    assert sent.views()[0]["props"]["title"] == "Example Ltd"
    # stored now, and named in the batch
    assert visitor_of(live, sent.bodies[0]["visitor"]) == visitor_of(live, stored_token(page, form.site_key))
    assert visitor_of(live, sent.bodies[0]["visitor"])

    page.evaluate("leadwheel('consent', false)")  # withdrawn: nothing more leaves the page
    page.evaluate("leadwheel('track', 'download', {file: 'a.pdf'})")
    page.evaluate("history.pushState(null, '', '/page/after-withdrawal')")
    page.wait_for_timeout(FLUSH_WAIT_MS)
    assert [e["type"] for e in sent.events()] == ["page_view", "demo_request"]
    assert sorted(event.type for event in stored(live).values()) == ["demo_request", "page_view"]


def test_a_page_without_a_visitor_adopts_the_one_the_events_answer_names(live: Live, open_page: Any) -> None:
    """No form asked for a visitor, so the first batch goes without one and the service's answer names it."""
    form = live.publish_form()
    page = open_page()
    page.route("**/ask", lambda route: route.abort())  # the form cannot load: no visitor from it
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key))
    until(page, lambda: sent.views(), "the page view")
    assert sent.bodies[0]["visitor"] is None
    [(status, answer)] = sent.answers(page)
    assert status == 202 and answer["visitor"]
    page.wait_for_function(
        "([key, token]) => localStorage.getItem(key) === token", arg=[f"lw.{form.site_key}", answer["visitor"]]
    )

    page.evaluate("leadwheel('track', 'download', {file: 'a.pdf'})")
    until(page, lambda: len(sent.bodies) == 2, "the next batch")
    assert sent.bodies[1]["visitor"] == answer["visitor"]  # the same visitor from now on
    visitor = visitor_of(live, answer["visitor"])
    assert visitor and {event.visitor_id for event in stored(live).values()} == {visitor}
