"""The form in each engine a visitor may use: Chromium (Blink), Firefox ESR (Gecko) and WebKitGTK (WebKit).

A journey (the form renders, answers are taken, a return visit is recognised, ``?lang=da`` speaks
Danish, nothing goes wrong in the page) and WCAG 1.4.11: the controls' edges reach 3:1 against
the form's background, measured in each engine's own rendering. WebKit's native unticked radios
and checkboxes are drawn at about 1.6:1, so the snippet draws its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from capture.db.models import Answer
from tests.browser.conftest import Live
from tests.browser.engines import ENGINES, Chromium, Engine, contrast, launcher, missing, png_pixels, problems, wait_for

ASKED = """[...document.querySelectorAll("[data-leadwheel-form] .lw-field")]
  .map(f => (f.querySelector("[name]") || {}).name).filter(Boolean)"""


@pytest.fixture(scope="session", params=ENGINES)
def browser(request: Any) -> Iterator[Any]:
    """One browser per engine and test worker (Chromium: the other tests' own)."""
    name = request.param
    reason = missing(name)
    if reason:  # a missing engine is a broken machine, never a pass (.ci/run installs all three)
        pytest.fail(reason, pytrace=False)
    if name == "chromium":
        yield request.getfixturevalue("chromium")
        return
    with launcher(name)() as engine:
        yield engine


@pytest.fixture
def engine(browser: Any) -> Iterator[Engine]:
    """A page in ``browser``; each test publishes its own site, so no visitor carries over."""
    if not hasattr(browser, "new_context"):
        yield browser
        return
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    try:
        yield Chromium(context.new_page())
    finally:
        context.close()


def answers_stored(live: Live, count: int) -> None:
    deadline = time.monotonic() + 8
    while live.count(Answer) < count:
        assert time.monotonic() < deadline, f"{live.count(Answer)} answers stored, {count} expected"
        time.sleep(0.05)


def test_a_visitor_answers_comes_back_and_reads_danish(live: Live, engine: Engine) -> None:
    form = live.publish_form()
    engine.goto(live.url(form.site_key))

    assert wait_for(engine, ASKED, "the form") == ["email", "first_name", "customer_type"]
    engine.type('[name="email"]', "ada@example.com")
    engine.type('[name="first_name"]', "Ada")
    engine.click('[name="customer_type"][value="b2b"]')
    engine.click(".lw-submit")
    wait_for(engine, '!document.querySelector("[name=email]")', "the answered questions leaving")
    answers_stored(live, 3)

    live.clock.advance(hours=1)  # the next visit
    engine.reload()
    asked = wait_for(engine, ASKED, "the next visit's questions")
    assert "company_size" in asked and not {"email", "first_name", "customer_type"} & set(asked)

    engine.goto(live.url(form.site_key, lang="da"))
    wait_for(engine, '(document.querySelector(".lw-form") || {}).textContent?.includes("Medarbejdere")', "Danish")
    assert problems(engine) == []


def test_the_controls_edges_reach_3_to_1_against_the_form(live: Live, engine: Engine) -> None:
    """WCAG 1.4.11: an unticked radio and a text box must be seen, in every engine's own drawing."""
    form = live.publish_form()
    engine.goto(live.url(form.site_key))
    wait_for(engine, '!!document.querySelector("[name=customer_type]")', "the form")
    time.sleep(0.4)  # WebKit paints form controls a little late
    png = engine.screenshot()
    width, _, pixel = png_pixels(png)
    scale = width / engine.js("innerWidth")
    for selector in ('[name="customer_type"]', '[name="email"]'):
        left, top, w, h = engine.js(
            f"(r => [r.left, r.top, r.width, r.height])(document.querySelector('{selector}').getBoundingClientRect())"
        )
        box = [
            (x, y)
            for x in range(int(left * scale), int((left + w) * scale))
            for y in range(int(top * scale), int((top + h) * scale))
        ]
        edge = min((pixel(x, y) for x, y in box), key=sum)
        background = pixel(int((left - 4) * scale), int((top + h / 2) * scale))
        ratio = contrast(edge, background)
        assert ratio >= 3, f"{engine.name}: {selector} drawn at {ratio:.2f}:1 ({edge} on {background})"
