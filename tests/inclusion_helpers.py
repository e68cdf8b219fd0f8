"""Helpers of the assisted-channel, representation and diaspora tests (tests/test_assisted.py, …)."""
from __future__ import annotations

import re

import pytest

from portal.registries.client import HttpRegistryClient

STEP_ANSWERS = {"remittances": "0", "heating_source": "gas", "bank_interest": "0", "childcare_option": "until_3"}


@pytest.fixture
def registries(app, registry_server):
    """Point the portal at the simulator started for this test run."""
    settings = app.config["ESOCIAL"]
    app.extensions["esocial.registries"] = HttpRegistryClient(registry_server.base_url, settings.registry_client_id,
                                                              timeout=5)
    registry_server.reset()
    yield registry_server
    registry_server.reset()
    app.extensions.pop("esocial.registries", None)


def in_english(client) -> None:
    with client.session_transaction() as s:
        s["lang"] = "en"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def person(make_account, p, **extra):
    attrs = {"email": p.email or None, "phone": p.phone, "language": p.language, **extra}
    return make_account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name, **attrs)


def post(client, url, data, *, page: str | None = None, **kw):
    """POST ``data`` to ``url`` with the CSRF token of ``page`` (default: ``url`` itself)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf(html), **data}, **kw)


def start(client, benefits) -> str:
    response = post(client, "/apply", {"benefits": benefits})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def answer_every_step(client, location: str, *, email: str = "", phone: str = "", language: str = "ro") -> str:
    """Walk the form from ``location`` to the check page, confirming what the registries said."""
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
        if step == "children":
            data["child_idnp"] = re.search(r'name="child_idnp"[^>]*value="(\d{13})"', html).group(1)
        if step == "questions":
            data.update({k: v for k, v in STEP_ANSWERS.items() if f'name="{k}"' in html})
        if step == "contact":
            data.update(email=email, phone=phone, language=language)
        response = client.post(location, data=data)
        assert response.status_code == 303, (step, response.get_data(as_text=True)[:3000])
        location = response.headers["Location"]
    raise AssertionError("the form never reached the check page")


def submit(client, check: str):
    ref = check.split("/")[2]
    html = client.get(check).get_data(as_text=True)
    return client.post(f"/applications/{ref}/submit", data={"csrf_token": csrf(html), "declaration": "y"}), ref


def text(response) -> str:
    """The visible text of a page, tags removed and spaces collapsed (assertions on sentences)."""
    html = response.get_data(as_text=True) if hasattr(response, "get_data") else response
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')
