"""CSRF on every form, security headers, session cookies and lifetimes, roles only from the role table,
and a production configuration that refuses to start unsafe."""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import LoginSession
from portal.audit.models import AuditEvent
from portal.config import DEFAULT_SECRET, SettingsError, validate
from portal.core import clock
from portal.core.db import db

# POST endpoints that take no CSRF token, each for a reason: messages posted by MPass (cross-site, signed),
# and the API (bearer tokens, no cookies).
CSRF_EXEMPT = {"auth.acs", "auth.sls"}
CSRF_EXEMPT_PREFIXES = ("api.",)


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint not in CSRF_EXEMPT \
                and not rule.endpoint.startswith(CSRF_EXEMPT_PREFIXES):
            yield rule


def _any_path(rule) -> str:
    values = {arg: ("1" if rule._converters[arg].__class__.__name__ == "IntegerConverter" else "x")  # noqa: SLF001
              for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_post_without_a_csrf_token_is_refused(app, make_account, login):
    """Every form POST of the app map, logged in, without a token: 400 and the "form has expired" page."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, make_account())
    with client.session_transaction() as s:
        s["lang"] = "en"
    refused = []
    for rule in _post_routes(app):
        response = client.post(_any_path(rule), data={"anything": "1"})
        if response.status_code != 400 or "This form has expired" not in response.get_data(as_text=True):
            refused.append(f"{rule.rule} ({rule.endpoint}): {response.status_code}")
    assert refused == [], "POST routes that did not demand a CSRF token:\n" + "\n".join(refused)


def test_a_post_with_a_token_from_another_session_is_refused(app, make_account, login):
    victim, attacker = app.test_client(), app.test_client()
    login(victim, make_account())
    page = attacker.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = victim.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 400


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http in tests: HSTS would be a lie
    assert "<script>" not in response.get_data(as_text=True)  # no inline script for the CSP to forbid


def test_hsts_when_served_over_https(settings):
    https = dataclasses.replace(settings, base_url="https://esocial.gov.md", sp_entity_id="https://esocial.gov.md/m")
    app = create_app(https)
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_session_cookie_flags(app, settings, make_account, login):
    response = app.test_client().get("/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "esocial_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    secure = create_app(dataclasses.replace(settings, session_cookie_secure=True))
    cookie = secure.test_client().get("/").headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _logged_in(app, account):
    client = app.test_client()
    sid = secrets.token_urlsafe(32)
    with app.app_context():
        db.session.add(LoginSession(id=sid, account_id=account.id, name_id=account.idnp))
        db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = sid
    return client, sid


@pytest.mark.parametrize("idle, absolute, reason", [
    (dt.timedelta(minutes=31), dt.timedelta(minutes=31), "idle"),
    (dt.timedelta(seconds=10), dt.timedelta(hours=12, minutes=1), "absolute"),
])
def test_sessions_end_after_idle_and_absolute_timeouts(app, make_account, idle, absolute, reason):
    account = make_account()
    client, sid = _logged_in(app, account)
    assert client.get("/applications").status_code == 200
    with app.app_context():
        login = db.session.get(LoginSession, sid)
        login.last_seen_at = clock.now() - idle
        login.created_at = clock.now() - absolute
        db.session.commit()
    response = client.get("/applications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(LoginSession, sid).ended_at is not None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session_expired"))
        assert event.details["reason"] == reason


def test_an_active_session_is_kept_alive(app, make_account):
    client, sid = _logged_in(app, make_account())
    with app.app_context():
        login = db.session.get(LoginSession, sid)
        login.last_seen_at = clock.now() - dt.timedelta(minutes=29)
        db.session.commit()
    assert client.get("/applications").status_code == 200
    with app.app_context():
        assert clock.now() - db.session.get(LoginSession, sid).last_seen_at < dt.timedelta(minutes=1)


def test_logout_ends_the_server_side_session_so_a_copied_cookie_is_worthless(app, make_account):
    client, sid = _logged_in(app, make_account())
    with client.session_transaction() as s:
        stolen = dict(s)
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/auth/logout", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(LoginSession, sid).ended_at is not None
    thief = app.test_client()
    with thief.session_transaction() as s:
        s.update(stolen)
    response = thief.get("/applications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_staff_roles_come_only_from_the_role_table(app, make_account, grant_role):
    """Nothing the browser sends makes someone staff: not a session value, not a header, not a form field."""
    account = make_account()
    client, _ = _logged_in(app, account)
    with client.session_transaction() as s:
        s["roles"] = ["case_worker", "sysadmin"]
        s["role"] = "sysadmin"
    headers = {"X-Role": "sysadmin", "X-Esocial-Roles": "case_worker"}
    assert client.get("/backoffice/", headers=headers).status_code == 403
    assert client.get("/backoffice/?role=case_worker", headers=headers).status_code == 403
    grant_role(account.idnp, "case_worker", "ATAS-CENTRU")
    assert client.get("/backoffice/").status_code == 200
    with app.app_context():
        from portal.accounts.models import RoleAssignment

        db.session.execute(RoleAssignment.__table__.update().values(revoked_at=clock.now()))
        db.session.commit()
    assert client.get("/backoffice/").status_code == 403  # revoked: effective on the next request


def test_production_refuses_to_start_unsafe(settings):
    import base64
    import os

    good = dataclasses.replace(settings, env="production", secret_key=secrets.token_hex(32), dev_idp=False,
                               base_url="https://esocial.gov.md", session_cookie_secure=True,
                               database_url="postgresql+psycopg://esocial@db/esocial",
                               document_key=base64.b64encode(os.urandom(32)).decode())
    validate(good)
    for change, message in [
        ({"secret_key": DEFAULT_SECRET}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"dev_idp": True}, "development identity provider"),
        ({"base_url": "http://esocial.gov.md"}, "https"),
        ({"database_url": "sqlite:///x.db"}, "PostgreSQL"),
        ({"document_key": ""}, "DOCUMENT_KEY"),
        ({"session_cookie_secure": False}, "HTTPS only"),
    ]:
        with pytest.raises(SettingsError, match=message):
            validate(dataclasses.replace(good, **change))


def test_no_secrets_in_the_repository():
    """No private key, no production secret checked in (development keys are made at run time in instance/)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    found = []
    for name in tracked:
        path = root / name
        if not path.is_file() or path.stat().st_size > 2_000_000 or name.startswith("translations/"):
            continue
        text = path.read_bytes()
        if b"-----BEGIN " + b"PRIVATE KEY" in text or b"-----BEGIN RSA " + b"PRIVATE KEY" in text \
                or name.endswith((".key", ".pem")):
            found.append(name)
    assert found == []
