"""MPass login through the SAML service provider, against the real dev IdP (pysaml2) in process."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from sqlalchemy import func, select

from devstack.demo_people import CITIZENS, by_idnp
from portal.accounts.models import Account, LoginSession
from portal.audit.models import AuditEvent
from portal.auth.models import SamlRequest, SeenAssertion
from portal.core import clock
from portal.core.db import db
from saml_fixtures import IDP_BASE_URL
from saml_helpers import NS, SHA1_SIGNING, b64, english_client, post_form, unb64

ION = CITIZENS[0]
NATALIA = CITIZENS[1]



@pytest.fixture
def client(app):
    return english_client(app)

def start_login(client, path="/auth/login", **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    action, fields = post_form(response.get_data())
    return response, action, fields


def is_logged_in(client) -> bool:
    return client.get("/applications").status_code == 200


def refusal_reasons(app) -> list[str]:
    with app.app_context():
        return [e.details.get("reason") for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_refused"))]


def assert_refused(app, client, response, reason: str | None = None) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body
    assert "You have not been logged in" in body
    assert "Log in with MPass" in body  # the way to try again
    assert "Traceback" not in body and "ONELOGIN" not in body and "Signature" not in body
    assert not is_logged_in(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    reasons = refusal_reasons(app)
    assert reasons, "a refused login leaves an audit event"
    if reason:
        assert reason in reasons, reasons


# ------------------------------------------------------------------ the happy path


def test_login_page_posts_a_signed_authn_request_to_mpass(idp, app):
    response, action, fields = start_login(app.test_client(), "/auth/login?next=/benefits",
                                           **{"Accept-Language": "ru"})
    assert urlsplit(action)._replace(query="").geturl() == IDP_BASE_URL + "/login/saml"
    assert parse_qs(urlsplit(action).query) == {"lang": ["ru"]}
    page = response.get_data(as_text=True)
    assert 'data-autosubmit' in page and "js/autosubmit.js" in page
    assert "<script>" not in page  # no inline script under our CSP
    assert re.search(r'<form method="post" action="[^"]+" data-autosubmit>.*<button type="submit"', page, re.S)
    assert "<noscript" not in page  # the button is visible, for people without JavaScript
    csp = response.headers["Content-Security-Policy"]
    assert f"form-action 'self' {IDP_BASE_URL}" in csp
    assert response.headers["Cache-Control"] == "no-store"

    xml = etree.fromstring(unb64(fields["SAMLRequest"]).encode())
    signature = xml.find("ds:Signature", NS)
    assert signature is not None
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha256")
    assert signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm").endswith("sha256")
    policy = xml.find("samlp:NameIDPolicy", NS)
    assert policy.get("AllowCreate") == "true" and policy.get("Format") is None
    assert xml.get("Destination") == IDP_BASE_URL + "/login/saml"

    request = idp.read_authn_request(fields)  # pysaml2 verifies the signature against our metadata
    assert request.issuer.text == "http://localhost/auth/metadata"
    with app.app_context():
        stored = db.session.get(SamlRequest, request.id)
        assert stored.kind == "authn" and stored.return_to == "/benefits" and stored.used_at is None


def test_full_login_stores_account_and_session_index(client, idp, app):
    _, _, fields = start_login(client, "/auth/login?next=/benefits")
    saml_response, issued = idp.respond(fields, person=ION)

    response = client.post("/auth/acs", data={"SAMLResponse": saml_response})

    assert response.status_code == 303
    assert response.headers["Location"] == "/benefits"
    assert is_logged_in(client)
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.idnp == ION.idnp))
        assert (account.first_name, account.last_name) == ("Ion", "Rusu")
        assert account.birth_date == dt.date(1988, 3, 14)
        assert account.email == ION.email and account.phone == ION.phone and account.language == "ro"
        login = db.session.scalar(select(LoginSession))
        assert login.name_id == ION.idnp
        assert login.saml_session_index == issued.session_index and issued.session_index
        assert login.account_id == account.id and login.ended_at is None
        assert db.session.scalar(select(SamlRequest)).used_at is not None
        seen = set(db.session.scalars(select(SeenAssertion.id)))
        assert seen == {issued.response_id, issued.assertion_id}
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login")) is not None


def test_login_returns_to_my_applications_by_default_and_never_off_site(app, idp):
    for path in ("/auth/login", "/auth/login?next=https://evil.example/", "/auth/login?next=//evil.example/x",
                 "/auth/login?next=/\\evil.example"):
        client = english_client(app)
        _, _, fields = start_login(client, path)
        saml_response, _ = idp.respond(fields, person=NATALIA)
        response = client.post("/auth/acs", data={"SAMLResponse": saml_response})
        assert response.status_code == 303
        assert response.headers["Location"] == "/applications", path


def test_ui_language_follows_the_account_when_none_was_chosen(app, idp):
    client = app.test_client()
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=NATALIA)  # MPass Language = ru
    client.post("/auth/acs", data={"SAMLResponse": saml_response})
    page = client.get("/applications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="ru"' in page


def test_acs_needs_no_cookie_from_the_login_request(app, idp):
    """The IdP's POST is cross-site: the browser may withhold our cookies. The request id is enough."""
    starter = english_client(app)
    _, _, fields = start_login(starter)
    saml_response, _ = idp.respond(fields, person=ION)
    fresh = english_client(app, cookie=False)  # no cookie at all
    response = fresh.post("/auth/acs", data={"SAMLResponse": saml_response})
    assert response.status_code == 303
    assert is_logged_in(fresh)


def test_acs_is_csrf_exempt_but_logout_is_not(client):
    assert client.post("/auth/acs", data={}).status_code == 400  # refused for SAML reasons, not CSRF
    response = client.post("/auth/logout", data={})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)


# ------------------------------------------------------------------ refusals


def test_unsigned_response_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION, sign=False)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}), "unsigned")


def test_response_signed_by_another_key_is_refused(client, rogue_idp, idp, app):
    _, _, fields = start_login(client)
    request = idp.read_authn_request(fields)
    saml_response, _ = rogue_idp.respond(fields, person=ION, in_response_to=request.id)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}), "bad_signature")


def test_response_signed_with_sha1_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION, signing=SHA1_SIGNING)
    assert "rsa-sha1" in unb64(saml_response)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}), "bad_signature")


@pytest.mark.parametrize("original, forged", [
    (ION.idnp, NATALIA.idnp),  # the NameID
    (">Rusu<", ">Ceban<"),  # an attribute value
])
def test_response_changed_after_signing_is_refused(client, idp, app, original, forged):
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)
    assert original in issued.xml
    tampered = b64(issued.xml.replace(original, forged))
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": tampered}), "bad_signature")


def test_unknown_in_response_to_is_refused(client, idp, app):
    start_login(client)
    saml_response, _ = idp.respond({}, person=ION, in_response_to="ONELOGIN_never_sent_by_us",
                                   destination="http://localhost/auth/acs",
                                   sp_entity_id="http://localhost/auth/metadata")
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}), "unknown_request")


def test_unsolicited_response_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)
    root = etree.fromstring(issued.xml.encode())
    del root.attrib["InResponseTo"]
    response = client.post("/auth/acs", data={"SAMLResponse": b64(etree.tostring(root))})
    assert_refused(app, client, response, "no_in_response_to")


def test_replayed_response_is_refused(app, idp):
    first = english_client(app)
    _, _, fields = start_login(first)
    saml_response, _ = idp.respond(fields, person=ION)
    assert first.post("/auth/acs", data={"SAMLResponse": saml_response}).status_code == 303

    attacker = english_client(app, cookie=False)
    response = attacker.post("/auth/acs", data={"SAMLResponse": saml_response})
    assert response.status_code == 400
    assert not is_logged_in(attacker)
    assert "request_used" in refusal_reasons(app)


def test_second_response_to_the_same_request_is_refused(app, idp):
    """InResponseTo is usable once, even with a fresh, validly signed response."""
    client = english_client(app)
    _, _, fields = start_login(client)
    first, _ = idp.respond(fields, person=ION)
    second, _ = idp.respond(fields, person=ION)
    assert client.post("/auth/acs", data={"SAMLResponse": first}).status_code == 303
    other = english_client(app)
    assert other.post("/auth/acs", data={"SAMLResponse": second}).status_code == 400
    assert not is_logged_in(other)


def test_seen_assertion_ids_are_refused_even_for_a_new_request(app, idp):
    """The replay store holds across requests (and processes: its key is unique in the database)."""
    client = english_client(app)
    _, _, fields = start_login(client)
    saml_response, issued = idp.respond(fields, person=ION)
    with app.app_context():
        db.session.add(SeenAssertion(id=issued.assertion_id, seen_at=clock.now()))
        db.session.commit()
    response = client.post("/auth/acs", data={"SAMLResponse": saml_response})
    assert_refused(app, client, response, "replayed")


def test_response_issued_more_than_ten_minutes_ago_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=11)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def backdate(response):
        response.issue_instant = old
        response.assertion[0].issue_instant = old

    crafted = idp.resign(issued.xml, backdate)  # signed by the IdP, conditions still valid: only the age is wrong
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "expired")


def test_expiry_follows_the_portal_clock(app, idp):
    """The login request is 5 minutes old (fresh enough), the response 11 minutes old by the portal's clock."""
    real = dt.datetime.now(dt.timezone.utc)
    client = english_client(app)
    try:
        clock.set_clock(lambda: real + dt.timedelta(minutes=5))
        _, _, fields = start_login(client)
        saml_response, _ = idp.respond(fields, person=ION)
        clock.set_clock(lambda: real + dt.timedelta(minutes=11))
        response = client.post("/auth/acs", data={"SAMLResponse": saml_response})
    finally:
        clock.set_clock(None)
    assert_refused(app, client, response, "expired")


def test_login_request_older_than_the_timeout_is_refused(app, idp, settings):
    client = english_client(app)
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION)
    later = clock.now() + dt.timedelta(seconds=settings.saml_message_timeout_seconds + 1)
    try:
        clock.set_clock(lambda: later)
        response = client.post("/auth/acs", data={"SAMLResponse": saml_response})
    finally:
        clock.set_clock(None)
    assert_refused(app, client, response, "request_expired")


def test_wrong_destination_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION, destination="http://other-service.example/auth/acs")
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}), "wrong_destination")


def test_wrong_audience_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)

    def other_audience(response):
        response.assertion[0].conditions.audience_restriction[0].audience[0].text = "http://other.example/meta"

    crafted = idp.resign(issued.xml, other_audience)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "wrong_audience")


def test_missing_session_index_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)

    def drop_session_index(response):
        response.assertion[0].authn_statement[0].session_index = None

    crafted = idp.resign(issued.xml, drop_session_index)
    assert "SessionIndex" not in unb64(crafted)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "missing_session_index")


def test_resigned_response_is_accepted_when_nothing_is_wrong(client, idp):
    """Control for the crafted refusals above: re-signing alone does not make a response invalid."""
    _, _, fields = start_login(client)
    _, issued = idp.respond(fields, person=ION)
    crafted = idp.resign(issued.xml, lambda response: None)
    assert client.post("/auth/acs", data={"SAMLResponse": crafted}).status_code == 303


@pytest.mark.parametrize("name_id", [
    "ion.rusu",  # an MPass user name
    "2005001000018",  # 13 digits, wrong check digit
    "1003600012345",  # an IDNO (legal entity), not a person
])
def test_name_id_that_is_not_a_person_idnp_is_refused(client, idp, app, name_id):
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION, name_id=name_id)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": saml_response}),
                   "not_a_person_idnp")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_garbage_is_refused(client, app):
    for data in ({}, {"SAMLResponse": "not base64 !!"}, {"SAMLResponse": b64("<not-saml/>")},
                 {"SAMLResponse": b64("<!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>")}):
        assert_refused(app, client, client.post("/auth/acs", data=data))


def test_refusal_page_is_translated(client, idp):
    _, _, fields = start_login(client)
    saml_response, _ = idp.respond(fields, person=ION, sign=False)
    with client.session_transaction() as s:
        s["lang"] = "ro"
    response = client.post("/auth/acs", data={"SAMLResponse": saml_response})
    assert response.status_code == 400
    assert 'lang="ro"' in response.get_data(as_text=True)


def test_demo_people_all_log_in(app, idp):
    """Every person on the dev IdP's picker is a valid MPass identity for the portal."""
    from devstack.demo_people import EVERYONE

    for person in EVERYONE:
        client = english_client(app)
        _, _, fields = start_login(client)
        saml_response, _ = idp.respond(fields, person=person)
        assert client.post("/auth/acs", data={"SAMLResponse": saml_response}).status_code == 303, person.idnp
        assert by_idnp(person.idnp) is person
