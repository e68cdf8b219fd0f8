"""Hostile SAML Responses fed to the ACS: each is refused with a readable page, no session and an audit event.

Completes tests/test_saml_login.py (unsigned, another key, sha1, tampered, unknown or replayed InResponseTo,
IssueInstant age, destination, audience, SessionIndex, NameID) with: a signed Response whose Assertion is
unsigned and the reverse, wrong issuer, wrong recipient, assertions not yet or no longer valid, DTDs and
entities, comments, and XML signature wrapping in its known variants.  Every crafted message starts from a
genuine Response of the real development MPass (pysaml2), so the only thing wrong is the thing under test.
"""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from lxml import etree
from sqlalchemy import func, select

from devstack.demo_people import CITIZENS
from devstack.idp import server as idp_server
from portal.accounts.models import Account
from portal.core.db import db
from saml_helpers import NS, b64, english_client
from test_saml_login import assert_refused, is_logged_in, start_login

ION = CITIZENS[0]
NATALIA = CITIZENS[1]
SAMLP, SAML, DS = NS["samlp"], NS["saml"], NS["ds"]


@pytest.fixture
def client(app):
    return english_client(app)


def genuine(idp, fields, *, sign_response=True, sign_assertion=True):
    """A Response from the in-test MPass to the AuthnRequest in ``fields``."""
    request = idp.read_authn_request(fields)
    args = idp.server.response_args(request, ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"])
    return idp_server.authn_response(idp.server, person=ION, in_response_to=args["in_response_to"],
                                     destination=args["destination"], sp_entity_id=args["sp_entity_id"],
                                     sign_response=sign_response, sign_assertion=sign_assertion)


def post(client, xml):
    return client.post("/auth/acs", data={"SAMLResponse": b64(xml)})


def natalia_has_no_account(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Account).where(Account.idnp == NATALIA.idnp)) == 0


def iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ control


def test_a_genuine_response_reserialised_by_lxml_is_accepted(client, idp):
    """The crafted messages below go through the same parse/serialise: that alone is harmless."""
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)
    root = etree.fromstring(issued.xml.encode())
    assert post(client, etree.tostring(root)).status_code == 303
    assert is_logged_in(client)


# ------------------------------------------------------------------ signatures: both, always


def test_signed_response_with_an_unsigned_assertion_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields, sign_response=True, sign_assertion=False)
    assert_refused(app, client, post(client, issued.xml), "unsigned")


def test_signed_assertion_in_an_unsigned_response_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields, sign_response=False, sign_assertion=True)
    assert_refused(app, client, post(client, issued.xml), "unsigned")


# ------------------------------------------------------------------ addressed to someone else, or at another time


def test_wrong_issuer_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def other_issuer(response):
        response.issuer.text = "https://mpass.evil.example/meta/saml"
        response.assertion[0].issuer.text = "https://mpass.evil.example/meta/saml"

    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": idp.resign(issued.xml, other_issuer)}),
                   "wrong_issuer")


def test_wrong_recipient_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def other_recipient(response):
        for confirmation in response.assertion[0].subject.subject_confirmation:
            confirmation.subject_confirmation_data.recipient = "http://other-service.example/auth/acs"

    crafted = idp.resign(issued.xml, other_recipient)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "bad_subject_confirmation")


def test_assertion_not_yet_valid_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def later(response):
        response.assertion[0].conditions.not_before = iso(dt.timedelta(minutes=15))
        response.assertion[0].conditions.not_on_or_after = iso(dt.timedelta(minutes=30))

    crafted = idp.resign(issued.xml, later)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "not_yet_valid")


def test_assertion_no_longer_valid_is_refused_even_when_freshly_issued(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def expired(response):
        response.assertion[0].conditions.not_before = iso(-dt.timedelta(minutes=9))
        response.assertion[0].conditions.not_on_or_after = iso(-dt.timedelta(minutes=4))

    crafted = idp.resign(issued.xml, expired)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "expired")


def test_expired_bearer_confirmation_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def expired(response):
        for confirmation in response.assertion[0].subject.subject_confirmation:
            confirmation.subject_confirmation_data.not_on_or_after = iso(-dt.timedelta(minutes=4))

    crafted = idp.resign(issued.xml, expired)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}))


def test_a_response_reporting_failure_is_refused(client, idp, app):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)

    def failed(response):
        response.status.status_code.value = "urn:oasis:names:tc:SAML:2.0:status:Responder"

    crafted = idp.resign(issued.xml, failed)
    assert_refused(app, client, client.post("/auth/acs", data={"SAMLResponse": crafted}), "not_success")


# ------------------------------------------------------------------ DTDs, entities, comments


DTDS = {
    # Declared, never used: the signed content is unchanged, so only a refusal of DTDs as such stops it.
    "unused_internal_dtd": '<!DOCTYPE samlp:Response [<!ELEMENT samlp:Response ANY>]>',
    "unused_entity": '<!DOCTYPE samlp:Response [<!ENTITY harmless "x">]>',
    "external_entity": '<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    "external_dtd": '<!DOCTYPE samlp:Response SYSTEM "http://127.0.0.1:9/evil.dtd">',
    "billion_laughs": ('<!DOCTYPE samlp:Response [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                       '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'),
}


@pytest.mark.parametrize("name", sorted(DTDS))
def test_dtds_and_entities_are_refused(client, idp, app, name):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)
    xml = issued.xml
    if xml.startswith("<?xml"):
        declaration, rest = xml.split("?>", 1)
        xml = declaration + "?>" + DTDS[name] + rest
    else:
        xml = DTDS[name] + xml
    if name in ("external_entity", "billion_laughs"):  # and the entity used where it would be read
        entity = "&xxe;" if name == "external_entity" else "&d;"
        xml = xml.replace(">Rusu<", f">{entity}<", 1)
    assert_refused(app, client, post(client, xml), "dtd_forbidden")


def test_a_comment_inside_the_name_id_is_refused(client, idp, app):
    """Exclusive C14N ignores comments, so the signature still holds; a parser reading the first text node would
    see a different NameID (the CVE-2017-11427 family). No comment is accepted anywhere."""
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)
    idnp = ION.idnp
    xml = issued.xml.replace(f">{idnp}<", f">{idnp[:6]}<!---->{idnp[6:]}<", 1)
    assert xml != issued.xml
    assert_refused(app, client, post(client, xml), "unexpected_structure")


# ------------------------------------------------------------------ XML signature wrapping


def _parts(issued):
    root = etree.fromstring(issued.xml.encode())
    assertion = root.find(f"{{{SAML}}}Assertion")
    evil = copy.deepcopy(assertion)
    evil.set("ID", "id-evil-assertion")
    evil.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = NATALIA.idnp
    evil_signature = evil.find(f"{{{DS}}}Signature")
    evil.remove(evil_signature)
    return root, assertion, evil, evil_signature


def _object(content):
    obj = etree.Element(f"{{{DS}}}Object")
    obj.append(content)
    return obj


def xsw_evil_before_original(root, assertion, evil, signature):
    assertion.addprevious(evil)


def xsw_evil_after_original(root, assertion, evil, signature):
    assertion.addnext(evil)


def xsw_evil_wraps_original(root, assertion, evil, signature):
    assertion.addprevious(evil)
    evil.append(assertion)


def xsw_original_inside_evil_signature_object(root, assertion, evil, signature):
    evil.insert(1, signature)
    signature.append(_object(assertion))
    root.append(evil)


def xsw_original_in_extensions(root, assertion, evil, signature):
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    root.insert(1, extensions)
    extensions.append(assertion)
    root.append(evil)


def xsw_evil_with_the_same_id_first(root, assertion, evil, signature):
    evil.set("ID", assertion.get("ID"))
    assertion.addprevious(evil)


def xsw_evil_with_the_same_id_and_the_signature(root, assertion, evil, signature):
    evil.set("ID", assertion.get("ID"))
    evil.insert(1, copy.deepcopy(assertion.find(f"{{{DS}}}Signature")))
    assertion.addprevious(evil)
    root.remove(assertion)


def xsw_original_in_the_response_signature_object(root, assertion, evil, signature):
    root.find(f"{{{DS}}}Signature").append(_object(assertion))
    root.append(evil)


WRAPPINGS = [xsw_evil_before_original, xsw_evil_after_original, xsw_evil_wraps_original,
             xsw_original_inside_evil_signature_object, xsw_original_in_extensions, xsw_evil_with_the_same_id_first,
             xsw_evil_with_the_same_id_and_the_signature, xsw_original_in_the_response_signature_object]


@pytest.mark.parametrize("wrap", WRAPPINGS, ids=[w.__name__ for w in WRAPPINGS])
def test_assertion_signature_wrapping_is_refused(client, idp, app, wrap):
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)
    root, assertion, evil, signature = _parts(issued)
    wrap(root, assertion, evil, signature)
    xml = etree.tostring(root)
    assert NATALIA.idnp.encode() in xml
    assert_refused(app, client, post(client, xml))
    assert natalia_has_no_account(app)


def _evil_response(issued):
    original = etree.fromstring(issued.xml.encode())
    evil = copy.deepcopy(original)
    evil.set("ID", "id-evil-response")
    evil.remove(evil.find(f"{{{DS}}}Signature"))
    assertion = evil.find(f"{{{SAML}}}Assertion")
    assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = NATALIA.idnp
    return original, evil


def test_response_wrapped_inside_an_evil_response_is_refused(client, idp, app):
    """The signed Response travels inside an unsigned one that names another person."""
    _, _, fields = start_login(client)
    original, evil = _evil_response(genuine(idp, fields))
    evil.append(original)
    assert_refused(app, client, post(client, etree.tostring(evil)))
    assert natalia_has_no_account(app)


def test_response_signature_moved_onto_an_evil_response_is_refused(client, idp, app):
    """The evil Response carries the genuine signature, with the signed original in its ds:Object."""
    _, _, fields = start_login(client)
    original, evil = _evil_response(genuine(idp, fields))
    signature = copy.deepcopy(original.find(f"{{{DS}}}Signature"))
    evil.insert(1, signature)
    evil.set("ID", original.get("ID"))
    signature.append(_object(original))
    assert_refused(app, client, post(client, etree.tostring(evil)))
    assert natalia_has_no_account(app)


def test_check_structure_accepts_mpass_shaped_responses_only(idp, app):
    """The structural check on its own, for the shapes above and a genuine one."""
    from portal.auth.saml import SamlRefused, ServiceProvider

    client = english_client(app)
    _, _, fields = start_login(client)
    issued = genuine(idp, fields)
    ServiceProvider.check_structure(b64(issued.xml))
    for wrap in WRAPPINGS:
        if wrap is xsw_evil_with_the_same_id_and_the_signature:
            continue  # the right shape with changed content: the signature check refuses it (test above)
        root, assertion, evil, signature = _parts(issued)
        wrap(root, assertion, evil, signature)
        with pytest.raises(SamlRefused) as refused:
            ServiceProvider.check_structure(b64(etree.tostring(root)))
        assert refused.value.reason in ("unexpected_structure", "unsigned"), wrap.__name__
