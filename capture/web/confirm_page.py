"""The page a confirmation link opens: the mailbox's owner confirms that a claimed address is theirs.

A GET only shows a button; the POST it sends confirms. Mail scanners and link
previews fetch every link in a mail, and a confirmation that a GET made would
be one nobody gave. The token in the path is the only credential (signed,
seven days, naming one claim), so the pages load nothing from elsewhere and
send no referrer that could carry it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template

from capture.leads.claims import claim_locale, language, read_link_token
from capture.leads.confirmations import confirm_claim
from capture.services import Services

confirm = Blueprint("confirm", __name__, template_folder="templates")

_TEXTS = {
    "en": {
        "title": "Confirm your e-mail address",
        "ask": "Press Confirm to tell us that this address is yours.",
        "button": "Confirm",
        "confirmed": "Thank you. Your e-mail address is confirmed.",
        "already": "This address is already confirmed. Thank you.",
        "bad": "This link is not valid or has expired.",
    },
    "da": {
        "title": "Bekræft din e-mailadresse",
        "ask": "Tryk på Bekræft for at fortælle os, at adressen er din.",
        "button": "Bekræft",
        "confirmed": "Tak. Din e-mailadresse er bekræftet.",
        "already": "Adressen er allerede bekræftet. Tak.",
        "bad": "Linket er ugyldigt eller udløbet.",
    },
    "nb": {
        "title": "Bekreft e-postadressen din",
        "ask": "Trykk på Bekreft for å fortelle oss at adressen er din.",
        "button": "Bekreft",
        "confirmed": "Takk. E-postadressen din er bekreftet.",
        "already": "Adressen er allerede bekreftet. Takk.",
        "bad": "Lenken er ugyldig eller utløpt.",
    },
    "ro": {
        "title": "Confirmați adresa de e-mail",
        "ask": "Apăsați Confirm pentru a ne spune că adresa vă aparține.",
        "button": "Confirm",
        "confirmed": "Vă mulțumim. Adresa de e-mail este confirmată.",
        "already": "Adresa este deja confirmată. Vă mulțumim.",
        "bad": "Linkul nu este valid sau a expirat.",
    },
}


def _services() -> Services:
    return current_app.extensions["leadwheel"]  # type: ignore[no-any-return]


def _page(state: str, locale: str | None, status: int = 200) -> Response:
    lang = language(locale)
    return confirmation_page(lang, _TEXTS[lang], state, status)


def confirmation_page(lang: str, text: dict[str, str], state: str, status: int = 200) -> Response:
    """A link's page (``ask``: a button that POSTs; else ``text[state]``), loading nothing from elsewhere."""
    response = make_response(render_template("confirm.html", lang=lang, text=text, state=state), status)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _claim_of(token: str) -> tuple[int | None, str | None]:
    svc = _services()
    claim_id = read_link_token(svc.config, token) if len(token) <= 512 else None
    if claim_id is None:
        return None, None
    with svc.db.read_connection() as connection:
        return claim_id, claim_locale(connection, claim_id)


@confirm.get("/confirm/<token>")
def show(token: str) -> Response:
    claim_id, locale = _claim_of(token)
    if claim_id is None or locale is None:
        return _page("bad", None, 404)
    return _page("ask", locale)


@confirm.post("/confirm/<token>")
def confirmed(token: str) -> Response:
    claim_id, locale = _claim_of(token)
    if claim_id is None or locale is None:
        return _page("bad", None, 404)
    svc = _services()
    now = svc.clock()
    outcome = svc.db.run(lambda c: confirm_claim(c, claim_id, now, "link", svc.catalog.scoring_model))
    return _page("confirmed" if outcome == "confirmed" else "already", locale)
