"""The demo's host site: Northwind, a small coffee company's website that embeds the snippet.

It runs on its own port, so on a different origin from the form service, the
way a customer's site would. Every page carries the snippet exactly as the
README tells a customer to paste it, and a strict Content-Security-Policy
(no inline script or style) to show the snippet needs none.

The pages report no behaviour of their own: the snippet sends a ``page_view``
with the page's URL on every page, and the scoring model's rules pick the
pricing, blog and careers pages out by path (``/pricing*``), as a customer's
model would. A page-specific type such as ``pricing_view`` is not one the
server knows, and it would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, abort, render_template_string, request

LANGUAGES = ("en", "da", "nb", "ro")


@dataclass(frozen=True)
class Page:
    path: str
    nav: str
    title: str
    lead: str
    body: tuple[str, ...]
    form: bool = True


PAGES = (
    Page(
        "/",
        "Home",
        "Coffee that keeps your office running",
        "Northwind delivers espresso machines, beans and service to offices and homes across the Nordics and Romania.",
        (
            "Tell us a little about yourself below. Next time you visit we will ask a few more questions, "
            "never the same twice, so our offer fits you.",
        ),
    ),
    Page(
        "/pricing",
        "Pricing",
        "Pricing",
        "Machines from 49 € a month, service included. Beans by the kilo, delivered weekly.",
        (
            "Office: from 149 € a month for teams up to 50 people, machine, service and beans included.",
            "Home: the Northwind One at 49 € a month, or buy it outright.",
        ),
    ),
    Page(
        "/careers",
        "Careers",
        "Careers at Northwind",
        "We are hiring baristas-turned-technicians in Copenhagen, Oslo and Cluj.",
        ("Send your application to jobs@northwind.example.",),
        form=False,
    ),
    Page(
        "/blog/the-office-coffee-budget",
        "Blog",
        "How much should an office spend on coffee?",
        "A short guide to the office coffee budget, from the Northwind blog.",
        (
            "A team of 20 drinks around 1,200 cups a month. Beans are the smallest part of the bill; "
            "machine downtime is the largest.",
            "Subscribe below and we will send the next article when it is out.",
        ),
    ),
)

TEMPLATE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }} · Northwind</title>
<link rel="stylesheet" href="/site.css">
<script src="/site.js"></script>
<script async src="{{ forms_host }}/static/embed.js" data-site="{{ site_key }}"></script>
</head>
<body>
<header><a class="brand" href="/?lang={{ lang }}">Northwind</a>
<nav>{% for item in pages %}<a href="{{ item.path }}?lang={{ lang }}">{{ item.nav }}</a>{% endfor %}</nav>
<nav class="langs">{% for code in languages %}
<a href="?lang={{ code }}"{% if code == lang %} aria-current="true"{% endif %}>{{ code }}</a>{% endfor %}</nav>
</header>
<main>
<h1>{{ page.title }}</h1>
<p class="lead">{{ page.lead }}</p>
{% for paragraph in page.body %}<p>{{ paragraph }}</p>{% endfor %}
{% if page.form %}<section aria-label="Tell us about you">
<div data-leadwheel-form="{{ form_slug }}"></div></section>{% endif %}
</main>
<footer><p>Northwind is made up for the Leadwheel demo. The form above is served from {{ forms_host }}.</p>
<p>The snippet on this page:</p>
<pre><code>{{ snippet }}</code></pre></footer>
</body>
</html>
"""

SITE_JS = """// The customer's own script: the command queue, so calls work before embed.js has loaded
// (e.g. leadwheel("track", "download", {name: "price-list"})). Page views need no call: the snippet sends them.
window.leadwheel = window.leadwheel || function () { (leadwheel.q = leadwheel.q || []).push(arguments); };
"""

SITE_CSS = """body{font:17px/1.5 Georgia,serif;margin:0;color:#1d1d1b;background:#faf7f2}
header{display:flex;gap:2rem;align-items:center;padding:1rem 2rem;background:#3b2418;color:#fff}
header a{color:#fff;margin-right:1rem}.brand{font-weight:bold;font-size:1.3rem;text-decoration:none}
.langs{margin-left:auto}.langs a[aria-current]{font-weight:bold}
main{max-width:42rem;margin:2rem auto;padding:0 1rem}.lead{font-size:1.2rem}
footer{max-width:42rem;margin:3rem auto;padding:0 1rem;color:#555;font-size:.9rem}
pre{white-space:pre-wrap;background:#eee;padding:.5rem}
/* A typical site stylesheet that styles bare elements: the form must survive it. */
input,select,textarea{border:0;border-bottom:1px dotted #999;background:transparent;width:8rem}
label{font-variant:small-caps}button{background:none;border:0;text-decoration:underline}
"""


def snippet(forms_host: str, site_key: str, form_slug: str, consent_required: bool = False) -> str:
    """The two lines a customer pastes into a page (on a site that requires consent, the snippet's
    consent mode is on: nothing persistent before ``leadwheel('consent', …)``)."""
    consent = ' data-consent="required"' if consent_required else ""
    return (
        f'<script async src="{forms_host}/static/embed.js" data-site="{site_key}"{consent}></script>\n'
        f'<div data-leadwheel-form="{form_slug}"></div>'
    )


def create_site(forms_host: str, site_key: str, form_slug: str) -> Flask:
    """The host site's WSGI app. ``forms_host`` is the form service's origin, e.g. http://127.0.0.1:5000."""
    app = Flask(__name__, static_folder=None)
    by_path = {page.path: page for page in PAGES}
    policy = (
        f"default-src 'self'; script-src 'self' {forms_host}; style-src 'self' {forms_host}; "
        f"connect-src {forms_host}; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )

    @app.after_request
    def strict_policy(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/site.js")
    def site_js() -> Response:
        return Response(SITE_JS, mimetype="text/javascript")

    @app.get("/site.css")
    def site_css() -> Response:
        return Response(SITE_CSS, mimetype="text/css")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def page(path: str) -> str:
        found = by_path.get("/" + path)
        if found is None:
            abort(404)
        lang = request.args.get("lang", "en")
        return render_template_string(
            TEMPLATE,
            page=found,
            pages=PAGES,
            lang=lang if lang in LANGUAGES else "en",
            languages=LANGUAGES,
            forms_host=forms_host,
            site_key=site_key,
            form_slug=form_slug,
            snippet=snippet(forms_host, site_key, form_slug),
        )

    return app
