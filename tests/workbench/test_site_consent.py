"""An admin sets a site's consent policy and double opt-in on the site page; the API follows at once."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from capture.db.models import Site
from tests.capture.conftest import ORIGIN
from tests.capture.conftest import publish_form as publish_form  # noqa: F401 - the fixture
from tests.workbench.conftest import csrf_token


def site_row(app: Any, site_id: int) -> Site:
    with app.extensions["leadwheel"].db.read() as session:
        site = session.get(Site, site_id)
        assert site is not None
        return site


def test_an_admin_sets_the_policy_and_double_opt_in_and_tracking_follows(
    app: Any, signed_in: Callable[[str | None], Any], publish_form: Any
) -> None:
    form = publish_form()  # "not_required": tracks without asking
    with app.extensions["leadwheel"].db.read() as session:
        site_id = session.scalars(select(Site.id).where(Site.public_key == form.site_key)).one()
    event = {"events": [{"id": secrets.token_hex(16), "type": "page_view", "url": "https://www.example.com/"}]}
    events = f"/api/v1/sites/{form.site_key}/events"
    assert app.test_client().post(events, json=event, headers={"Origin": ORIGIN}).status_code == 202
    admin = signed_in("admin")
    page = admin.get(f"/workbench/sites/{site_id}").get_data(as_text=True)
    assert f'action="/workbench/sites/{site_id}/consent"' in page
    assert '<option selected value="not_required">' in page

    token = csrf_token(admin, f"/workbench/sites/{site_id}")
    chosen = {"csrf_token": token, "policy": "required", "double_opt_in": "y"}
    saved = admin.post(f"/workbench/sites/{site_id}/consent", data=chosen)

    assert saved.status_code == 302
    site = site_row(app, site_id)
    assert (site.consent_policy, site.marketing_double_opt_in) == ("required", True)
    refused = app.test_client().post(events, json=event, headers={"Origin": ORIGIN})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "consent_required"
    page = admin.get(f"/workbench/sites/{site_id}").get_data(as_text=True)
    assert '<option selected value="required">' in page and "checked" in page
    assert "data-consent=&#34;required&#34;" in page  # the snippet to paste now holds identity until consent


def test_a_forged_post_or_an_unknown_policy_changes_nothing(
    app: Any, signed_in: Callable[[str | None], Any], publish_form: Any
) -> None:
    form = publish_form()
    with app.extensions["leadwheel"].db.read() as session:
        site_id = session.scalars(select(Site.id).where(Site.public_key == form.site_key)).one()
    admin = signed_in("admin")
    app.config["WTF_CSRF_ENABLED"] = True

    forged = admin.post(f"/workbench/sites/{site_id}/consent", data={"policy": "required"})
    token = csrf_token(admin, f"/workbench/sites/{site_id}")
    unknown = admin.post(f"/workbench/sites/{site_id}/consent", data={"csrf_token": token, "policy": "whatever"})

    assert forged.status_code in (400, 422) and unknown.status_code == 422
    assert "Not a valid choice" in unknown.get_data(as_text=True)
    assert site_row(app, site_id).consent_policy == "not_required"


def test_the_danish_site_page_names_the_consent_settings(
    app: Any, signed_in: Callable[[str | None], Any], publish_form: Any
) -> None:
    form = publish_form()
    with app.extensions["leadwheel"].db.read() as session:
        site_id = session.scalars(select(Site.id).where(Site.public_key == form.site_key)).one()
    viewer = signed_in("viewer")
    page = viewer.get(f"/workbench/sites/{site_id}", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert "Samtykke er ikke påkrævet før sporing." in page
    assert "/consent" not in page  # a viewer sees the setting, not the form
