"""The knowledge wheel through the public API: ask, answer, come back, get the next questions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from capture.db.models import Answer, Lead, Visitor
from capture.leads import profile_doc
from capture.web.snippet_words import snippet_words
from tests.capture.conftest import Browser, site_user_hash


def count(app: Any, model: Any) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def answers(app: Any) -> list[Answer]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(Answer).order_by(Answer.id)))


def profile_of(session: Any) -> dict[str, Any]:
    """Every live lead's profile entries, as {field: entry} (these tests have one live lead at a time)."""
    documents = session.scalars(select(Lead.profile).where(Lead.merged_into_id.is_(None))).all()
    return {name: kept for document in documents for name, kept in document.items()}


def test_first_visit_asks_email_first_then_the_basics(browser: Browser) -> None:
    body = browser.ask()
    assert browser.asked_keys() == ["email", "first_name", "customer_type"]
    assert body["status"] == "asking"
    assert body["progress"]["step"] == 1 and body["progress"]["steps"] == 5
    assert body["progress"]["stage"] == "basics"
    email = body["questions"][0]
    assert email["type"] == "email" and email["required"] is True and email["label"] == "E-mail"
    radio = body["questions"][2]
    assert radio["options"] == [{"value": "b2b", "label": "My company"}, {"value": "b2c", "label": "Myself"}]
    assert body["ticket"] and body["visitor"]


def test_wheel_moves_on_each_visit_and_never_asks_a_known_field(app: Any, browser: Browser, clock: Any) -> None:
    browser.ask()
    response = browser.answer({"email": "Ada@Example.COM", "first_name": "Ada", "customer_type": "b2b"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["stored"] == 3
    assert browser.last["status"] == "paused" and browser.asked_keys() == []  # three questions a visit

    clock.advance(hours=2)  # a later visit: the same token, the next questions
    browser.ask()
    assert browser.asked_keys() == ["company_size", "looking_for", "consent"]
    assert browser.last["progress"]["stage"] == "need"
    assert browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True}).status_code == 201
    browser.next_visit()
    assert browser.asked_keys() == ["budget", "procurement", "buying_timeline"]  # procurement: size ≥ 50
    seen: set[str] = {"email", "first_name", "customer_type", "company_size", "looking_for", "consent"}
    for _ in range(5):
        if browser.last["status"] == "complete":
            break
        keys = browser.asked_keys()
        assert not seen & set(keys), "a known field was asked again"
        seen |= set(keys)
        values = {
            "budget": "large",
            "procurement": "Tender",
            "buying_timeline": "3m",
            "decides": True,
            "phone": "+45 12 34 56 78",
        }
        assert browser.answer({k: values[k] for k in keys}).status_code == 201
        clock.advance(hours=1)
        browser.ask()
    assert browser.last["status"] == "complete"
    assert browser.last["questions"] == [] and browser.last["ticket"] is None
    assert browser.last["thank_you"] == "Thanks, we know all we need."
    assert all(stage["done"] for stage in browser.last["progress"]["stages"])
    with app.extensions["leadwheel"].db.read() as session:
        lead = session.scalar(select(Lead))
        assert lead is not None and lead.email == "ada@example.com"
        profile = profile_doc.values(profile_of(session))
    assert profile["company_size"] == 120 and profile["looking_for"] == ["reports"]
    assert profile["marketing_consent"] is True and profile["decides"] is True


def test_b2c_visitor_walks_another_path(browser: Browser) -> None:
    browser.ask()
    browser.answer({"email": "bo@example.dk", "first_name": "Bo", "customer_type": "b2c"})
    browser.next_visit()
    assert browser.asked_keys() == ["looking_for", "consent", "budget"]  # no company size for B2C


def test_labels_follow_the_visitors_language_with_fallback(browser: Browser) -> None:
    browser.locale = "da-DK"
    body = browser.ask()
    assert body["locale"] == "da"
    assert [q["label"] for q in body["questions"]] == ["E-mail", "Fornavn", "Køber til"]
    assert body["progress"]["stages"][0]["label"] == "Grundlæggende"
    browser.locale = "ro"  # no Romanian in this wheel: the default language
    assert browser.ask()["questions"][1]["label"] == "First name"


def test_the_snippets_own_words_come_in_the_language_of_the_questions(browser: Browser) -> None:
    """The buttons and messages speak the language the questions are shown in: one language reaches the
    browser, not all of them."""
    browser.locale = "da-DK"
    words = browser.ask()["words"]
    assert (words["send"], words["skip"], words["required"], words["step"]) == (
        "Send",
        "Ikke nu",
        "påkrævet",
        "Trin {0} af {1}",
    )
    browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"})
    assert browser.last["words"]["thanks"] == "Tak!"  # the answer's response, shown after it, too
    browser.locale = "ro"  # no Romanian in this wheel: questions and words alike in the default, English
    assert browser.ask()["words"]["skip"] == "Not now"


def test_every_language_has_every_word_and_norwegian_tags_read_as_bokmal() -> None:
    english = snippet_words("en")
    for locale in ("da", "nb", "ro", "en"):
        words = snippet_words(locale)
        assert words.keys() == english.keys() and all(words.values()), locale
        assert "{0}" in words["step"] and "{1}" in words["step"], locale
    assert snippet_words("no") is snippet_words("nn-NO") is snippet_words("nb_NO") is snippet_words("nb")
    assert snippet_words("ro-RO")["send"] == "Trimite"
    assert snippet_words("de") is english and snippet_words("") is english


def test_answers_keep_their_provenance(app: Any, browser: Browser, clock: Any) -> None:
    asked_at = clock.now
    browser.ask()
    browser.answer({"email": "ada@example.com", "customer_type": "b2c"}, locale="en")
    (row,) = [a for a in answers(app) if a.field == "email"]
    assert row.field == "email" and row.question_key == "email" and row.value == "ada@example.com"
    assert row.page_url == "https://www.example.com/pricing" and row.locale == "en"
    assert row.asked_at == asked_at and row.answered_at == clock.now
    assert row.sequence_version_id == browser.form.version_id and row.form_id == browser.form.form_id
    assert row.source == "form" and row.skipped is False


def test_each_profile_value_points_at_the_answer_that_gave_it(app: Any, browser: Browser) -> None:
    """A submission's answers are stored together; each field's provenance is still its own answer."""
    browser.ask()
    assert browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}).status_code == 201
    browser.next_visit()
    response = browser.answer({"company_size": "120", "looking_for": ["reports"]}, skipped=["consent"])
    assert response.status_code == 201, response.get_json()
    by_id = {a.id: a for a in answers(app)}
    assert len(by_id) == 6 and len({a.lead_id for a in by_id.values()}) == 1
    with app.extensions["leadwheel"].db.read() as session:
        fields = profile_of(session)
    assert set(fields) == {"email", "first_name", "customer_type", "company_size", "looking_for"}
    for name, kept in fields.items():
        given = by_id[profile_doc.answer_id(kept)]
        assert (given.field, given.value, given.skipped) == (name, profile_doc.value(kept), False)
        assert profile_doc.answered_at(kept) == given.answered_at
    (skip,) = [a for a in by_id.values() if a.skipped]
    assert skip.question_key == "consent" and skip.value is None


def test_consent_stores_the_exact_text_and_version(app: Any, browser: Browser) -> None:
    browser.locale = "da"
    browser.ask()
    browser.answer({"email": "ada@example.com", "customer_type": "b2c"})
    browser.next_visit()
    assert "consent" in browser.asked_keys()
    assert browser.answer({"consent": True}).status_code == 201
    consent = [a for a in answers(app) if a.field == "marketing_consent"][0]
    assert consent.value is True
    assert consent.consent_text == "I må sende mig e-mails." and consent.consent_version == "2026-11"


def test_stored_values_never_reach_the_browser(browser: Browser) -> None:
    browser.ask()
    browser.answer({"email": "secret.person@example.com", "first_name": "Zebedee", "customer_type": "b2b"})
    browser.ask()
    text = str(browser.last)
    assert "secret.person" not in text and "Zebedee" not in text


def test_html_is_stored_as_text(app: Any, browser: Browser) -> None:
    browser.ask()
    payload = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    assert browser.answer({"email": "x@example.com", "first_name": payload, "customer_type": "b2c"}).status_code == 201
    assert [a.value for a in answers(app) if a.field == "first_name"] == [payload]


def test_not_now_snoozes_a_question_until_later_visits(app: Any, browser: Browser, clock: Any) -> None:
    browser.ask()
    browser.answer({"email": "ada@example.com", "customer_type": "b2c"}, skipped=["first_name"])
    skipped = [a for a in answers(app) if a.skipped]
    assert [(a.question_key, a.value) for a in skipped] == [("first_name", None)]
    assert browser.last["status"] == "paused"
    clock.advance(hours=1)  # visit 2: still snoozed
    browser.ask()
    assert browser.asked_keys() == ["looking_for", "consent", "budget"]
    clock.advance(hours=1)  # visit 3: back, behind the others (nothing was submitted on visit 2)
    browser.ask()
    assert browser.asked_keys() == ["looking_for", "consent", "budget"]
    browser.answer({"looking_for": ["reports"], "consent": True, "budget": "small"})
    browser.next_visit()
    assert browser.asked_keys() == ["buying_timeline", "decides", "phone"]  # fresh questions first
    browser.answer({"buying_timeline": "6m", "decides": False, "phone": "12345678"})
    browser.next_visit()
    assert browser.asked_keys() == ["first_name"]  # the snoozed one, behind all others
    browser.answer({}, skipped=["first_name"])  # skipped again: the wheel gives up on it
    assert browser.last["status"] == "complete"
    assert browser.last["progress"]["stages"][0]["declined"] == 1


def test_stale_timeline_is_asked_again_after_its_freshness(app: Any, browser: Browser, clock: Any) -> None:
    browser.ask()
    browser.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2c"})
    browser.next_visit()
    browser.answer({"looking_for": ["reports"], "consent": True, "budget": "small"})
    browser.next_visit()
    assert browser.asked_keys()[0] == "buying_timeline"
    browser.answer({"buying_timeline": "12m", "decides": True, "phone": "12345678"})
    clock.advance(days=30)
    assert browser.ask()["status"] == "complete"
    clock.advance(days=61)
    browser.ask()
    assert browser.asked_keys() == ["buying_timeline"]


def test_same_email_from_another_browser_is_a_claim_and_merges_once_the_site_vouches(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    form = publish_form()
    office = Browser(client, form, clock)
    office.ask()
    office.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"})
    # the office's login vouches for the address: a lead another browser can later be proven to join
    assert (
        office.identify("ada@example.com", user_hash=site_user_hash(app, form.site_key, "ada@example.com")).status_code
        == 200
    )
    office.next_visit()
    office.answer({"company_size": 10, "looking_for": ["reports"], "consent": True})

    home = Browser(client, form, clock)
    home.ask()
    assert home.answer({"first_name": "Ada L.", "customer_type": "b2b"}, skipped=["email"]).status_code == 201
    assert count(app, Lead) == 2
    for _ in range(8):  # email is snoozed: it comes back after two visits, behind the open questions
        clock.advance(hours=1)
        home.ask()
        if "email" in home.asked_keys():
            break
        assert home.answer({}, skipped=home.asked_keys()).status_code == 201
    assert "email" in home.asked_keys()
    assert home.answer({"email": "ADA@example.com"}).status_code == 201
    # Typed in a browser, the address is only claimed: the leads stay apart, the office's untouched.
    with app.extensions["leadwheel"].db.read() as session:
        live = session.scalars(select(Lead).where(Lead.merged_into_id.is_(None)).order_by(Lead.id)).all()
        assert [lead.email for lead in live] == ["ada@example.com", None]
        assert profile_doc.values(live[0].profile)["first_name"] == "Ada"
    assert "email" not in home.ask()["questions"]  # the claimant is not asked again either

    # The host page's back end vouches for the address (its login knows it): now they are one lead.
    vouched = home.identify("ada@example.com", user_hash=site_user_hash(app, form.site_key, "ada@example.com"))
    assert vouched.status_code == 200, vouched.get_json()
    with app.extensions["leadwheel"].db.read() as session:
        live = session.scalars(select(Lead).where(Lead.merged_into_id.is_(None))).all()
        assert len(live) == 1 and live[0].email == "ada@example.com"
        assert live[0].email_confirmed_via == "identity"
        assert session.scalar(select(func.count()).select_from(Visitor).where(Visitor.lead_id == live[0].id)) == 2
        profile = profile_doc.values(profile_of(session))
    assert profile["first_name"] == "Ada L."  # the newest value wins
    assert profile["company_size"] == 10  # nothing from the office browser is lost
    stored = answers(app)
    assert {a.lead_id for a in stored} == {live[0].id}
    # 6 from the office, 3 from home, and the two vouched e-mails: none lost
    assert len([a for a in stored if not a.skipped]) == 11
    # The home browser now continues where the office left off.
    home.next_visit()
    assert home.asked_keys() and not {"company_size", "looking_for", "consent"} & set(home.asked_keys())


def test_the_plan_after_an_answer_is_the_plan_a_fresh_ask_gets(browser: Browser, clock: Any) -> None:
    """The answer response plans from what it just stored; reading it all back must agree, skips included."""

    def plan(body: dict[str, Any]) -> tuple[Any, ...]:
        return ([q["key"] for q in body["questions"]], body["status"], body["progress"])

    browser.ask()
    rounds = [
        ({"email": "ada@example.com", "customer_type": "b2b"}, ["first_name"]),
        ({"company_size": 120, "looking_for": ["reports"], "consent": True}, []),
        ({"budget": "large"}, ["procurement"]),
        ({"buying_timeline": "3m", "decides": True}, ["phone"]),
    ]
    for given, skipped in rounds:
        response = browser.answer({k: v for k, v in given.items() if k in browser.asked_keys()}, skipped=skipped)
        assert response.status_code == 201, response.get_json()
        after_answer = plan(response.get_json())
        assert plan(browser.ask()) == after_answer
        browser.next_visit()


def identify(client: Any, form: Any, body: dict[str, Any], origin: str = "https://www.example.com") -> Any:
    return client.post(f"/api/v1/sites/{form.site_key}/identify", json=body, headers={"Origin": origin})


def test_identify_attaches_an_email_and_the_wheel_stops_asking_for_it(app: Any, client: Any, browser: Browser) -> None:
    browser.ask()
    assert "email" in browser.asked_keys()
    response = browser.identify(" Ada@Example.com ")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    browser.ask()
    assert "email" not in browser.asked_keys()
    (stored,) = answers(app)
    assert (stored.source, stored.field, stored.value, stored.form_id, stored.question_key) == (
        "identify",
        "email",
        "Ada@Example.com",
        None,
        None,
    )


def test_identify_with_a_known_email_merges_into_that_lead_only_when_the_site_vouches(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    browser.ask()
    browser.answer({"email": "ada@example.com", "customer_type": "b2b"})
    signed = site_user_hash(app, browser.form.site_key, "ada@example.com")
    assert browser.identify("ada@example.com", user_hash=signed).status_code == 200
    another = Browser(client, browser.form, clock)
    assert another.identify("ADA@example.com").status_code == 200  # only a claim
    another.ask()
    assert "customer_type" in another.asked_keys()  # it learnt nothing of Ada's lead
    assert count(app, Lead) == 2

    assert another.identify("ADA@example.com", user_hash=signed).status_code == 200  # the host's login vouches
    another.ask()
    assert not {"email", "customer_type"} & set(another.asked_keys())
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(func.count()).select_from(Lead).where(Lead.merged_into_id.is_(None))) == 1


def test_identify_refuses_a_bad_email_a_foreign_origin_and_an_unknown_site(
    app: Any, client: Any, browser: Browser
) -> None:
    bad = identify(client, browser.form, {"email": "not an address", "locale": "da"})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["email"]
    foreign = identify(client, browser.form, {"email": "ada@example.com"}, origin="https://evil.example")
    assert foreign.status_code == 403
    unknown = client.post("/api/v1/sites/site_nope/identify", json={"email": "ada@example.com"})
    assert unknown.status_code == 404
    assert count(app, Answer) == 0 and count(app, Lead) == 0


def test_every_answer_and_identify_is_one_unit_of_work_even_a_merge(
    app: Any, client: Any, publish_form: Any, clock: Any, monkeypatch: Any
) -> None:
    """A first answer, a returning visitor's answers and a vouched identify that merges two leads each
    run in one write transaction, once: no unit is ever run again because of the path it took."""
    db = app.extensions["leadwheel"].db
    transactions: list[int] = []
    write_connection = db.write_connection

    def counted() -> Any:
        transactions.append(1)
        return write_connection()

    monkeypatch.setattr(db, "write_connection", counted)
    form = publish_form()
    office = Browser(client, form, clock)
    office.ask()
    transactions.clear()
    assert (
        office.answer({"email": "grace@example.com", "first_name": "Grace", "customer_type": "b2b"}).status_code == 201
    )
    assert transactions == [1]
    assert office.identify("grace@example.com", user_hash=site_user_hash(app, form.site_key, "grace@example.com"))
    office.next_visit()
    transactions.clear()
    assert office.answer({"company_size": 40, "looking_for": ["analytics"], "consent": True}).status_code == 201
    assert transactions == [1]

    home = Browser(client, form, clock)
    home.ask()
    transactions.clear()
    assert home.answer({"first_name": "Grace H.", "customer_type": "b2b"}, skipped=["email"]).status_code == 201
    assert transactions == [1]
    transactions.clear()
    response = home.identify("GRACE@example.com", user_hash=site_user_hash(app, form.site_key, "grace@example.com"))
    assert response.status_code == 200, response.get_json()
    assert transactions == [1]
    with db.read() as session:
        live = session.scalars(select(Lead).where(Lead.merged_into_id.is_(None))).all()
        assert [lead.email for lead in live] == ["grace@example.com"]
        assert session.scalar(select(func.count()).select_from(Visitor).where(Visitor.lead_id == live[0].id)) == 2
    # 6 + 2 answers and the two identified e-mails: none lost
    assert len([a for a in answers(app) if not a.skipped]) == 10
