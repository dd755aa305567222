"""A customer's website for the browser tests: plain pages that embed the snippet, on their own origin.

The pages are built from the query string so one server per test worker can host
every test's forms:

    /page?api=http://127.0.0.1:5001&site=site_x&form=wheel&form=other&lang=en&consent=required&csp=off

``form`` may repeat (several forms on one page); ``lang=`` (empty) leaves ``<html>``
without a ``lang`` attribute; ``consent=required`` asks the snippet to store nothing
until the page calls ``leadwheel('consent', true)``; ``locale`` is put on the form
elements as ``data-locale``. By default pages carry a strict Content-Security-Policy
(no inline script or style), as careful customers' sites do; ``csp=off`` drops it
(for tests that inject axe-core, or must see an inline handler run if one slipped in).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

#: The customer's own script: leadwheel()'s command queue, so calls work before embed.js has loaded.
QUEUE_JS = """window.leadwheel = window.leadwheel || function () { (leadwheel.q = leadwheel.q || []).push(arguments); };
"""

#: Loaded before anything else: records what went wrong in the page (uncaught errors, rejected promises,
#: console errors and warnings, Content-Security-Policy refusals) in sessionStorage, so a test driving an
#: engine whose console it cannot read (WebKitGTK over WebDriver) can read them back, across reloads.
WATCH_JS = """(() => {
  const KEY = "lw-test-problems";
  const note = text => {
    try {
      const seen = JSON.parse(sessionStorage.getItem(KEY) || "[]");
      seen.push(String(text).slice(0, 500));
      sessionStorage.setItem(KEY, JSON.stringify(seen));
    } catch (e) {}
  };
  addEventListener("error", e => note("error: " + (e.message || (e.target && e.target.src) || e.type)), true);
  addEventListener("unhandledrejection", e => note("unhandled rejection: " + e.reason));
  document.addEventListener("securitypolicyviolation",
    e => note("CSP refused " + e.blockedURI + " (" + e.violatedDirective + ")"));
  for (const level of ["error", "warn"]) {
    const original = console[level];
    console[level] = (...args) => { note(level + ": " + args.join(" ")); original.apply(console, args); };
  }
})();
"""

#: A plain site stylesheet that styles bare elements, as most sites do.
SITE_CSS = """body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem}
body{color:#222;background:#fff}
input,select,textarea{font:inherit}
"""

PAGE = """<!doctype html>
<html{lang}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/site.css">
<script src="/watch.js"></script>
<script src="/queue.js"></script>
<script async src="{api}/static/embed.js" data-site="{site}"{script_attrs}></script>
</head>
<body>
<main>
<h1>{title}</h1>
<p>Tell us a little about yourself.</p>
{forms}
<p>What follows the form on the page: it must not be shoved about while the form loads.</p>
</main>
</body>
</html>
"""


def page_html(args: Any) -> str:
    api = args.get("api", "")
    lang = args.get("lang", "en")
    consent = args.get("consent")
    locale = args.get("locale")
    form_attrs = ""
    script_attrs = ""
    if consent:
        script_attrs += f' data-consent="{escape(consent)}"'
        form_attrs += f' data-consent="{escape(consent)}"'
    if locale:
        script_attrs += f' data-locale="{escape(locale)}"'
        form_attrs += f' data-locale="{escape(locale)}"'
    forms = "\n".join(
        f'<section aria-label="Form {n}"><div data-leadwheel-form="{escape(slug)}"{form_attrs}></div></section>'
        for n, slug in enumerate(args.getlist("form") or ["wheel"], start=1)
    )
    return PAGE.format(
        lang=f' lang="{escape(lang)}"' if lang else "",
        title=escape(args.get("title", "Example Ltd")),
        api=escape(api),
        site=escape(args.get("site", "")),
        script_attrs=script_attrs,
        forms=forms,
    )


def policy(api: str) -> str:
    return (
        f"default-src 'self'; script-src 'self' {api}; style-src 'self' {api}; connect-src {api}; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@Request.application  # type: ignore[arg-type]
def host_app(request: Request) -> Response:
    if request.path == "/watch.js":
        return Response(WATCH_JS, mimetype="text/javascript")
    if request.path == "/queue.js":
        return Response(QUEUE_JS, mimetype="text/javascript")
    if request.path == "/site.css":
        return Response(SITE_CSS, mimetype="text/css")
    if request.path == "/favicon.ico":
        return Response(status=204)
    if request.path != "/page":
        return Response("not found", status=404, mimetype="text/plain")
    response = Response(page_html(request.args), mimetype="text/html")
    if request.args.get("csp", "on") != "off":
        response.headers["Content-Security-Policy"] = policy(request.args.get("api", ""))
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Served:
    """A WSGI app listening on 127.0.0.1 in a daemon thread."""

    server: BaseWSGIServer

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


@contextmanager
def serve(app: Any) -> Iterator[Served]:
    """Serve ``app`` on a free port until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_url(
    host: str,
    api: str,
    site: str,
    forms: tuple[str, ...] = ("wheel",),
    *,
    lang: str | None = "en",
    consent: str | None = None,
    locale: str | None = None,
    csp: bool = True,
) -> str:
    """The address of a host page on ``host`` embedding ``forms`` of ``site`` served by ``api``."""
    query: list[tuple[str, str]] = [("api", api), ("site", site), *(("form", f) for f in forms)]
    query.append(("lang", lang or ""))
    if consent:
        query.append(("consent", consent))
    if locale:
        query.append(("locale", locale))
    if not csp:
        query.append(("csp", "off"))
    return f"{host}/page?{urlencode(query)}"
