"""Public JSON API under /api/v1: ask for the next questions, answer them, report behaviour.

Requests are CORS-"simple" (POST with a text/plain JSON body), so browsers
send no preflight; the Origin header is still checked here against the site's
allowed origins, and a foreign origin gets 403 with no CORS headers at all.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from capture.db.json_text import NotStrictJSON, loads_strict
from capture.privacy.consent_requests import current, from_back_end, give
from capture.privacy.person import NoSuchPerson
from capture.privacy.requests import erase_request, export_request, who_of
from capture.privacy.standing import purpose_of_field
from capture.qualifying.outcomes import Outcomes, lead_for_sales
from capture.services import Services
from capture.sites.api_tokens import authenticate
from capture.web.errors import Refused, not_found
from capture.web.presenting import asked_json
from profiling.sequence import QuestionType, Sequence

api = Blueprint("api", __name__, url_prefix="/api/v1")

FORM_PATH = "/sites/<site_key>/forms/<slug>"


def services() -> Services:
    return current_app.extensions["leadwheel"]  # type: ignore[no-any-return]


#: a path value that cannot name a site or form: refused before it reaches a query (PostgreSQL refuses NUL with a 500)
_NO_SUCH = {
    "site_key": ("site_not_found", "No site has this key."),
    "slug": ("form_not_found", "This site has no published form with that name."),
}


@api.url_value_preprocessor
def _check_path_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
    for name, value in (values or {}).items():
        if name in _NO_SUCH and isinstance(value, str) and not _storable_key(value):
            raise not_found(*_NO_SUCH[name])


def _storable_key(value: str) -> bool:
    """At most 200 characters (as documented), without NUL and encodable as UTF-8."""
    try:
        return len(value) <= 200 and "\x00" not in value and bool(value.encode("utf-8"))
    except UnicodeEncodeError:
        return False


def _check_origin(site_key: str) -> None:
    """Refuse a browser request from an origin the site does not list."""
    site = services().catalog.site(site_key)
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a cross-origin browser request (server, CLI, same-origin tool)
    if origin not in site.allowed_origins:
        raise Refused(403, "origin_not_allowed", "This site does not allow forms on this origin.")
    g.cors_origin = origin


def _read_body() -> bytes:
    """The body, refused with 413 beyond MAX_CONTENT_LENGTH however it is sent.

    With a Content-Length, Werkzeug refuses an oversized body before reading it.
    A chunked body has none, and Werkzeug's stream then stops quietly at the
    limit: the cut-off body was read as malformed JSON (or kept, had it ended
    well). Read the server's own stream instead, one byte beyond the limit, to
    tell a body of the limit from a longer one, without ever holding more.
    """
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)  # no length and no server-ended stream: Werkzeug reads nothing
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def _json_body() -> dict[str, Any]:
    """The request body as a JSON object, whatever the content type says (text/plain keeps CORS simple)."""
    raw = _read_body()
    if not raw:
        return {}
    try:
        body = loads_strict(raw)
    except NotStrictJSON as exc:
        raise Refused(400, "malformed_json", str(exc)) from None
    if not isinstance(body, dict):
        raise Refused(400, "malformed_json", "The request body must be a JSON object.")
    return body


@api.after_request
def _cors(response: Response) -> Response:
    origin = g.get("cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Max-Age"] = "86400"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers.add("Vary", "Origin")
    response.headers["Cache-Control"] = "no-store"
    return response


@api.route(FORM_PATH + "/ask", methods=["OPTIONS"])
@api.route(FORM_PATH + "/answers", methods=["OPTIONS"])
@api.route("/sites/<site_key>/identify", methods=["OPTIONS"])
@api.route("/sites/<site_key>/identify/ticket", methods=["OPTIONS"])
@api.route("/sites/<site_key>/events", methods=["OPTIONS"])
@api.route("/sites/<site_key>/consent", methods=["OPTIONS"])
def preflight(site_key: str, slug: str | None = None) -> Response:
    _check_origin(site_key)
    return Response(status=204)


@api.post(FORM_PATH + "/ask")
def ask(site_key: str, slug: str) -> Response:
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    form = svc.catalog.form(site_key, slug)
    asked = svc.visits.ask(form, body.get("visitor"), body.get("locale"), svc.clock(), more=body.get("more") is True)
    return jsonify(asked_json(asked))


@api.post(FORM_PATH + "/answers")
def answer(site_key: str, slug: str) -> tuple[Response, int]:
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    form = svc.catalog.form(site_key, slug)
    stored, asked = svc.visits.answer(form, body, svc.clock())
    reply = {"stored": stored, **asked_json(asked)}
    if _grants_tracking(form.sequence, body.get("answers")):
        reply["tracking"] = True  # a ticked tracking consent question: the snippet may now keep its token
    return jsonify(reply), 201


def _grants_tracking(sequence: Sequence, answers: Any) -> bool:
    """Whether the stored answers include a ticked consent question whose purpose is behaviour tracking."""
    if not isinstance(answers, dict):
        return False
    for key, value in answers.items():
        question = sequence.question(key) if isinstance(key, str) else None
        if value is True and question is not None and question.type == QuestionType.CONSENT:
            if purpose_of_field(question.field) == "behaviour_tracking":
                return True
    return False


@api.post("/sites/<site_key>/identify/ticket")
def identify_ticket(site_key: str) -> Response:
    """A ticket for one ``identify`` without ``user_hash``: it then has an answer's bot defences."""
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    ticket, visitor = svc.visits.identify_ticket(svc.catalog.site(site_key), body.get("visitor"), svc.clock())
    min_fill_ms = round(svc.visits.tokens.min_fill_time.total_seconds() * 1000)
    return jsonify({"ticket": ticket, "min_fill_ms": min_fill_ms, "visitor": visitor})


@api.post("/sites/<site_key>/identify")
def identify(site_key: str) -> Response:
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    token = svc.visits.identify(svc.catalog.site(site_key), body, svc.clock())
    return jsonify({"visitor": token})


@api.post("/sites/<site_key>/events")
def browser_events(site_key: str) -> tuple[Response, int]:
    """Behaviour from the snippet: a batch of events of one visitor."""
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    stored, token = svc.behaviour.from_browser(svc.catalog.site(site_key), body, svc.clock())
    reply = {"accepted": stored.accepted, "duplicates": stored.duplicates, "refused": stored.refused, "visitor": token}
    return jsonify(reply), 202


@api.post("/sites/<site_key>/consent")
def give_consent(site_key: str) -> tuple[Response, int]:
    """A visitor's consent per purpose from the host page's banner (``leadwheel('consent', …)``), with its text."""
    _check_origin(site_key)
    body = _json_body()
    svc = services()
    base = svc.config.public_url or request.url_root
    reply = give(svc.db, svc.tokens, svc.catalog.site(site_key), body, svc.clock(), svc.config, base)
    return jsonify(reply), 201


@api.get("/sites/<site_key>/consent")
def read_consent(site_key: str) -> Response:
    """A visitor's standing per purpose (``?visitor=`` its token)."""
    _check_origin(site_key)
    svc = services()
    site = svc.catalog.site(site_key)
    return jsonify(current(svc.db, svc.tokens, site, request.args.get("visitor"), svc.clock()))


@api.post("/events")
def system_events() -> tuple[Response, int]:
    """Behaviour from back-end systems (an ESP's opens and clicks, webinar sign-ups, calls), with an API token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "events")
    body = _json_body()
    stored = svc.behaviour.from_system(caller, body, svc.clock())
    return jsonify({"accepted": stored.accepted, "duplicates": stored.duplicates}), 202


@api.post("/leads/outcomes")
def lead_outcomes() -> tuple[Response, int]:
    """Sales feedback from a CRM (accepted, rejected, opportunity, won, lost), with a `sales` token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "sales")
    body = _json_body()
    recorded = Outcomes(svc.db).record(caller, body, svc.clock())
    return jsonify({"recorded": recorded}), 201


@api.post("/leads/consent")
def lead_consent() -> tuple[Response, int]:
    """Consent a back end took down for a lead of its site (source ``api``), with a `sales` token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "sales")
    body = _json_body()
    base = svc.config.public_url or request.url_root
    return jsonify(from_back_end(svc.db, caller, body, svc.clock(), svc.config, base)), 201


@api.post("/leads/export")
def lead_export() -> Response:
    """Everything held about one person of the token's site, as one JSON document; with a `privacy` token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "privacy")
    now = svc.clock()
    try:
        return jsonify(export_request(svc.db, who_of(_json_body(), svc.tokens, now), now, caller.site_id))
    except NoSuchPerson:
        raise Refused(404, "lead_not_found", "No lead of this token's site has this e-mail, id or browser.") from None


@api.post("/leads/erase")
def lead_erase() -> Response:
    """Erase one person of the token's site from every table; with a `privacy` token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "privacy")
    now = svc.clock()
    try:
        erased, _scrubbed = erase_request(svc.db, who_of(_json_body(), svc.tokens, now), now, "api", caller.site_id)
    except NoSuchPerson:
        raise Refused(404, "lead_not_found", "No lead of this token's site has this e-mail, id or browser.") from None
    return jsonify({"erasure": erased.as_json()})


@api.get("/leads/<int:lead_id>")
def sales_lead(lead_id: int) -> Response:
    """A lead as sales sees it: stage, scores and why, owner, outcomes; with a `sales` token."""
    svc = services()
    caller = authenticate(svc.db, request.headers.get("Authorization"), "sales")
    return jsonify(lead_for_sales(svc.db, caller, lead_id))


@api.get("/openapi.json")
def openapi() -> Response:
    from capture.web.openapi import document

    return jsonify(document())


@api.get("/health")
def health() -> Response:
    return jsonify({"status": "ok"})
