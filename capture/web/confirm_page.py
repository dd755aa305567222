"""The page a confirmation link opens: the mailbox's owner confirms that a claimed address is theirs.

A GET only shows a button; the POST it sends confirms. Mail scanners and link
previews fetch every link in a mail, and a confirmation that a GET made would
be one nobody gave. The token in the path is the only credential (signed,
seven days, naming one claim), so the pages load nothing from elsewhere and
send no referrer that could carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Blueprint, Response, current_app, make_response, render_template
from sqlalchemy import Connection

from capture.config import Config
from capture.leads.claims import claim_locale, read_link_token
from capture.leads.confirmations import confirm_claim
from capture.mail_links import language
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


def link_pages(
    blueprint: Blueprint,
    path: str,
    texts: Mapping[str, Mapping[str, str]],
    read: Callable[[Config, str], int | None],
    locale_of: Callable[[Connection, int], str | None],
    confirm: Callable[[Services, int, datetime], str],
) -> None:
    """The GET (a button) and POST (the confirmation) of a mailed link at ``path + "/<token>"``.

    ``read`` turns the link's token into the row it names, ``locale_of`` gives the row's language
    (None: the row is gone) and ``confirm`` does the work, answering "confirmed", "unknown" or
    anything else for a link used already.
    """

    def page(state: str, locale: str | None, status: int = 200) -> Response:
        lang = language(locale)
        return confirmation_page(lang, dict(texts[lang]), state, status)

    def named(token: str) -> tuple[int | None, str | None]:
        svc: Services = current_app.extensions["leadwheel"]
        row_id = read(svc.config, token)
        if row_id is None:
            return None, None
        with svc.db.read_connection() as connection:
            return row_id, locale_of(connection, row_id)

    def show(token: str) -> Response:
        row_id, locale = named(token)
        return page("bad", None, 404) if row_id is None or locale is None else page("ask", locale)

    def confirmed(token: str) -> Response:
        row_id, locale = named(token)
        if row_id is None or locale is None:
            return page("bad", None, 404)
        svc: Services = current_app.extensions["leadwheel"]
        outcome = confirm(svc, row_id, svc.clock())
        if outcome == "unknown":
            return page("bad", locale, 404)
        return page("confirmed" if outcome == "confirmed" else "already", locale)

    blueprint.add_url_rule(f"{path}/<token>", "show", show, methods=["GET"])
    blueprint.add_url_rule(f"{path}/<token>", "confirmed", confirmed, methods=["POST"])


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


link_pages(
    confirm,
    "/confirm",
    _TEXTS,
    read_link_token,
    claim_locale,
    lambda svc, claim_id, now: svc.db.run(lambda c: confirm_claim(c, claim_id, now, "link", svc.catalog.scoring_model)),
)
