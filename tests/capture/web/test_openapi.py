"""The OpenAPI document describes every route, and the API keeps its promises under fuzzing."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from capture.web.openapi import document
from tests.conftest import ROOT


def test_every_api_route_is_documented(app: Any) -> None:
    documented = {
        (path, method.upper())
        for path, operations in document()["paths"].items()
        for method in operations
        if method != "parameters"
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD"}:
            if method == "OPTIONS" and rule.endpoint != "api.preflight":
                continue  # Flask's automatic OPTIONS
            routed.add((path, method))
    assert routed == documented


def test_the_document_is_served_and_valid_openapi_3_1(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(body)
    assert len(list(schema.get_all_operations())) >= 4


@pytest.fixture
def fuzz_app(app: Any, publish_form: Any) -> Any:
    """The app with a real site and form, so fuzzing reaches past the 404s."""
    published = publish_form()
    app.config["fuzz_site_key"] = published.site_key
    return app


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(fuzz_app: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    site_key = fuzz_app.config["fuzz_site_key"]
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(), real_form=st.sampled_from([True, True, False]))
        def check(case: Any, real_form: bool) -> None:
            if real_form and case.path_parameters and "site_key" in case.path_parameters:
                # Two cases in three go to a real form, so fuzzing reaches past the 404s.
                case.path_parameters.update(site_key=site_key, slug="wheel")
            # A well-formed but forged ticket, or a page_url on ftp://, is schema-valid and rightly
            # refused (422): the schema cannot express "signed by us", so that one check is off.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n".join(failures)


def _codes_raised() -> set[str]:
    """Every error code the code can answer with: the literal codes of each refusal it builds."""
    import ast

    from capture.web.api import _NO_SUCH
    from capture.web.app import _HTTP_CODES

    makers = {"invalid", "not_found", "Refused", "TicketRefused", "_error"}
    codes = set(_HTTP_CODES.values()) | {code for code, _message in _NO_SUCH.values()} | {"http_error"}
    for path in [*(ROOT / "capture").rglob("*.py"), *(ROOT / "profiling").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in makers:
                literal = next(
                    (a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)), None
                )
                if literal is not None:
                    codes.add(literal)
    return codes


def test_every_error_code_the_code_raises_is_documented_and_no_other() -> None:
    document = yaml.safe_load((ROOT / "capture" / "web" / "openapi.yaml").read_text(encoding="utf-8"))
    code = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    documented = set(code["enum"])
    assert _codes_raised() == documented
    for name in documented:  # and each says what it means
        assert f"`{name}`:" in code["description"], name


def _json_contents(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, JSON pointer of the content, content) for each JSON request body and success response."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            base = "/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                found.append(
                    (f"{operation['operationId']} request", base + "/requestBody/content/application~1json", body)
                )
            for status, response in operation["responses"].items():
                content = (response.get("content") or {}).get("application/json")
                if status.startswith("2") and content is not None:
                    where = f"{operation['operationId']} {status}"
                    found.append((where, f"{base}/responses/{status}/content/application~1json", content))
    return found


def test_every_operation_shows_a_real_example_of_what_it_takes_and_answers() -> None:
    """Examples were taken from a real exchange with the service; they must stay valid as the schemas move."""
    import jsonschema

    document = yaml.safe_load((ROOT / "capture" / "web" / "openapi.yaml").read_text(encoding="utf-8"))
    contents = _json_contents(document)
    assert len(contents) >= 16
    for where, pointer, content in contents:
        if where.startswith("openapi "):
            continue  # the document itself
        assert "example" in content, f"{where} has no example"
        root = {**document, "$ref": f"#{pointer}/schema"}  # the document is the root, so its $refs resolve
        jsonschema.Draft202012Validator(root).validate(content["example"])
