"""The snippet's own words (its buttons and messages), sent with every ask and answer in the visitor's language.

Kept here rather than in static/embed.js, so a visitor's browser downloads one
language instead of all of them, and a translator finds them beside the rest of
the server's texts. The questions' own texts come from the sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "send": "Send",
        "sending": "Sending…",
        "required": "required",
        "check": "Please check the highlighted answers.",
        "fail": "Could not send your answers. Check your connection and try again.",
        "retry": "Retry",
        "thanks": "Thank you!",
        "skip": "Not now",
        "forget": "Not you?",
        "step": "Step {0} of {1}",
        "more": "Tell us more now",
    },
    "da": {
        "send": "Send",
        "sending": "Sender…",
        "required": "påkrævet",
        "check": "Tjek venligst de markerede svar.",
        "fail": "Dine svar kunne ikke sendes. Tjek din forbindelse, og prøv igen.",
        "retry": "Prøv igen",
        "thanks": "Tak!",
        "skip": "Ikke nu",
        "forget": "Ikke dig?",
        "step": "Trin {0} af {1}",
        "more": "Fortæl os mere nu",
    },
    "nb": {
        "send": "Send",
        "sending": "Sender…",
        "required": "obligatorisk",
        "check": "Se over svarene som er markert.",
        "fail": "Vi fikk ikke sendt svarene dine. Sjekk tilkoblingen og prøv igjen.",
        "retry": "Prøv igjen",
        "thanks": "Takk!",
        "skip": "Ikke nå",
        "forget": "Ikke deg?",
        "step": "Steg {0} av {1}",
        "more": "Fortell oss mer nå",
    },
    "ro": {
        "send": "Trimite",
        "sending": "Se trimite…",
        "required": "obligatoriu",
        "check": "Vă rugăm să verificați răspunsurile marcate.",
        "fail": "Nu am putut trimite răspunsurile. Verificați conexiunea și încercați din nou.",
        "retry": "Încercați din nou",
        "thanks": "Mulțumim!",
        "skip": "Nu acum",
        "forget": "Nu sunteți dumneavoastră?",
        "step": "Pasul {0} din {1}",
        "more": "Spuneți-ne mai multe acum",
    },
}
#: Norwegian, Nynorsk and plain "no", read as Bokmål
_SAME_AS = {"no": "nb", "nn": "nb"}


def snippet_words(locale: str) -> Mapping[str, str]:
    """The snippet's words in ``locale`` (a tag such as ``da-DK`` reads as its language), else in English."""
    language = locale.replace("_", "-").split("-")[0].lower()
    return WORDS.get(_SAME_AS.get(language, language), WORDS["en"])
