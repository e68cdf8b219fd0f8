"""Helpers of the registry tests: a citizen applying through the test client, as a person would."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.applications.models import Application
from portal.core.db import db

CLIENT_ID = "MD/GOV/MMPS/ESOCIAL"


def csrf(html: str) -> str:
    return re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', html).group(1)


def person(make_account, p, **extra):
    return make_account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name, email=p.email or None,
                        phone=p.phone, language=p.language, **extra)


def in_english(client) -> None:
    page = client.get("/").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf(page), "lang": "en", "next": "/"})


def post(client, url, data, page_url=None, **kw):
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf(page.get_data(as_text=True)), **data}, **kw)


def start(client, benefits) -> str:
    response = post(client, "/apply", {"benefits": benefits})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def answer_every_step(client, location: str) -> str:
    """Walk the form from ``location`` to the check page, confirming whatever the registries said."""
    for _ in range(12):
        step = location.rsplit("/", 1)[-1]
        if step == "check":
            return location
        page = client.get(location)
        assert page.status_code == 200, (location, page.status_code)
        html = page.get_data(as_text=True)
        data = {"csrf_token": csrf(html)}
        for name in set(re.findall(r'name="(confirm_[a-z]+)"', html)):
            data[name] = "yes"
        child = re.search(r'name="child_idnp"[^>]*value="(\d{13})"', html)
        if child:
            data["child_idnp"] = child.group(1)
        if 'name="remittances"' in html:
            data["remittances"] = "0"
        if 'name="heating_source"' in html:
            data["heating_source"] = "gas"
        if step == "contact":
            data.update(email="citizen@example.md", phone="+37369100017", language="en")
        response = client.post(location, data=data)
        assert response.status_code == 303, (step, response.get_data(as_text=True)[:3000])
        location = response.headers["Location"]
    raise AssertionError("the form never reached the check page")


def submit(client, check_location: str):
    ref = check_location.split("/")[2]
    page = client.get(check_location).get_data(as_text=True)
    return client.post(f"/applications/{ref}/submit", data={"csrf_token": csrf(page), "declaration": "y"})


def apply(client, benefits) -> str:
    """Apply for ``benefits`` and send; returns the application's ref."""
    check = answer_every_step(client, start(client, benefits))
    response = submit(client, check)
    assert response.status_code == 303 and "/receipt" in response.headers["Location"], \
        client.get(check).get_data(as_text=True)[:3000]
    return check.split("/")[2]


def application(app, ref: str) -> Application:
    with app.app_context():
        found = db.session.scalar(select(Application).where(Application.ref == ref))
        for relation in ("claims", "evidence", "events", "registry_notices", "pending_fetches"):
            getattr(found, relation)
        db.session.expunge_all()
        return found


def point_portal_at(app, simulator, *, timeout: float = 2.0):
    """Make the portal's registry gateway and event feed talk to ``simulator`` (fresh breakers and cache)."""
    from portal.registries.client import HttpRegistryClient
    from portal.registries.events import EventFeedClient

    for key in ("esocial.registries", "esocial.registry_gateway", "esocial.registry_events"):
        old = app.extensions.pop(key, None)
        if key != "esocial.registry_gateway" and old is not None:
            old.close()
    app.extensions["esocial.registries"] = HttpRegistryClient(simulator.base_url, CLIENT_ID, timeout=timeout)
    app.extensions["esocial.registry_events"] = EventFeedClient(simulator.base_url, CLIENT_ID, timeout=timeout)


def unpoint_portal(app):
    for key in ("esocial.registries", "esocial.registry_gateway", "esocial.registry_events"):
        old = app.extensions.pop(key, None)
        if key != "esocial.registry_gateway" and old is not None:
            old.close()
