"""The SP's plain functions, without HTTP: metadata, configuration, attribute mapping, return addresses, purging."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from lxml import etree
from sqlalchemy import select

from devstack.demo_people import CITIZENS
from portal.auth import services
from portal.auth.models import SamlRequest, SeenAssertion
from portal.auth.saml import (SamlNotConfigured, SamlRefused, ServiceProvider, VerifiedAssertion, check_fresh,
                              sp_metadata_xml)
from portal.core.db import db
from saml_fixtures import IDP_BASE_URL
from saml_helpers import b64, english_client, post_form

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)



@pytest.fixture
def client(app):
    return english_client(app)

def test_sp_metadata_needs_no_app_and_no_idp(settings):
    bare = dataclasses.replace(settings, idp_metadata_file="")
    root = etree.fromstring(sp_metadata_xml(bare).encode())
    assert root.get("entityID") == "http://localhost/auth/metadata"
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor.get("AuthnRequestsSigned") == "true" and descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.find(f"{{{MD}}}AssertionConsumerService")
    assert acs.get("Location") == "http://localhost/auth/acs" and acs.get("Binding").endswith("HTTP-POST")
    logout = {(e.get("Binding").rsplit(":", 1)[-1], e.get("Location"))
              for e in descriptor.findall(f"{{{MD}}}SingleLogoutService")}
    assert logout == {("HTTP-POST", "http://localhost/auth/sls"), ("HTTP-Redirect", "http://localhost/auth/sls")}
    assert descriptor.find(f"{{{MD}}}KeyDescriptor") is not None


def test_metadata_route(client):
    response = client.get("/auth/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    assert b'entityID="http://localhost/auth/metadata"' in response.data


def test_missing_configuration_is_reported_not_guessed(settings, tmp_path):
    with pytest.raises(SamlNotConfigured):
        ServiceProvider(dataclasses.replace(settings, idp_metadata_file=str(tmp_path / "absent.xml")))
    with pytest.raises(SamlNotConfigured):
        ServiceProvider(dataclasses.replace(settings, sp_key_file=""))
    with pytest.raises(SamlNotConfigured):
        sp_metadata_xml(dataclasses.replace(settings, sp_cert_file=str(tmp_path / "none.crt")))


def test_the_idp_origin_is_known_for_the_csp(app):
    assert app.config["ESOCIAL_IDP_ORIGIN"] == IDP_BASE_URL


def test_login_is_unavailable_rather_than_broken_without_configuration(settings):
    from portal import create_app

    app = create_app(dataclasses.replace(settings, idp_metadata_file="/nonexistent/idp.xml"))
    app.config.update(TESTING=True)
    assert "ESOCIAL_IDP_ORIGIN" not in app.config
    response = english_client(app).get("/auth/login")
    assert response.status_code == 503
    assert "Login with MPass is not available right now" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_its_idp(settings):
    from portal import create_app

    production = dataclasses.replace(settings, env="production", idp_metadata_file="/nonexistent/idp.xml")
    with pytest.raises(SamlNotConfigured):
        create_app(production)


@pytest.mark.parametrize("value, expected", [
    ("/benefits", "/benefits"),
    ("/applications?x=1", "/applications?x=1"),
    (None, None), ("", None),
    ("https://evil.example/", None), ("//evil.example/", None), ("/\\evil.example", None),
    ("benefits", None), ("/a\r\nLocation: x", None), ("/" + "a" * 600, None),
])
def test_return_address_is_local_only(value, expected):
    assert services.safe_return_to(value) == expected


def assertion(**attributes) -> VerifiedAssertion:
    return VerifiedAssertion(in_response_to="r", response_id="a", assertion_id="b", name_id=CITIZENS[0].idnp,
                             session_index="s", attributes={k: [v] for k, v in attributes.items()},
                             issue_instant=NOW)


def test_account_attributes_from_mpass_names():
    values = services.account_attributes(assertion(
        FirstName="Ion", LastName="Rusu", BirthDate="1988-03-14", EmailAddress="ion@example.md",
        MobilePhone="+37369100017", Language="ru", Gender="1"), ("ro", "ru", "en"))
    assert values == {"first_name": "Ion", "last_name": "Rusu", "birth_date": dt.date(1988, 3, 14),
                      "email": "ion@example.md", "phone": "+37369100017", "language": "ru"}


def test_malformed_optional_attributes_are_dropped():
    values = services.account_attributes(assertion(
        FirstName="  ", BirthDate="14.03.1988", EmailAddress="not an address", Language="de"), ("ro", "ru", "en"))
    assert values["first_name"] is None and values["birth_date"] is None
    assert values["email"] is None and values["language"] is None


def test_message_age_window():
    check_fresh(NOW - dt.timedelta(minutes=9, seconds=59), NOW)
    check_fresh(NOW + dt.timedelta(minutes=2), NOW)  # a clock slightly ahead
    with pytest.raises(SamlRefused) as old:
        check_fresh(NOW - dt.timedelta(minutes=10, seconds=1), NOW)
    assert old.value.reason == "expired"
    with pytest.raises(SamlRefused) as future:
        check_fresh(NOW + dt.timedelta(minutes=4), NOW)
    assert future.value.reason == "issued_in_future"


def test_peek_reads_in_response_to_of_a_response_only(app):
    peek = ServiceProvider.peek_in_response_to
    assert peek(b64('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="abc"/>')) \
        == "abc"
    assert peek(b64('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                    'InResponseTo="abc"/>')) is None
    assert peek("%%%") is None


def test_starting_a_login_forgets_stale_requests_and_ids(app, settings):
    timeout = dt.timedelta(seconds=settings.saml_message_timeout_seconds)
    with app.test_request_context("/auth/login"):
        db.session.add_all([
            SamlRequest(id="old", kind="authn", created_at=NOW - 3 * timeout),
            SamlRequest(id="recent", kind="authn", created_at=NOW - timeout / 2),
            SeenAssertion(id="old-id", seen_at=NOW - dt.timedelta(hours=2)),
            SeenAssertion(id="recent-id", seen_at=NOW - dt.timedelta(minutes=5)),
        ])
        db.session.flush()
        from portal.auth.views import service_provider

        message = services.begin_login(service_provider(), next_url="/benefits", default_return="/applications",
                                       lang="ro", now=NOW, timeout=timeout)
        db.session.commit()
        assert set(db.session.scalars(select(SamlRequest.id))) == {"recent", message.id}
        assert set(db.session.scalars(select(SeenAssertion.id))) == {"recent-id"}


def test_already_logged_in_goes_straight_back(app, idp):
    client = english_client(app)
    _, fields = post_form(client.get("/auth/login").get_data())
    saml_response, _ = idp.respond(fields, person=CITIZENS[0])
    client.post("/auth/acs", data={"SAMLResponse": saml_response})
    response = client.get("/auth/login?next=/benefits")
    assert response.status_code == 302 and response.headers["Location"] == "/benefits"


def test_replay_store_holds_when_two_processes_race(app, monkeypatch):
    """The check-then-insert can race; the unique key still refuses the second one, and the session survives."""
    with app.app_context():
        db.session.add(SeenAssertion(id="assertion-1", seen_at=NOW))
        db.session.commit()
        monkeypatch.setattr(db.session, "get", lambda *args, **kwargs: None)  # the other process had not committed
        with pytest.raises(services.LoginRefused) as refused:
            services.remember_once(["response-1", "assertion-1"], now=NOW, refused=services.LoginRefused)
        assert (refused.value.reason, refused.value.detail) == ("replayed", "concurrent")
        monkeypatch.undo()
        db.session.add(SamlRequest(id="still-usable", kind="authn", created_at=NOW))
        db.session.commit()
        assert db.session.get(SeenAssertion, "response-1") is None


def test_redirect_binding_switch_sends_the_browser_by_redirect(app, settings):
    from portal.auth.saml import REDIRECT
    from portal.auth.views import EXTENSION

    configured = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = ServiceProvider(settings, authn_binding=REDIRECT)
    try:
        response = english_client(app).get("/auth/login")
    finally:
        app.extensions[EXTENSION] = configured
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(IDP_BASE_URL + "/login/saml?SAMLRequest=")
    assert "&SigAlg=" in location and "&Signature=" in location and location.endswith("&lang=en")
