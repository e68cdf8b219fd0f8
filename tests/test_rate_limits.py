"""Rate limits: login (starting it and posting answers to the ACS share one budget per address), and the
decorators the status lookup and the API use.  Limits are off in the test settings; these tests turn them on."""
from __future__ import annotations

import dataclasses

import pytest
from flask import Blueprint

from portal.core import limits
from portal.core.security import public
from saml_helpers import b64, english_client


@pytest.fixture
def limited(app, monkeypatch):
    """Limits on, counters empty, small budgets."""
    settings = app.config["ESOCIAL"]
    monkeypatch.setitem(app.config, "ESOCIAL", dataclasses.replace(
        settings, ratelimit_enabled=True, ratelimit_login="5 per minute", ratelimit_status_lookup="2 per minute", ratelimit_api="3 per minute"))
    limits.limiter.reset()
    yield
    limits.limiter.reset()


def test_login_is_limited_per_address_and_says_so(app, limited):
    client = english_client(app)
    for _ in range(3):
        assert client.get("/auth/login").status_code == 200
    for _ in range(2):  # forged answers count against the same budget
        assert client.post("/auth/acs", data={"SAMLResponse": b64("<x/>")}).status_code == 400
    refused = client.get("/auth/login")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert client.post("/auth/acs", data={"SAMLResponse": b64("<x/>")}).status_code == 429
    # Another address still gets in.
    other = english_client(app)
    other.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert other.get("/auth/login").status_code == 200


def test_other_pages_are_not_limited_by_the_login_budget(app, limited):
    client = english_client(app)
    for _ in range(6):
        client.get("/auth/login")
    assert client.get("/benefits").status_code == 200


def test_limits_are_off_when_settings_say_so(app):
    assert app.config["ESOCIAL"].ratelimit_enabled is False  # the test settings
    client = english_client(app)
    for _ in range(40):
        assert client.get("/auth/login").status_code == 200


def test_the_status_lookup_and_api_decorators(app, limited):
    """What issue 6's lookup and issue 10's API put on their views (here on stand-in views of this test)."""
    bp = Blueprint("ratelimit_probe", __name__)

    @bp.post("/_probe/status")
    @public
    @limits.status_lookup
    def status_probe():
        return "ok"

    @bp.get("/_probe/api")
    @public
    @limits.api(key=lambda: "agency-system-42")
    def api_probe():
        return "ok"

    probe = app.__class__(__name__)
    probe.config.update(app.config)
    probe.config["WTF_CSRF_ENABLED"] = False
    probe.register_blueprint(bp)
    limits.limiter.init_app(probe)
    client = probe.test_client()
    assert [client.post("/_probe/status").status_code for _ in range(3)] == [200, 200, 429]
    # The API counts per client, whatever address it calls from.
    codes = []
    for n in range(4):
        codes.append(client.get("/_probe/api", environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code)
    assert codes == [200, 200, 200, 429]


def test_the_integration_api_counts_per_client_system(app, limited):
    """The real API views: each client system has its own budget (``ratelimit_api``), from any address."""
    from api_helpers import make_client

    tokens = []
    for n, agency in enumerate(("ATAS-CENTRU", "ATAS-NORD-EST")):
        cid, secret = make_client(app, agency, f"sys-limit-{n}")
        answer = app.test_client().post("/api/v1/oauth/token", data={
            "grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
        assert answer.status_code == 200
        tokens.append(answer.get_json()["access_token"])
    client = app.test_client()
    codes = [client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens[0]}"},
                        environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert refused.status_code == 429 and refused.is_json and int(refused.headers["Retry-After"]) > 0
    # Another agency's system, from the same address, still has its own budget.
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens[1]}"}).status_code == 200
