"""What a visitor is told when an answer cannot be taken, in their language.

Messages carry a stable ``code`` next to the localised text, so the API, the
embed script and the tests can tell *which* check failed without parsing
prose. WTForms ships no Danish catalogue, so every message a visitor can see
is kept here, in the four languages the product promises, and handed to the
WTForms validators explicitly.
"""

from __future__ import annotations

from typing import Any

FALLBACK_LOCALE = "en"

CATALOG: dict[str, dict[str, str]] = {
    "required": {
        "en": "Please answer this question.",
        "da": "Besvar venligst dette spørgsmål.",
        "nb": "Svar på dette spørsmålet.",
        "ro": "Vă rugăm să răspundeți la această întrebare.",
    },
    "text_expected": {
        "en": "Please enter text.",
        "da": "Skriv venligst en tekst.",
        "nb": "Skriv inn en tekst.",
        "ro": "Vă rugăm să introduceți un text.",
    },
    "too_short": {
        "en": "Please enter at least {min} characters.",
        "da": "Skriv mindst {min} tegn.",
        "nb": "Skriv minst {min} tegn.",
        "ro": "Introduceți cel puțin {min} caractere.",
    },
    "too_long": {
        "en": "Please keep it to {max} characters or fewer.",
        "da": "Skriv højst {max} tegn.",
        "nb": "Skriv høyst {max} tegn.",
        "ro": "Introduceți cel mult {max} caractere.",
    },
    "pattern": {
        "en": "This is not in the expected format.",
        "da": "Dette har ikke det forventede format.",
        "nb": "Dette har ikke forventet format.",
        "ro": "Valoarea nu are formatul așteptat.",
    },
    "email": {
        "en": "Please enter a valid e-mail address.",
        "da": "Angiv en gyldig e-mailadresse.",
        "nb": "Oppgi en gyldig e-postadresse.",
        "ro": "Introduceți o adresă de e-mail validă.",
    },
    "tel": {
        "en": "Please enter a phone number: digits, spaces, + - ( ) only.",
        "da": "Angiv et telefonnummer: kun cifre, mellemrum og + - ( ).",
        "nb": "Oppgi et telefonnummer: bare sifre, mellomrom og + - ( ).",
        "ro": "Introduceți un număr de telefon: doar cifre, spații și + - ( ).",
    },
    "number": {
        "en": "Please enter a number.",
        "da": "Angiv et tal.",
        "nb": "Oppgi et tall.",
        "ro": "Introduceți un număr.",
    },
    "below_min": {
        "en": "Please enter a number of at least {min}.",
        "da": "Angiv et tal på mindst {min}.",
        "nb": "Oppgi et tall på minst {min}.",
        "ro": "Introduceți un număr de cel puțin {min}.",
    },
    "above_max": {
        "en": "Please enter a number of at most {max}.",
        "da": "Angiv et tal på højst {max}.",
        "nb": "Oppgi et tall på høyst {max}.",
        "ro": "Introduceți un număr de cel mult {max}.",
    },
    "choice": {
        "en": "Please choose one of the options.",
        "da": "Vælg en af mulighederne.",
        "nb": "Velg ett av alternativene.",
        "ro": "Alegeți una dintre opțiuni.",
    },
    "too_few_choices": {
        "en": "Please choose at least {min}.",
        "da": "Vælg mindst {min}.",
        "nb": "Velg minst {min}.",
        "ro": "Alegeți cel puțin {min}.",
    },
    "too_many_choices": {
        "en": "Please choose at most {max}.",
        "da": "Vælg højst {max}.",
        "nb": "Velg høyst {max}.",
        "ro": "Alegeți cel mult {max}.",
    },
    "yes_or_no": {
        "en": "Please answer yes or no.",
        "da": "Svar ja eller nej.",
        "nb": "Svar ja eller nei.",
        "ro": "Răspundeți cu da sau nu.",
    },
    "consent_required": {
        "en": "Your consent is needed to continue.",
        "da": "Dit samtykke er nødvendigt for at fortsætte.",
        "nb": "Samtykket ditt er nødvendig for å fortsette.",
        "ro": "Este necesar acordul dumneavoastră pentru a continua.",
    },
}


class Problem(str):
    """A localised message that remembers which check produced it.

    It is a ``str`` so WTForms can keep it in ``field.errors`` unchanged.
    """

    code: str

    def __new__(cls, code: str, text: str) -> Problem:
        problem = super().__new__(cls, text)
        problem.code = code
        return problem


def _number(value: Any) -> Any:
    """Show 50.0 as 50: limits come from YAML as floats but read as whole numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def say(locale: str, code: str, **params: Any) -> Problem:
    """The message ``code`` in ``locale`` (or its base language, or English)."""
    texts = CATALOG[code]
    base = locale.split("-")[0].lower()
    template = texts.get(locale) or texts.get(base) or texts[FALLBACK_LOCALE]
    return Problem(code, template.format(**{name: _number(value) for name, value in params.items()}))
