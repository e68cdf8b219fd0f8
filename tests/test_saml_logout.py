"""Single logout, both ways: started by eSocial (SP) and started at MPass (IdP)."""
from __future__ import annotations

import pytest
from lxml import etree
from saml2 import BINDING_HTTP_POST
from sqlalchemy import select

from devstack.demo_people import CITIZENS
from portal.accounts.models import LoginSession
from portal.audit.models import AuditEvent
from portal.auth.models import SamlRequest
from portal.core.db import db
from saml_fixtures import IDP_BASE_URL
from saml_helpers import NS, SHA1_SIGNING, b64, csrf_token, english_client, post_form, strip_signature, unb64

ION, NATALIA = CITIZENS[0], CITIZENS[1]



@pytest.fixture
def client(app):
    return english_client(app)

def login_as(app, idp, person):
    client = english_client(app)
    _, fields = post_form(client.get("/auth/login").get_data())
    saml_response, issued = idp.respond(fields, person=person)
    assert client.post("/auth/acs", data={"SAMLResponse": saml_response}).status_code == 303
    return client, issued


def is_logged_in(client) -> bool:
    return client.get("/applications").status_code == 200


def open_sessions(app) -> list[LoginSession]:
    with app.app_context():
        return list(db.session.scalars(select(LoginSession).where(LoginSession.ended_at.is_(None))))


# ------------------------------------------------------------------ started by eSocial


def test_sp_initiated_logout_sends_a_signed_logout_request_and_accepts_the_answer(app, idp):
    client, issued = login_as(app, idp, ION)

    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 200
    action, fields = post_form(response.get_data())
    assert action == IDP_BASE_URL + "/logout/saml"
    assert "js/autosubmit.js" in response.get_data(as_text=True)
    xml = etree.fromstring(unb64(fields["SAMLRequest"]).encode())
    assert xml.find("ds:Signature", NS) is not None
    assert xml.find("saml:NameID", NS).text == ION.idnp and xml.find("saml:NameID", NS).get("Format") is None
    assert xml.find("samlp:SessionIndex", NS).text == issued.session_index
    # The local session ended at once, whatever MPass does next.
    assert not is_logged_in(client)
    assert open_sessions(app) == []

    logout_request = idp.read_logout_request(fields)  # pysaml2 checks our signature
    with app.app_context():
        assert db.session.get(SamlRequest, logout_request.id).kind == "logout"
    destination, saml_response = idp.logout_response(logout_request)
    assert destination == "http://localhost/auth/sls"

    answer = client.post("/auth/sls", data={"SAMLResponse": saml_response})

    assert answer.status_code == 200
    assert "You have logged out" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SamlRequest, logout_request.id).used_at is not None


def test_logout_response_is_accepted_without_a_cookie_and_only_once(app, idp):
    client, _ = login_as(app, idp, ION)
    _, fields = post_form(client.post("/auth/logout", data={"csrf_token": csrf_token(client)}).get_data())
    _, saml_response = idp.logout_response(idp.read_logout_request(fields))
    stranger = english_client(app, cookie=False)
    assert stranger.post("/auth/sls", data={"SAMLResponse": saml_response}).status_code == 200
    again = english_client(app, cookie=False).post("/auth/sls", data={"SAMLResponse": saml_response})
    assert again.status_code == 400


def test_unsigned_logout_response_is_refused(app, idp):
    client, _ = login_as(app, idp, ION)
    _, fields = post_form(client.post("/auth/logout", data={"csrf_token": csrf_token(client)}).get_data())
    _, saml_response = idp.logout_response(idp.read_logout_request(fields), sign=False)
    answer = client.post("/auth/sls", data={"SAMLResponse": saml_response})
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "MPass did not confirm the logout" in body and "You have logged out of eSocial." in body
    with app.app_context():
        reasons = [e.details["reason"] for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "logout_refused"))]
    assert reasons == ["unsigned"]


def test_logout_response_signed_by_another_key_is_refused(app, idp, rogue_idp):
    client, _ = login_as(app, idp, ION)
    _, fields = post_form(client.post("/auth/logout", data={"csrf_token": csrf_token(client)}).get_data())
    _, saml_response = rogue_idp.logout_response(idp.read_logout_request(fields))
    assert client.post("/auth/sls", data={"SAMLResponse": saml_response}).status_code == 400


def test_logout_when_not_logged_in_just_goes_home(client):
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_logout_of_a_session_not_from_mpass_ends_it_locally(app, make_account, login):
    account = make_account()
    client = english_client(app)
    login(client, account)  # a session without SessionIndex (tests, tools)
    assert is_logged_in(client)
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200 and "You have logged out" in response.get_data(as_text=True)
    assert not is_logged_in(client)


# ------------------------------------------------------------------ started at MPass


def test_idp_initiated_logout_ends_the_named_session_without_any_cookie(app, idp):
    browser, issued = login_as(app, idp, ION)
    other_person, _ = login_as(app, idp, NATALIA)
    request_id, saml_request = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index)

    idp_page = english_client(app, cookie=False)  # the browser comes from the IdP's page: no cookie
    response = idp_page.post("/auth/sls", data={"SAMLRequest": saml_request})

    assert response.status_code == 200
    action, fields = post_form(response.get_data())
    assert action == IDP_BASE_URL + "/logout/saml"
    xml = etree.fromstring(unb64(fields["SAMLResponse"]).encode())
    assert xml.get("InResponseTo") == request_id
    assert xml.find("ds:Signature", NS) is not None
    assert xml.find("samlp:Status/samlp:StatusCode", NS).get("Value").endswith(":Success")
    parsed = idp.server.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    assert parsed.response.signature is not None  # pysaml2 verified it against our metadata

    assert not is_logged_in(browser)
    assert is_logged_in(other_person)
    assert [s.name_id for s in open_sessions(app)] == [NATALIA.idnp]


def test_idp_initiated_logout_also_ends_the_browsers_own_session(app, idp):
    browser, issued = login_as(app, idp, ION)
    _, saml_request = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index)
    assert browser.post("/auth/sls", data={"SAMLRequest": saml_request}).status_code == 200
    assert not is_logged_in(browser)


def test_idp_initiated_logout_by_redirect_binding(app, idp):
    browser, issued = login_as(app, idp, ION)
    path = idp.logout_request_redirect(name_id=ION.idnp, session_index=issued.session_index)
    assert "Signature=" in path and "SigAlg=" in path
    response = english_client(app, cookie=False).get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "SAMLResponse" in post_form(response.get_data())[1]
    assert not is_logged_in(browser)


def test_redirect_binding_logout_request_with_a_broken_signature_is_refused(app, idp):
    browser, issued = login_as(app, idp, ION)
    path = idp.logout_request_redirect(name_id=ION.idnp, session_index=issued.session_index)
    head, _, signature = path.partition("&Signature=")
    forged = head + "&Signature=" + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert english_client(app, cookie=False).get(forged).status_code == 400
    unsigned = head.split("&SigAlg=")[0]
    assert english_client(app, cookie=False).get(unsigned).status_code == 400
    assert is_logged_in(browser)


def test_unsigned_idp_logout_request_is_refused(app, idp):
    browser, issued = login_as(app, idp, ION)
    _, saml_request = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index, sign=False)
    response = english_client(app, cookie=False).post("/auth/sls", data={"SAMLRequest": saml_request})
    assert response.status_code == 400
    assert "The logout request was not accepted" in response.get_data(as_text=True)
    assert is_logged_in(browser)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "logout_refused")) \
            == {"reason": "unsigned", "detail": ""}


def test_idp_logout_request_with_signature_stripped_or_from_another_key_is_refused(app, idp, rogue_idp):
    browser, issued = login_as(app, idp, ION)
    _, rogue = rogue_idp.logout_request(name_id=ION.idnp, session_index=issued.session_index)
    _, genuine = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index)
    tampered = b64(unb64(genuine).replace(issued.session_index, "id-somebody-else"))
    for saml_request in (rogue, b64(strip_signature(unb64(genuine))), tampered):
        stranger = english_client(app, cookie=False)
        assert stranger.post("/auth/sls", data={"SAMLRequest": saml_request}).status_code == 400
    assert is_logged_in(browser)


def test_idp_logout_request_signed_with_sha1_is_refused(app, idp):
    browser, issued = login_as(app, idp, ION)
    _, saml_request = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index,
                                         signing=SHA1_SIGNING)
    assert "rsa-sha1" in unb64(saml_request)
    assert english_client(app, cookie=False).post("/auth/sls", data={"SAMLRequest": saml_request}).status_code \
        == 400
    assert is_logged_in(browser)


def test_replayed_idp_logout_request_is_refused(app, idp):
    _, issued = login_as(app, idp, ION)
    _, saml_request = idp.logout_request(name_id=ION.idnp, session_index=issued.session_index)
    for expected in (200, 400):
        stranger = english_client(app, cookie=False)
        assert stranger.post("/auth/sls", data={"SAMLRequest": saml_request}).status_code == expected


def test_sls_without_a_message_is_refused(client):
    assert client.get("/auth/sls").status_code == 400
    assert client.post("/auth/sls", data={}).status_code == 400


def test_logout_response_by_redirect_binding(app, idp):
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.xmldsig import SIG_RSA_SHA256

    client, _ = login_as(app, idp, ION)
    _, fields = post_form(client.post("/auth/logout", data={"csrf_token": csrf_token(client)}).get_data())
    logout_request = idp.read_logout_request(fields)
    response = idp.server.create_logout_response(logout_request, [BINDING_HTTP_REDIRECT], sign=False)
    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(response), "http://localhost/auth/sls",
                                    response=True, sign=True, sigalg=SIG_RSA_SHA256)
    location = dict(info["headers"])["Location"]
    answer = client.get(location[len("http://localhost"):])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "You have logged out" in answer.get_data(as_text=True)
