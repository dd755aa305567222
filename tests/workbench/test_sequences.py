"""The sequence editor: its operations, and its pages as marketers, viewers, salespeople and attackers use them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from capture.db.models import Form, SequenceDraft, SequenceVersion
from capture.sites.publishing import checksum, sequence_of
from capture.workbench.sequences import editing
from profiling.document import dumps, load, loads
from tests.capture.conftest import SMALL_WHEEL, Browser
from tests.capture.conftest import publish_form as publish_form  # noqa: F401 - the fixture
from tests.workbench.conftest import csrf_token


def _keys(document: dict[str, Any]) -> list[list[str]]:
    return [[q["key"] for q in stage["questions"]] for stage in document["stages"]]


def test_moves_cross_stages_at_their_edges_and_to_the_top() -> None:
    doc = SMALL_WHEEL
    assert _keys(editing.move(doc, "email", "top"))[0] == ["email", "first_name", "customer_type"]
    assert _keys(editing.move(doc, "first_name", "up"))[0] == ["first_name", "email", "customer_type"]  # stays
    down = editing.move(doc, "customer_type", "down")
    assert _keys(down)[0] == ["first_name", "email"] and _keys(down)[1][0] == "customer_type"
    assert _keys(editing.move(down, "customer_type", "up"))[0][-1] == "customer_type"
    assert _keys(doc)[0] == ["first_name", "email", "customer_type"]  # the input is left as it was


def test_labels_flags_and_new_questions() -> None:
    changes = {"label": {"en": "E-mail", "da": "Din e-mail", "nb": ""}, "required": False, "skippable": False}
    changed = editing.update(SMALL_WHEEL, "email", {**changes, "freshness_days": 90})
    item = editing.question(changed, "email")
    assert item["label"] == {"en": "E-mail", "da": "Din e-mail"} and "required" not in item
    assert item["skippable"] is False and item["freshness_days"] == 90
    added = editing.add_question(SMALL_WHEEL, "basics", "job_title", "text", "Job title", "en")
    assert _keys(added)[0][-1] == "job_title" and load(added).question("job_title") is not None
    with pytest.raises(editing.EditError):
        editing.add_question(added, "basics", "job_title", "text", "Again", "en")
    assert editing.coverage(editing.question(SMALL_WHEEL, "email")) == 2  # en and da of en, da, nb, ro


@pytest.fixture
def form_id(app: Any, publish_form: Any) -> int:  # noqa: F811
    publish_form()
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalars(select(Form.id)).one()


def _post(client: Any, path: str, form_id: int, **data: str) -> Any:
    token = csrf_token(client, f"/workbench/sequences/{form_id}")
    return client.post(path, data={"csrf_token": token, **data})


def test_a_marketer_edits_a_danish_label_publishes_and_visitors_see_it(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int, client: Any, clock: Any
) -> None:
    marketer = signed_in("marketer")
    page = marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    assert "translations 2/4" in page and "Live version 1" in page
    edit = marketer.get(f"/workbench/sequences/{form_id}/questions/email").get_data(as_text=True)
    assert 'value="E-mail"' in edit
    saved = _post(marketer, f"/workbench/sequences/{form_id}/questions/email", form_id,
                  label_en="E-mail", label_da="Din arbejdsmail", skippable="y")  # fmt: skip
    assert saved.status_code == 302
    draft_page = marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    assert "Draft, based on version 1" in draft_page and "+      da: Din arbejdsmail" in draft_page

    assert _post(marketer, f"/workbench/sequences/{form_id}/publish", form_id).status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        live = session.scalars(select(SequenceVersion).order_by(SequenceVersion.version.desc())).first()
        assert session.get(SequenceDraft, form_id) is None
    assert live.version == 2 and live.published_by == "marketer@example.com"
    # what it published exports to YAML that imports back to the same version
    assert checksum(loads(dumps(sequence_of(live)))) == live.checksum

    published = app.extensions["leadwheel"]
    published.catalog.clear()
    from tests.capture.conftest import Published

    visitor = Browser(client, Published(_site_key(app), "wheel", form_id, live.id), clock, locale="da")
    labels = {q["key"]: q["label"] for q in visitor.ask()["questions"]}
    assert labels["email"] == "Din arbejdsmail"


def _site_key(app: Any) -> str:
    from capture.db.models import Site

    with app.extensions["leadwheel"].db.read() as session:
        return session.scalars(select(Site.public_key)).one()


def test_checks_show_on_the_cards_and_a_broken_draft_is_not_published(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int
) -> None:
    marketer = signed_in("marketer")
    assert _post(marketer, f"/workbench/sequences/{form_id}/questions/customer_type/delete", form_id).status_code == 302
    page = marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    card = page[page.index('id="q-company_size"') :]
    card = card[: card.index("</li>")]
    assert 'class="error"' in card and "customer_type" in card  # its condition names the deleted question
    refused = _post(marketer, f"/workbench/sequences/{form_id}/publish", form_id)
    assert refused.status_code == 422
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalars(select(SequenceVersion.version)).all() == [1]
    assert _post(marketer, f"/workbench/sequences/{form_id}/discard", form_id).status_code == 302
    assert "Live version 1" in marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)


def test_reorder_publish_and_revert_by_publishing_the_old_version_anew(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int
) -> None:
    admin = signed_in("admin")
    moved = _post(admin, f"/workbench/sequences/{form_id}/questions/buying_timeline/move", form_id, where="up")
    assert moved.status_code == 302
    _post(admin, f"/workbench/sequences/{form_id}/publish", form_id)
    assert _post(admin, f"/workbench/sequences/{form_id}/versions/1/revert", form_id).status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        versions = session.scalars(select(SequenceVersion).order_by(SequenceVersion.version)).all()
    assert [v.version for v in versions] == [1, 2, 3] and versions[2].checksum == versions[0].checksum
    history = admin.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    assert "the command line" in history and "admin@example.com" in history


def test_who_may_view_edit_and_publish_and_a_post_without_its_token(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int
) -> None:
    assert signed_in(None).get(f"/workbench/sequences/{form_id}").status_code == 302
    assert signed_in("sales").get(f"/workbench/sequences/{form_id}").status_code == 403
    viewer = signed_in("viewer")
    page = viewer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    assert "Move up" not in page and "Add a question" not in page and "/questions/email" not in page
    assert viewer.get(f"/workbench/sequences/{form_id}/questions/email").status_code == 403
    assert _post(viewer, f"/workbench/sequences/{form_id}/questions/email/delete", form_id).status_code == 403
    marketer = signed_in("marketer")
    forged = marketer.post(f"/workbench/sequences/{form_id}/questions/email/delete", data={})
    assert forged.status_code == 400
    assert re.search(r"Move up", marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True))
    with app.extensions["leadwheel"].db.read() as session:
        assert session.get(SequenceDraft, form_id) is None  # nothing changed by the refused posts


def test_the_translations_matrix_round_trips_through_a_translators_file(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int
) -> None:
    marketer = signed_in("marketer")
    page = marketer.get(f"/workbench/sequences/{form_id}/translations").get_data(as_text=True)
    assert "en 100 %" in page and "nb 0 %" in page and page.count('class="missing"') > 5
    exported = marketer.get(f"/workbench/sequences/{form_id}/translations.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["path", "en", "da", "nb", "ro"] and ["question:email", "E-mail", "E-mail", "", ""] in rows

    translated = "path,nb\nquestion:email,E-post\nquestion:first_name,=Fornavn\n"
    token = csrf_token(marketer, f"/workbench/sequences/{form_id}/translations")
    sent = marketer.post(
        f"/workbench/sequences/{form_id}/translations",
        data={"csrf_token": token, "file": (io.BytesIO(translated.encode()), "nb.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        draft = session.get(SequenceDraft, form_id)
    assert editing.question(draft.document, "email")["label"]["nb"] == "E-post"
    assert editing.question(draft.document, "first_name")["label"]["nb"] == "=Fornavn"
    again = marketer.get(f"/workbench/sequences/{form_id}/translations.csv").get_data(as_text=True)
    assert "'=Fornavn" in again  # a formula-looking text is exported as text

    wrong = "path,da\nquestion:nope,Nej\n"
    token = csrf_token(marketer, f"/workbench/sequences/{form_id}/translations")
    refused = marketer.post(
        f"/workbench/sequences/{form_id}/translations",
        data={"csrf_token": token, "file": (io.BytesIO(wrong.encode()), "da.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "question:nope" in refused.get_data(as_text=True)


def test_options_conditions_validators_and_settings_as_operations() -> None:
    options = [{"value": "b2b", "label": {"en": "Work", "da": "Arbejde"}}, {"value": "", "label": {"en": "x"}},
               {"value": "b2c", "label": {"en": "Me", "da": ""}}]  # fmt: skip
    changed = editing.set_options(SMALL_WHEEL, "customer_type", options)
    assert editing.question(changed, "customer_type")["options"] == [
        {"value": "b2b", "label": {"en": "Work", "da": "Arbejde"}},
        {"value": "b2c", "label": {"en": "Me"}},
    ]
    either = [{"field": "customer_type", "operator": "equals", "value": "b2b"},
              {"field": "company_size", "operator": "gte", "value": "50"},
              {"field": "", "operator": "equals", "value": "ignored"}]  # fmt: skip
    anyone = editing.set_conditions(SMALL_WHEEL, "budget", either, any_of=True)
    item = editing.question(anyone, "budget")
    assert "when" not in item and item["when_any"][1] == {"field": "company_size", "gte": 50}
    assert load(anyone).question("budget").any_condition
    bounded = editing.set_validators(SMALL_WHEEL, "procurement", {"max_length": 200, "pattern": "", "min_length": None})
    assert editing.question(bounded, "procurement")["max_length"] == 200
    assert editing.set_settings(SMALL_WHEEL, {"questions_per_visit": 2})["settings"]["questions_per_visit"] == 2
    assert editing.earlier_fields(SMALL_WHEEL, "company_size") == ["first_name", "email", "customer_type"]
    with pytest.raises(editing.EditError):
        editing.delete_stage(SMALL_WHEEL, "basics")  # it has questions
    empty = editing.add_stage(SMALL_WHEEL, "extra", "Extra", "en")
    assert [s["key"] for s in editing.delete_stage(empty, "extra")["stages"]] == [
        s["key"] for s in SMALL_WHEEL["stages"]
    ]


def test_a_card_sets_options_any_conditions_and_validation_and_the_draft_stays_valid(
    signed_in: Callable[[str | None], Any], app: Any, form_id: int
) -> None:
    marketer = signed_in("marketer")
    card = marketer.get(f"/workbench/sequences/{form_id}/questions/budget").get_data(as_text=True)
    assert 'value="small"' in card and "options-2-value" in card  # its options and a blank row to add one
    token = csrf_token(marketer, f"/workbench/sequences/{form_id}/questions/budget")
    data = {
        "csrf_token": token, "label_en": "Budget", "label_da": "Budget", "skippable": "y",
        "options-0-value": "small", "options-0-label_en": "Small", "options-0-label_da": "Lille",
        "options-1-value": "large", "options-1-label_en": "Large",
        "options-2-value": "", "options-2-label_en": "",
        "options-3-value": "huge", "options-3-label_en": "Huge",
        "match": "any",
        "conditions-0-field": "customer_type", "conditions-0-operator": "equals", "conditions-0-value": "b2b",
        "conditions-1-field": "company_size", "conditions-1-operator": "gte", "conditions-1-value": "100",
    }  # fmt: skip
    assert marketer.post(f"/workbench/sequences/{form_id}/questions/budget", data=data).status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        draft = session.get(SequenceDraft, form_id).document
    budget = load(draft).question("budget")
    assert [o.value for o in budget.options] == ["small", "large", "huge"] and budget.any_condition
    assert budget.applies({"company_size": 150}) and not budget.applies({"customer_type": "b2c"})

    token = csrf_token(marketer, f"/workbench/sequences/{form_id}")
    settings = {"csrf_token": token, "questions_per_visit": "2", "snooze_visits": "1", "max_reasks": "1"}
    assert marketer.post(f"/workbench/sequences/{form_id}/settings", data=settings).status_code == 302
    stage = {"csrf_token": token, "key": "extra", "label": "Extra"}
    assert marketer.post(f"/workbench/sequences/{form_id}/stages", data=stage).status_code == 302
    page = marketer.get(f"/workbench/sequences/{form_id}").get_data(as_text=True)
    assert "Per visit: 2 questions" in page and "Delete the empty stage extra" in page
    assert (
        marketer.post(f"/workbench/sequences/{form_id}/stages/extra/delete", data={"csrf_token": token}).status_code
        == 302
    )
    bad = marketer.post(
        f"/workbench/sequences/{form_id}/settings", data={"csrf_token": token, "questions_per_visit": "0"}
    )
    assert bad.status_code == 422


def test_after_a_change_that_breaks_the_draft_the_editor_opens_at_the_first_error(
    signed_in: Callable[[str | None], Any], form_id: int
) -> None:
    marketer = signed_in("marketer")
    moved = _post(
        marketer, f"/workbench/sequences/{form_id}/questions/email/move", form_id, where="up", anchor="#q-email"
    )
    assert moved.headers["Location"].endswith("#q-email")  # still valid: back at its card
    broken = _post(marketer, f"/workbench/sequences/{form_id}/questions/customer_type/delete", form_id)
    assert broken.headers["Location"].endswith("#q-company_size")  # its condition names the deleted question


def test_questions_sharing_a_field_are_pointed_out_on_their_cards(
    signed_in: Callable[[str | None], Any], form_id: int
) -> None:
    marketer = signed_in("marketer")
    added = _post(marketer, f"/workbench/sequences/{form_id}/questions", form_id,
                  stage="basics", key="email", kind="email", label="Work e-mail")  # fmt: skip
    assert added.status_code == 422 and "a question &#39;email&#39; exists already" in added.get_data(as_text=True)
    assert editing.shared_fields(
        {"stages": [{"questions": [{"key": "a", "field": "x"}, {"key": "b", "field": "x"}]}]}
    ) == {"a": ["b"], "b": ["a"]}
    document = editing.add_question(SMALL_WHEEL, "basics", "work_email", "email", "Work e-mail", "en")
    document["stages"][0]["questions"][-1]["field"] = "email"
    assert editing.shared_fields(document) == {"email": ["work_email"], "work_email": ["email"]}
