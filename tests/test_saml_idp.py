"""The development MPass (devstack.idp) driven through its own web pages, end to end with the portal."""
from __future__ import annotations

import base64

import re
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from markupsafe import escape

from devstack.demo_people import CITIZENS, EVERYONE, STAFF
from portal.core.idnp import mask
from saml_fixtures import IDP_BASE_URL
from saml_helpers import NS, b64, csrf_token, english_client, post_form, strip_signature, unb64

ION = CITIZENS[0]
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"



@pytest.fixture
def client(app):
    return english_client(app)

def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def assert_accessible_page(html: str, lang: str) -> None:
    """The basics axe-core checks first: page language, title, one h1, named buttons."""
    document = etree.fromstring(html.encode(), etree.HTMLParser())
    assert document.get("lang") == lang
    assert document.findtext(".//title").strip()
    assert len(document.findall(".//h1")) == 1
    for button in document.iter("button"):
        assert "".join(button.itertext()).strip(), "a button without a name"


def portal_login_form(portal_client, path="/auth/login"):
    return post_form(portal_client.get(path).get_data())


def pick_person(idp_client, action, fields, person, *, lang="ro"):
    """The browser at the IdP: post the AuthnRequest, see the picker, choose ``person``."""
    response = idp_client.post(path_of(action), data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    picker_url = response.headers["Location"]
    picker = idp_client.get(picker_url)
    assert picker.status_code == 200
    chosen = idp_client.post(urlsplit(picker_url).path, data={"idnp": person.idnp, "lang": lang})
    assert chosen.status_code == 200
    return picker.get_data(as_text=True), chosen.get_data(as_text=True)


def log_in_through_idp(app, idp_client, person=ION):
    portal = english_client(app)
    action, fields = portal_login_form(portal)
    _, autopost = pick_person(idp_client, action, fields, person)
    acs, response_fields = post_form(autopost)
    assert acs == "http://localhost/auth/acs"
    assert portal.post(urlsplit(acs).path, data=response_fields).status_code == 303
    return portal


def test_metadata_names_mpass_endpoints_and_signing(idp_client, idp_app):
    response = idp_client.get("/meta/saml")
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    assert root.get("entityID") == IDP_BASE_URL + "/meta/saml"
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    assert descriptor.get("WantAuthnRequestsSigned") == "true"
    for tag, path in (("SingleSignOnService", "/login/saml"), ("SingleLogoutService", "/logout/saml")):
        endpoints = {(e.get("Binding"), e.get("Location")) for e in descriptor.findall(f"{{{MD}}}{tag}")}
        assert endpoints == {(POST, IDP_BASE_URL + path), (REDIRECT, IDP_BASE_URL + path)}
    assert descriptor.find(f"{{{MD}}}KeyDescriptor[@use='signing']") is not None
    assert "sha1" not in response.get_data(as_text=True) and "md5" not in response.get_data(as_text=True)
    assert idp_app.extensions["dev_idp"].metadata_file.read_bytes() == response.data


def test_login_through_the_person_picker(app, idp_client):
    portal = english_client(app)
    action, fields = portal_login_form(portal, "/auth/login?next=/benefits")
    picker, autopost = pick_person(idp_client, action, fields, ION, lang="en")

    assert_accessible_page(picker, "en")  # the portal passed its UI language on (?lang=en)
    assert "This is the development stand-in for MPass" in picker  # the banner
    visible = re.sub(r'value="[^"]*"', "", picker)  # the full IDNP is only the chosen button's value
    for person in EVERYONE:
        assert f"{person.first_name} {person.last_name}" in picker
        assert mask(person.idnp) in visible and person.idnp not in visible
        assert str(escape(person.description["en"])) in picker
    assert "<script" not in picker

    assert_accessible_page(autopost, "en")
    acs, response_fields = post_form(autopost)
    assert acs == "http://localhost/auth/acs"
    assert "autosubmit.js" in autopost and "onload" not in autopost
    assert "<noscript>" not in autopost  # the Continue button is always visible
    xml = etree.fromstring(unb64(response_fields["SAMLResponse"]).encode())
    assertion = xml.find("saml:Assertion", NS)
    assert xml.find("ds:Signature", NS) is not None and assertion.find("ds:Signature", NS) is not None
    names = {a.get("Name") for a in assertion.iter(f"{{{NS['saml']}}}Attribute")}
    assert names == {"FirstName", "LastName", "BirthDate", "Gender", "EmailAddress", "MobilePhone", "Language",
                     "IsResident"}
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    assert name_id.text == ION.idnp and name_id.get("Format") is None
    assert assertion.find("saml:AuthnStatement", NS).get("SessionIndex")

    response = portal.post("/auth/acs", data=response_fields)
    assert response.status_code == 303 and response.headers["Location"] == "/benefits"
    assert portal.get("/applications").status_code == 200
    home = idp_client.get("/").get_data(as_text=True)
    assert "Ion Rusu" in home


@pytest.mark.parametrize("lang, description", [("ru", STAFF[0].description["ru"]), ("en", "Lives in Italy")])
def test_picker_speaks_the_language_asked_for(app, idp_client, lang, description):
    portal = app.test_client()
    action, fields = portal_login_form(portal)
    assert action.endswith("lang=ro")  # the portal's current language goes to MPass
    action = action.replace("lang=ro", f"lang={lang}")
    picker, autopost = pick_person(idp_client, action, fields, ION, lang=lang)
    assert_accessible_page(picker, lang)
    assert description in picker
    assert_accessible_page(autopost, lang)


def test_portal_sends_its_ui_language_to_mpass(app):
    portal = app.test_client()
    action, _ = portal_login_form(portal, "/auth/login")
    with portal.session_transaction() as s:
        s["lang"] = "en"
    action_en, _ = portal_login_form(portal, "/auth/login")
    assert parse_qs(urlsplit(action_en).query)["lang"] == ["en"]


def test_idp_refuses_an_unsigned_authn_request(app, idp_client):
    action, fields = portal_login_form(english_client(app))
    unsigned = b64(strip_signature(unb64(fields["SAMLRequest"])))
    response = idp_client.post(path_of(action).replace("lang=en", "lang=ro"), data={"SAMLRequest": unsigned})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "nu este semnată" in body  # Romanian: "is not signed"
    assert_accessible_page(body, "ro")


def test_idp_refuses_a_tampered_authn_request(app, idp_client):
    action, fields = portal_login_form(english_client(app))
    xml = unb64(fields["SAMLRequest"])
    tampered = b64(xml.replace("http://localhost/auth/acs", "http://attacker.example/acs"))
    response = idp_client.post(path_of(action), data={"SAMLRequest": tampered})
    assert response.status_code == 400
    assert "not signed, or its signature is not valid" in response.get_data(as_text=True)


def test_idp_refuses_an_unsigned_authn_request_by_redirect_binding(app, idp_client):
    _, fields = portal_login_form(english_client(app))
    xml = strip_signature(unb64(fields["SAMLRequest"]))
    deflated = base64.b64encode(zlib.compress(xml.encode())[2:-4]).decode()
    response = idp_client.get("/login/saml", query_string={"SAMLRequest": deflated, "lang": "ru"})
    assert response.status_code == 400
    assert 'lang="ru"' in response.get_data(as_text=True)


def test_redirect_binding_authn_request_is_accepted(settings, idp_client):
    """With the binding switch set to redirect, the signed query string satisfies the IdP too."""
    from portal.auth.saml import REDIRECT as REDIRECT_BINDING, ServiceProvider

    sp = ServiceProvider(settings, authn_binding=REDIRECT_BINDING)
    message = sp.authn_request(lang="en", relay_state="/benefits")
    assert message.binding == REDIRECT_BINDING and message.url.startswith(IDP_BASE_URL + "/login/saml?")
    query = parse_qs(urlsplit(message.url).query)
    assert set(query) == {"SAMLRequest", "RelayState", "SigAlg", "Signature", "lang"}
    response = idp_client.get(path_of(message.url))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "/login/choose/" in response.headers["Location"]


def test_idp_refuses_an_unknown_person_or_a_spent_request(app, idp_client):
    action, fields = portal_login_form(english_client(app))
    response = idp_client.post(path_of(action), data=fields)
    picker_path = urlsplit(response.headers["Location"]).path
    assert idp_client.post(picker_path, data={"idnp": "2000000000000"}).status_code == 400
    assert idp_client.post(picker_path, data={"idnp": ION.idnp}).status_code == 200
    assert idp_client.post(picker_path, data={"idnp": ION.idnp}).status_code == 400  # used once
    assert idp_client.get("/login/choose/unknown").status_code == 400


def test_sp_initiated_logout_through_the_idp(app, idp_client):
    portal = log_in_through_idp(app, idp_client)

    action, fields = post_form(portal.post("/auth/logout", data={"csrf_token": csrf_token(portal)}).get_data())
    assert action == IDP_BASE_URL + "/logout/saml"
    at_idp = idp_client.post(path_of(action), data=fields)
    assert at_idp.status_code == 200, at_idp.get_data(as_text=True)
    sls, answer = post_form(at_idp.get_data())
    assert sls == "http://localhost/auth/sls" and "SAMLResponse" in answer
    assert_accessible_page(at_idp.get_data(as_text=True), "ro")

    done = portal.post("/auth/sls", data=answer)
    assert done.status_code == 200 and "You have logged out" in done.get_data(as_text=True)
    assert "Nu este nimeni autentificat" in idp_client.get("/").get_data(as_text=True)


def test_idp_refuses_an_unsigned_logout_request(app, idp_client):
    portal = log_in_through_idp(app, idp_client)
    action, fields = post_form(portal.post("/auth/logout", data={"csrf_token": csrf_token(portal)}).get_data())
    unsigned = b64(strip_signature(unb64(fields["SAMLRequest"])))
    assert idp_client.post(path_of(action), data={"SAMLRequest": unsigned}).status_code == 400
    assert "Ion Rusu" in idp_client.get("/").get_data(as_text=True)  # the MPass session goes on


def test_idp_initiated_logout_everywhere(app, idp_client):
    portal = log_in_through_idp(app, idp_client)

    page = idp_client.get("/logout/everywhere?lang=en")
    assert page.status_code == 200
    assert "Ion Rusu" in page.get_data(as_text=True) and "http://localhost/auth/metadata" in page.get_data(as_text=True)
    assert_accessible_page(page.get_data(as_text=True), "en")

    started = idp_client.post("/logout/everywhere", data={"lang": "en"})
    assert started.status_code == 200
    sls, request_fields = post_form(started.get_data())
    assert sls == "http://localhost/auth/sls" and "SAMLRequest" in request_fields
    xml = etree.fromstring(unb64(request_fields["SAMLRequest"]).encode())
    assert xml.find("ds:Signature", NS) is not None and xml.find("samlp:SessionIndex", NS).text

    # The browser arrives at the portal from the IdP: cross-site, so without its cookie.
    answered = english_client(app, cookie=False).post("/auth/sls", data=request_fields)
    assert answered.status_code == 200
    slo, response_fields = post_form(answered.get_data())
    assert slo == IDP_BASE_URL + "/logout/saml"
    assert portal.get("/applications").status_code == 302  # the portal session is over

    finished = idp_client.post(path_of(slo), data=response_fields)
    assert finished.status_code == 200, finished.get_data(as_text=True)
    assert "You have logged out" in finished.get_data(as_text=True)
    assert "Nobody is logged in" in idp_client.get("/?lang=en").get_data(as_text=True)


def test_idp_refuses_an_unsigned_logout_response(app, idp_client):
    log_in_through_idp(app, idp_client)
    started = idp_client.post("/logout/everywhere", data={"lang": "en"})
    _, request_fields = post_form(started.get_data())
    slo, response_fields = post_form(english_client(app).post("/auth/sls", data=request_fields).get_data())
    unsigned = b64(strip_signature(unb64(response_fields["SAMLResponse"])))
    response = idp_client.post(path_of(slo), data={"SAMLResponse": unsigned})
    assert response.status_code == 400
