"""The page a marketing consent's double opt-in link opens: the mailbox's owner confirms the consent.

As for an address's confirmation (capture/web/confirm_page.py): a GET only shows
a button and the POST confirms, because mail scanners fetch every link and a
consent a scanner gave is no consent.
"""

from __future__ import annotations

from flask import Blueprint

from capture.privacy.consent import confirm, pending_locale, read_link_token
from capture.web.confirm_page import link_pages

consent_page = Blueprint("consent_page", __name__)

_TEXTS = {
    "en": {
        "title": "Confirm your consent",
        "ask": "Press Confirm to receive our marketing e-mails.",
        "button": "Confirm",
        "confirmed": "Thank you. Your consent is confirmed.",
        "already": "This link has been used, or your choice has changed since. Thank you.",
        "bad": "This link is not valid or has expired.",
    },
    "da": {
        "title": "Bekræft dit samtykke",
        "ask": "Tryk på Bekræft for at modtage vores markedsføringsmails.",
        "button": "Bekræft",
        "confirmed": "Tak. Dit samtykke er bekræftet.",
        "already": "Linket er brugt, eller dit valg er ændret siden. Tak.",
        "bad": "Linket er ugyldigt eller udløbet.",
    },
    "nb": {
        "title": "Bekreft samtykket ditt",
        "ask": "Trykk på Bekreft for å motta markedsføringse-post fra oss.",
        "button": "Bekreft",
        "confirmed": "Takk. Samtykket ditt er bekreftet.",
        "already": "Lenken er brukt, eller valget ditt er endret siden. Takk.",
        "bad": "Lenken er ugyldig eller utløpt.",
    },
    "ro": {
        "title": "Confirmați consimțământul",
        "ask": "Apăsați Confirm pentru a primi e-mailurile noastre de marketing.",
        "button": "Confirm",
        "confirmed": "Vă mulțumim. Consimțământul este confirmat.",
        "already": "Linkul a fost folosit sau alegerea dumneavoastră s-a schimbat între timp. Vă mulțumim.",
        "bad": "Linkul nu este valid sau a expirat.",
    },
}


link_pages(
    consent_page,
    "/consent/confirm",
    _TEXTS,
    read_link_token,
    pending_locale,
    lambda svc, record_id, now: svc.db.run(lambda connection: confirm(connection, record_id, now)),
)
