"""The shipped example sequences and the format reference: they load, are fully translated, and behave."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from profiling.document import FORMAT, MAX_OPTIONS, MAX_QUESTIONS, MAX_STAGES, MAX_TEXT, dumps, loads
from profiling.sequence import CORE_LOCALES, Operator, Question, QuestionType, Sequence
from profiling.wheel import Knowledge, Known, Plan, Snooze, Status, next_questions

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
REFERENCE = ROOT / "docs" / "sequence-format.md"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
BANT = ["basics", "need", "budget", "timeline", "authority"]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def example(name: str) -> Sequence:
    path = EXAMPLES / name
    return loads(path.read_text(encoding="utf-8"), path.name)


def texts_of(sequence: Sequence) -> Iterator[tuple[str, Mapping[str, str]]]:
    """Every visitor-facing text of a sequence, with where it is."""
    if sequence.thank_you:
        yield "thank_you", sequence.thank_you
    for stage in sequence.stages:
        yield f"{stage.key}.label", stage.labels
        for question in stage.questions:
            yield f"{question.key}.label", question.labels
            if question.help:
                yield f"{question.key}.help", question.help
            if question.consent is not None:
                yield f"{question.key}.consent", question.consent.texts
            for option in question.options:
                yield f"{question.key}.options.{option.value}", option.labels


def conditions(sequence: Sequence) -> list[tuple[str, Operator, Any]]:
    return [(c.field, c.operator, c.value) for _, q in sequence.questions() for c in q.conditions]


def test_the_three_examples_are_shipped() -> None:
    assert {p.name for p in EXAMPLE_FILES} >= {"b2b.yaml", "b2c.yaml", "demo.yaml"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_loads_and_is_fully_translated(path: Path) -> None:
    sequence = loads(path.read_text(encoding="utf-8"), path.name)
    assert sequence.stages and any(True for _ in sequence.questions())
    assert set(CORE_LOCALES) <= set(sequence.locales)
    assert sequence.thank_you, "an example shows a thank-you text"
    missing = [
        f"{where}: {', '.join(sorted(set(CORE_LOCALES) - set(texts)))}"
        for where, texts in texts_of(sequence)
        if not set(CORE_LOCALES) <= set(texts)
    ]
    assert not missing, "texts without every core locale:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_romanian_texts_use_comma_below_letters(path: Path) -> None:
    """ș and ț, not the cedilla look-alikes ş and ţ, and never bare ASCII where a word clearly needs them."""
    sequence = loads(path.read_text(encoding="utf-8"), path.name)
    romanian = " ".join(texts["ro"] for _, texts in texts_of(sequence))
    assert not re.search("[şţŞŢ]", romanian)
    assert re.search("[ăâîșț]", romanian)
    for ascii_word in ("multumim", "informatii", "intrebam", "stim "):
        assert ascii_word not in romanian.lower()


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_option_values_are_written_as_texts(path: Path) -> None:
    """YAML reads yes/no as booleans and 5000_20000 as a number: the examples quote or avoid them."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = [
        option["value"]
        for stage in raw["stages"]
        for question in stage["questions"]
        for option in question.get("options", [])
    ]
    assert values and all(isinstance(value, str) for value in values)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_examples_round_trip_through_dump(path: Path, fmt: str) -> None:
    sequence = loads(path.read_text(encoding="utf-8"), path.name)
    text = dumps(sequence, fmt)
    assert loads(text, f"exported.{fmt}") == sequence
    assert dumps(loads(text, f"exported.{fmt}"), fmt) == text


# --- demo ---------------------------------------------------------------------------------------


#: Contract B: the demo form's fields and option values, which the shipped default scoring model scores.
BOTH_PATHS: dict[str, tuple[str, ...] | QuestionType] = {
    "email": QuestionType.EMAIL,
    "first_name": QuestionType.TEXT,
    "customer_type": ("b2b", "b2c"),
    "buying_timeline": ("3m", "6m", "12m", "later"),
    "marketing_consent": QuestionType.CONSENT,
}
B2C_PATH: dict[str, tuple[str, ...] | QuestionType] = {
    "existing_customer": ("yes", "no"),
    "bought_before": ("yes", "no"),
    "looking_for": QuestionType.MULTI_SELECT,
    "offer_request": QuestionType.CHECKBOX,
}
B2B_PATH: dict[str, tuple[str, ...] | QuestionType] = {
    "company_name": QuestionType.TEXT,
    "job_title": QuestionType.TEXT,
    "company_size": QuestionType.NUMBER,
    "challenges": QuestionType.MULTI_SELECT,
    "switching_supplier": ("yes", "no"),
    "budget_range": ("lt_5k", "5k_20k", "20k_50k", "gt_50k", "unknown"),
    "decision_role": ("decision_maker", "influencer", "user", "other"),
    "demo_request": QuestionType.CHECKBOX,
}


def test_demo_asks_exactly_the_fields_and_options_the_default_model_scores() -> None:
    demo = example("demo.yaml")
    expected = {**BOTH_PATHS, **B2C_PATH, **B2B_PATH}
    by_field: dict[str, list[Question]] = {}
    for _, question in demo.questions():
        by_field.setdefault(question.field, []).append(question)
    assert set(by_field) == set(expected)
    for name, kind in expected.items():
        for question in by_field[name]:
            if isinstance(kind, QuestionType):
                assert question.type is kind, name
            else:
                assert question.option_values == kind, name
    email = demo.question("email")
    assert email is not None and email.rules.required and not email.skippable


def test_demo_walks_the_knowledge_wheel_a_few_questions_per_visit() -> None:
    demo = example("demo.yaml")
    assert [stage.key for stage in demo.stages] == ["basics", "need", "budget_timeline", "authority", "next_step"]
    assert demo.settings.questions_per_visit == 3
    assert set(demo.thank_you) >= set(CORE_LOCALES)


def test_demo_asks_who_the_visitor_buys_for_in_the_basics() -> None:
    demo = example("demo.yaml")
    basics = {q.key: q for q in demo.stages[0].questions}
    customer_type = basics["customer_type"]
    assert customer_type.type is QuestionType.RADIO
    assert customer_type.option_values == ("b2b", "b2c")
    assert not customer_type.conditions
    consent = next(q for _, q in demo.questions() if q.type is QuestionType.CONSENT)
    assert consent.consent is not None and consent.consent.version and consent.skippable


def test_every_path_question_names_its_path() -> None:
    """A question of one path carries that path's condition, so it can never reach the other path."""
    demo = example("demo.yaml")
    for path, fields in (("b2b", B2B_PATH), ("b2c", B2C_PATH)):
        for _, question in demo.questions():
            if question.field in fields:
                assert ("customer_type", Operator.EQUALS, path) in [
                    (c.field, c.operator, c.value) for c in question.conditions
                ], question.key


def answer(question: Question, chosen: Mapping[str, Any]) -> Any:
    """A plausible clean value for ``question`` (the value the forms layer would store)."""
    if question.field in chosen:
        return chosen[question.field]
    if question.type is QuestionType.NUMBER:
        return 10
    if question.type is QuestionType.MULTI_SELECT:
        return [question.option_values[0]]
    if question.type.has_options:
        return question.option_values[0]
    if question.type in (QuestionType.CHECKBOX, QuestionType.CONSENT):
        return True
    if question.type is QuestionType.EMAIL:
        return "ada@example.com"
    if question.type is QuestionType.TEL:
        return "+45 12 34 56 78"
    return "Ada"


def walk(sequence: Sequence, chosen: Mapping[str, Any], now: datetime = NOW) -> tuple[list[Plan], dict[str, Known]]:
    """Answer every question the wheel asks, one visit after another, until it is complete."""
    fields: dict[str, Known] = {}
    plans: list[Plan] = []
    for visit in range(1, 30):
        plan = next_questions(sequence, Knowledge(fields=dict(fields), visit=visit), now)
        plans.append(plan)
        if plan.status is Status.COMPLETE:
            return plans, fields
        assert plan.status is Status.ASKING
        assert 1 <= len(plan.questions) <= sequence.settings.questions_per_visit
        assert len({q.field for q in plan.questions}) == len(plan.questions)
        for question in plan.questions:
            fields[question.field] = Known(answer(question, chosen), now)
    raise AssertionError("the wheel never completed")


def asked(plans: list[Plan]) -> list[str]:
    return [q.key for plan in plans for q in plan.questions]


def test_demo_first_visit_asks_email_name_and_customer_type() -> None:
    plan = next_questions(example("demo.yaml"), Knowledge(), NOW)
    assert plan.status is Status.ASKING
    assert [q.key for q in plan.questions] == ["email", "first_name", "customer_type"]
    assert plan.current_stage == 0


def fields_asked(plans: list[Plan]) -> set[str]:
    return {q.field for plan in plans for q in plan.questions}


def test_demo_asks_a_business_visitor_the_b2b_path_and_nothing_of_the_b2c_path() -> None:
    demo = example("demo.yaml")
    plans, known = walk(demo, {"customer_type": "b2b", "company_size": 120, "buying_timeline": "3m"})
    assert fields_asked(plans) == set(BOTH_PATHS) | set(B2B_PATH)
    assert len(asked(plans)) == len(set(asked(plans))), "no question is asked twice"
    assert "buying_timeline" in asked(plans) and "purchase_timeline" not in asked(plans)
    assert known["buying_timeline"].value == "3m"
    assert len(plans) >= 5, "a few questions per visit, not all at once"


def test_demo_asks_a_household_visitor_the_b2c_path_and_nothing_of_the_b2b_path() -> None:
    demo = example("demo.yaml")
    plans, known = walk(demo, {"customer_type": "b2c", "existing_customer": "no", "looking_for": ["machine"]})
    assert fields_asked(plans) == set(BOTH_PATHS) | set(B2C_PATH)
    assert len(asked(plans)) == len(set(asked(plans))), "no question is asked twice"
    assert "purchase_timeline" in asked(plans) and "buying_timeline" not in asked(plans)
    assert known["buying_timeline"].value == "3m"  # the B2C question fills the same field


def test_demo_both_paths_start_with_the_same_basics_and_then_part() -> None:
    demo = example("demo.yaml")
    b2b_plans, _ = walk(demo, {"customer_type": "b2b"})
    b2c_plans, _ = walk(demo, {"customer_type": "b2c"})
    assert b2b_plans[0].questions == b2c_plans[0].questions
    assert [q.key for q in b2b_plans[0].questions] == ["email", "first_name", "customer_type"]
    assert not {q.key for q in b2b_plans[1].questions} & {q.key for q in b2c_plans[1].questions}


def test_demo_asks_whether_they_bought_before_only_when_not_a_customer_now() -> None:
    demo = example("demo.yaml")
    customer, _ = walk(demo, {"customer_type": "b2c", "existing_customer": "yes"})
    newcomer, _ = walk(demo, {"customer_type": "b2c", "existing_customer": "no"})
    assert "bought_before" not in asked(customer)
    assert "bought_before" in asked(newcomer)


def test_demo_holds_back_path_questions_until_the_customer_type_is_known() -> None:
    """A condition on an unknown field is false: B2B and B2C questions wait while customer_type is snoozed."""
    demo = example("demo.yaml")
    conditional = {q.key for _, q in demo.questions() if any(c.field == "customer_type" for c in q.conditions)}
    fields = {"email": Known("ada@example.com", NOW), "first_name": Known("Ada", NOW)}
    snoozed = {"customer_type": Snooze(skips=1, last_visit=1)}
    for visit in range(2, 10):
        plan = next_questions(demo, Knowledge(fields=dict(fields), snoozes=snoozed, visit=visit), NOW)
        keys = [q.key for q in plan.questions]
        assert plan.status is Status.ASKING and not conditional & set(keys)
        if "customer_type" in keys:
            assert visit >= 1 + demo.settings.snooze_visits
            break
        for question in plan.questions:
            fields[question.field] = Known(answer(question, {}), NOW)
    else:
        raise AssertionError("the snoozed question never came back")


# --- b2b and b2c --------------------------------------------------------------------------------


def test_b2b_follows_bant_and_asks_the_timeline_again_when_it_goes_stale() -> None:
    b2b = example("b2b.yaml")
    assert [stage.key for stage in b2b.stages] == BANT
    email = b2b.question("email")
    assert email is not None and email.type is QuestionType.EMAIL and email.rules.required
    timeline = next(q for q in b2b.stages[BANT.index("timeline")].questions if q.freshness_days)
    assert timeline.type is QuestionType.RADIO and timeline.freshness_days == 90
    assert {"3m", "6m", "12m"} <= set(timeline.option_values)
    assert "3" in timeline.labels["en"] and "12" in timeline.labels["da"]
    budget = b2b.stages[BANT.index("budget")].questions[0]
    assert budget.type is QuestionType.SELECT and len(budget.options) >= 3
    role = b2b.question("decision_role")
    assert role is not None and {"decision_maker", "influencer", "user"} <= set(role.option_values)
    assert ("company_size", Operator.GTE, 50) in conditions(b2b)
    assert any(q.type is QuestionType.CONSENT and q.consent for _, q in b2b.questions())

    plans, fields = walk(b2b, {"company_size": 200, "buying_timeline": "3m"})
    assert "procurement" in asked(plans) and "demo_request" in asked(plans)
    later = Knowledge(fields=fields, visit=len(plans) + 1)
    assert next_questions(b2b, later, NOW + timedelta(days=89)).status is Status.COMPLETE
    stale = next_questions(b2b, later, NOW + timedelta(days=91))
    assert [q.key for q in stale.questions] == [timeline.key]


def test_b2c_asks_customers_and_newcomers_different_things() -> None:
    b2c = example("b2c.yaml")
    customer = b2c.question("already_customer")
    assert customer is not None and customer.type is QuestionType.RADIO
    assert customer.option_values == ("yes", "no")
    looking_for = b2c.question("looking_for")
    assert looking_for is not None and looking_for.type is QuestionType.MULTI_SELECT
    types = {q.type for _, q in b2c.questions()}
    assert {QuestionType.EMAIL, QuestionType.CONSENT, QuestionType.TEL} <= types

    existing, _ = walk(b2c, {"already_customer": "yes", "looking_for": ["solar_panels"]})
    new, _ = walk(b2c, {"already_customer": "no", "looking_for": ["heat_pump"], "marketing_consent": True})
    assert "customer_number" in asked(existing) and "heard_about_us" not in asked(existing)
    assert "heard_about_us" in asked(new) and "customer_number" not in asked(new)
    assert "roof_orientation" in asked(existing) and "roof_orientation" not in asked(new)


# --- the format reference -----------------------------------------------------------------------


def fenced(language: str) -> list[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_yaml_blocks_in_the_reference_parse_and_whole_documents_load() -> None:
    blocks = fenced("yaml")
    assert blocks
    for block in blocks:
        yaml.safe_load(block)  # every excerpt is at least valid YAML
    documents = [block for block in blocks if block.startswith("format:")]
    assert documents, "the reference shows at least one complete document"
    for document in documents:
        sequence = loads(document, "reference.yaml")
        assert loads(dumps(sequence), "again.yaml") == sequence


def test_reference_names_every_type_operator_and_limit() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for name in [t.value for t in QuestionType] + [op.value for op in Operator]:
        assert f"`{name}`" in text, name
    keys = ["questions_per_visit", "email_first", "snooze_visits", "max_reasks", "freshness_days", "consent_version"]
    keys += ["skippable", "required", "min_length", "max_length", "min", "max", "pattern", "min_choices", "max_choices"]
    for key in keys:
        assert f"`{key}`" in text, key
    assert f"`{FORMAT}`" in text
    for limit in (MAX_STAGES, MAX_QUESTIONS, MAX_OPTIONS, MAX_TEXT):
        assert f"| {limit} |" in text, limit


def test_reference_mentions_only_cli_options_that_exist() -> None:
    from capture.cli.main import main

    sequence_group: Any = main.commands["sequence"]
    lines = [
        line.removeprefix("$ ")
        for block in fenced("console")
        for line in block.splitlines()
        if line.startswith("$ leadwheel sequence ")
    ]
    assert {line.split()[2] for line in lines} >= {"validate", "import", "export"}
    for line in lines:
        command = sequence_group.commands[line.split()[2]]
        known = {opt for param in command.params for opt in param.opts}
        used = {word for word in line.split() if word.startswith("-")}
        assert used <= known, f"{line}: {used - known}"
