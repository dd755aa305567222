"""The catalogue of behaviour event types, known to every site whatever its scoring model."""

#: Event types every site may send without a scoring model naming them.
STANDARD_TYPES = frozenset(
    {
        "page_view",
        "download",
        "offer_request",
        "offer_download",
        "demo_request",
        "newsletter_signup",
        "webinar_signup",
        "email_open",
        "email_click",
        "call",
        "form_submit",
        "video_play",
    }
)
