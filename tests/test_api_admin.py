"""The agency administrator manages the agency's integration API clients and webhook subscriptions in the
portal: a client made with its secret shown once, a secret rotated without downtime, a client revoked, webhook
subscriptions made and ended; each change audited; another agency's administrator reaches none of it. Also: the
navigation shows the ministry's dashboard and the integration pages to exactly the roles that may open them."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from api_helpers import agency_of, make_client, token
from backoffice_helpers import csrf, person, staff
from portal.accounts.models import RoleAssignment
from portal.api.models import ApiClient, ApiClientSecret, WebhookSubscription
from portal.audit.models import AuditEvent
from portal.core.db import db

BASE = "/backoffice/integration"


@pytest.fixture
def agencies(app):
    mine, other = agency_of("social_aid", "ialoveni"), agency_of("birth_allowance", "ialoveni")
    assert mine != other
    return mine, other


@pytest.fixture
def admins(app, login, agencies):
    """A logged-in browser for the administrator of each agency."""
    mine, other = agencies
    with app.app_context():
        ana = staff(db.session, "Ana", "Admin", ("agency_admin", mine))
        oleg = staff(db.session, "Oleg", "Admin", ("agency_admin", other))
        db.session.commit()
        ana_idnp = ana.idnp
    browsers = []
    for account in (ana, oleg):
        b = app.test_client()
        b.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(b, account)
        browsers.append(b)
    return browsers[0], browsers[1], ana_idnp


def _post(browser, page_url: str, url: str, data: dict):
    page = browser.get(page_url)
    assert page.status_code == 200, page.status_code
    return browser.post(url, data={"csrf_token": csrf(page.get_data(as_text=True)), **data})


def _shown_secret(response) -> str:
    text = response.get_data(as_text=True)
    return html.unescape(re.search(r'<code id="the-secret"[^>]*>([^<]+)</code>', text).group(1))


def _create(browser, agency: str, client_id: str = "atas-registry", name: str = "Registry of the agency"):
    return _post(browser, f"{BASE}/", f"{BASE}/clients", {"client_id": client_id, "name": name, "agency": agency})


def _cases(client, tok: str) -> int:
    return client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tok}"}).status_code


def _token_status(client, client_id: str, secret: str) -> int:
    return client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret}).status_code


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _secret_ids(app, client_id: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(ApiClientSecret.id).join(ApiClient)
                                       .where(ApiClient.client_id == client_id).order_by(ApiClientSecret.id)))


def test_the_administrator_creates_a_client_and_sees_its_secret_once(app, client, admins, agencies):
    ana, _oleg, ana_idnp = admins
    made = _create(ana, agencies[0])
    assert made.status_code == 200
    assert "no-store" in made.headers["Cache-Control"]  # the browser keeps no copy of the page with the secret
    secret = _shown_secret(made)
    assert len(secret) >= 40
    # The secret works at once: a token, then the agency's cases.
    tok = token(client, "atas-registry", secret)
    assert _cases(client, tok) == 200
    # It is never shown again and never kept in clear, not even in the audit trail.
    page = ana.get(f"{BASE}/clients/atas-registry").get_data(as_text=True)
    assert "Registry of the agency" in page and secret not in page
    assert secret not in ana.get(f"{BASE}/").get_data(as_text=True)
    with app.app_context():
        c = db.session.scalar(select(ApiClient).where(ApiClient.client_id == "atas-registry"))
        assert c.agency_code == agencies[0] and [s.secret_hash != secret for s in c.secrets] == [True]
        role = db.session.scalar(select(RoleAssignment).where(RoleAssignment.idnp == c.account.idnp))
        assert (role.role, role.agency_code, role.granted_by) == ("case_worker", agencies[0], ana_idnp)
    [event] = _events(app, "api_client_created")
    assert (event.actor_idnp, event.object_id, event.details["agency"]) == (ana_idnp, "atas-registry", agencies[0])
    assert secret not in repr(event.details)


def test_a_client_cannot_be_made_twice_for_another_agency_or_with_a_bad_identifier(app, admins, agencies):
    ana, _oleg, _ = admins
    assert _create(ana, agencies[0]).status_code == 200
    again = _create(ana, agencies[0])
    assert again.status_code == 400 and "already exists" in again.get_data(as_text=True)
    # Ana administers one agency: a forged choice of another is refused, nothing is made.
    forged = _create(ana, agencies[1], client_id="not-mine")
    assert forged.status_code == 400
    bad = _create(ana, agencies[0], client_id="Bad Name!")
    assert bad.status_code == 400 and "lower-case letters" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ApiClient.client_id)).all() == ["atas-registry"]
    assert len(_events(app, "api_client_created")) == 1


def test_rotation_without_downtime_then_the_old_secret_is_revoked(app, client, admins, agencies):
    ana, _oleg, ana_idnp = admins
    cid, first = make_client(app, agencies[0], "sys-rotate")
    old_token = token(client, cid, first)
    page = f"{BASE}/clients/{cid}"
    added = _post(ana, page, f"{page}/secrets", {"label": "2027"})
    assert added.status_code == 200 and "no-store" in added.headers["Cache-Control"]
    second = _shown_secret(added)
    new_token = token(client, cid, second)
    assert (_cases(client, old_token), _cases(client, new_token)) == (200, 200)  # both work while switching
    first_id, second_id = _secret_ids(app, cid)
    revoked = _post(ana, page, f"{page}/secrets/{first_id}/revoke", {})
    assert revoked.status_code == 303
    assert _cases(client, old_token) == 401 and _token_status(client, cid, first) == 401
    assert _cases(client, new_token) == 200 and _token_status(client, cid, second) == 200
    # The last active secret cannot be revoked by accident: the system keeps working.
    last = _post(ana, page, f"{page}/secrets/{second_id}/revoke", {})
    assert last.status_code == 303
    assert "only active secret" in ana.get(page).get_data(as_text=True)
    assert _cases(client, new_token) == 200
    assert [(e.actor_idnp, e.details["secret_id"]) for e in _events(app, "api_client_secret_added")] == \
        [(ana_idnp, second_id)]
    assert [(e.actor_idnp, e.details["secret_id"]) for e in _events(app, "api_client_secret_revoked")] == \
        [(ana_idnp, first_id)]
    assert all(second not in repr(e.details) for e in _events(app, "api_client_secret_added"))


def test_revoking_a_client_ends_its_tokens_role_and_subscriptions(app, client, admins, agencies):
    ana, _oleg, ana_idnp = admins
    cid, secret = make_client(app, agencies[0], "sys-revoke")
    tok = token(client, cid, secret)
    page = f"{BASE}/clients/{cid}"
    assert _post(ana, page, f"{page}/webhooks", {"url": "https://sys.example.md/hook",
                                                 "events": ["case.created"]}).status_code == 200
    assert _post(ana, page, f"{page}/revoke", {}).status_code == 303
    assert _cases(client, tok) == 401 and _token_status(client, cid, secret) == 401
    with app.app_context():
        c = db.session.scalar(select(ApiClient).where(ApiClient.client_id == cid))
        assert not c.active and all(s.revoked_at is not None for s in c.secrets)
        assert db.session.scalars(select(RoleAssignment).where(RoleAssignment.idnp == c.account.idnp,
                                                               RoleAssignment.revoked_at.is_(None))).all() == []
        assert [s.active for s in db.session.scalars(select(WebhookSubscription))] == [False]
    [event] = _events(app, "api_client_revoked")
    assert (event.actor_idnp, event.object_id, event.details["subscriptions_ended"]) == (ana_idnp, cid, 1)
    shown = ana.get(page).get_data(as_text=True)
    assert "revoked" in shown and f"{page}/secrets\"" not in shown  # no new secret for a revoked client
    refused = _post(ana, f"{BASE}/", f"{page}/secrets", {"label": "again"})
    assert refused.status_code == 400 and len(_secret_ids(app, cid)) == 1


def test_webhook_subscriptions_made_and_ended_in_the_portal(app, client, admins, agencies):
    ana, _oleg, ana_idnp = admins
    cid, secret = make_client(app, agencies[0], "sys-hooks")
    page = f"{BASE}/clients/{cid}"
    bad = _post(ana, page, f"{page}/webhooks", {"url": "ftp://sys.example.md/hook", "events": ["case.created"]})
    assert bad.status_code == 400 and "http or https address" in bad.get_data(as_text=True)
    none = _post(ana, page, f"{page}/webhooks", {"url": "https://sys.example.md/hook"})
    assert none.status_code == 400 and "Choose at least one event" in none.get_data(as_text=True)
    made = _post(ana, page, f"{page}/webhooks", {"url": "https://sys.example.md/hook",
                                                 "events": ["case.created", "case.changed"]})
    assert made.status_code == 200
    signing = _shown_secret(made)
    with app.app_context():
        [sub] = db.session.scalars(select(WebhookSubscription)).all()
        assert (sub.url, sub.events, sub.active, sub.agency_code) == (
            "https://sys.example.md/hook", ["case.created", "case.changed"], True, agencies[0])
        assert sub.secret == signing  # the secret shown is the one deliveries are signed with
        ref = sub.ref
    assert signing not in ana.get(page).get_data(as_text=True)
    # The client system sees the subscription its administrator made.
    listed = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {token(client, cid, secret)}"})
    assert [s["ref"] for s in listed.get_json()["items"]] == [ref]
    assert _post(ana, page, f"{BASE}/webhooks/{ref}/end", {}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(WebhookSubscription.active)) is False
    assert [(e.actor_idnp, e.object_id) for e in _events(app, "webhook_subscribed")] == [(ana_idnp, ref)]
    assert [(e.actor_idnp, e.object_id) for e in _events(app, "webhook_unsubscribed")] == [(ana_idnp, ref)]
    assert all(signing not in repr(e.details) for e in _events(app, "webhook_subscribed"))


def test_a_subscription_made_through_the_api_is_audited_with_the_client_account(app, client, agencies):
    cid, secret = make_client(app, agencies[0], "sys-api-hook")
    headers = {"Authorization": f"Bearer {token(client, cid, secret)}", "Idempotency-Key": "k1"}
    assert client.post("/api/v1/webhooks", json={"url": "https://sys.example.md/h"}, headers=headers).status_code == 201
    spaced = client.post("/api/v1/webhooks", json={"url": "https://sys.example.md/a b"},
                         headers={**headers, "Idempotency-Key": "k2"})
    assert spaced.status_code == 400 and spaced.get_json()["error"] == "invalid_body"
    with app.app_context():
        account_idnp = db.session.scalar(select(ApiClient).where(ApiClient.client_id == cid)).account.idnp
    assert [e.actor_idnp for e in _events(app, "webhook_subscribed")] == [account_idnp]


def test_another_agencys_administrator_reaches_nothing(app, client, admins, agencies):
    ana, oleg, _ = admins
    cid, secret = make_client(app, agencies[0], "sys-mine")
    page = f"{BASE}/clients/{cid}"
    assert _post(ana, page, f"{page}/webhooks", {"url": "https://sys.example.md/hook",
                                                 "events": ["case.changed"]}).status_code == 200
    with app.app_context():
        ref = db.session.scalar(select(WebhookSubscription.ref))
        [secret_id] = _secret_ids(app, cid)
    assert cid not in oleg.get(f"{BASE}/").get_data(as_text=True)
    assert oleg.get(page).status_code == 404
    token_of_oleg = csrf(oleg.get(f"{BASE}/").get_data(as_text=True))
    for url, data in ((f"{page}/secrets", {"label": "x"}), (f"{page}/secrets/{secret_id}/revoke", {}),
                      (f"{page}/revoke", {}), (f"{page}/webhooks", {"url": "https://evil.example/h",
                                                                    "events": ["case.changed"]}),
                      (f"{BASE}/webhooks/{ref}/end", {})):
        assert oleg.post(url, data={"csrf_token": token_of_oleg, **data}).status_code == 404, url
    with app.app_context():
        c = db.session.scalar(select(ApiClient).where(ApiClient.client_id == cid))
        assert c.active and len(c.secrets) == 1 and c.secrets[0].revoked_at is None
        assert [(s.url, s.active) for s in db.session.scalars(select(WebhookSubscription))] == [
            ("https://sys.example.md/hook", True)]
    assert _token_status(client, cid, secret) == 200


def test_people_without_the_role_are_refused(app, login, agencies):
    with app.app_context():
        worker = staff(db.session, "Elena", "Worker", ("case_worker", agencies[0]))
        citizen = person(db.session, "Ion", "Rusu")
        db.session.commit()
    cid, _secret = make_client(app, agencies[0], "sys-guarded")
    for account in (worker, citizen):
        b = app.test_client()
        login(b, account)
        assert b.get(f"{BASE}/").status_code == 403
        assert b.get(f"{BASE}/clients/{cid}").status_code == 403
    anonymous = app.test_client().get(f"{BASE}/clients/{cid}")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_operators_revoke_a_client_from_the_command_line(app, client, agencies):
    cid, secret = make_client(app, agencies[0], "sys-cli-revoke")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["api-clients", "create", "x", agencies[0]]).exit_code != 0  # too short an id
    assert runner.invoke(args=["api-clients", "create", "sys-nowhere", "NO-SUCH-AGENCY"]).exit_code != 0
    [only] = _secret_ids(app, cid)
    assert runner.invoke(args=["api-clients", "revoke-secret", cid, str(only)]).exit_code != 0  # the last one
    assert _token_status(client, cid, secret) == 200
    done = runner.invoke(args=["api-clients", "revoke", cid])
    assert done.exit_code == 0, done.output
    assert _token_status(client, cid, secret) == 401
    assert f"{cid}\t{agencies[0]}\tactive secrets: -\trevoked" in runner.invoke(args=["api-clients", "list"]).output
    [event] = _events(app, "api_client_revoked")
    assert event.actor_idnp is None and event.object_id == cid


# --- navigation: each role sees the links to the pages it may open ----------------------------------------------

NAV = {"/ministry/": "Figures for policy", f"{BASE}/": "Integration"}


@pytest.mark.parametrize("roles", [
    (("analyst", None),), (("agency_admin", "ATAS-CENTRU"),), (("case_worker", "ATAS-CENTRU"),),
    (("supervisor", "ATAS-CENTRU"),), (("sysadmin", None),), (("cups_specialist", "CUPS-LOZOVA"),), (),
    (("analyst", None), ("agency_admin", "ATAS-CENTRU")),
], ids=lambda roles: "+".join(r for r, _ in roles) or "citizen")
def test_the_menu_links_exactly_the_pages_the_person_may_open(app, login, roles):
    with app.app_context():
        account = staff(db.session, "Dumitru", "Rotaru", *roles)
        db.session.commit()
    b = app.test_client()
    login(b, account)
    menu = b.get("/").get_data(as_text=True).split('<nav class="container site-nav"', 1)[1].split("</nav>", 1)[0]
    for path, label in NAV.items():
        may_open = b.get(path).status_code == 200
        linked = re.search(rf'<a href="{re.escape(path)}">{re.escape(label)}</a>', menu) is not None
        assert linked == may_open, (roles, path, may_open, linked)
    if ("analyst", None) in roles:  # the analyst's link is there and leads to the dashboard
        assert "<svg" in b.get("/ministry/").get_data(as_text=True)


@pytest.mark.parametrize("lang, words", [("ro", "Adăugați un secret nou"), ("ru", "Добавить новый секрет")])
def test_the_pages_are_translated(app, login, agencies, lang, words):
    with app.app_context():
        ana = staff(db.session, "Ana", "Admin", ("agency_admin", agencies[0]))
        db.session.commit()
    cid, _secret = make_client(app, agencies[0], "sys-lang")
    b = app.test_client()
    login(b, ana, lang=lang)
    assert words in b.get(f"{BASE}/clients/{cid}").get_data(as_text=True)
    menu = {"ro": "Integrare", "ru": "Интеграция"}[lang]
    assert f">{menu}</a>" in b.get(f"{BASE}/").get_data(as_text=True)
