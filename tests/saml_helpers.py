"""Helpers for SAML tests: read auto-post forms, let the in-test IdP answer, craft bad messages with pysaml2."""
from __future__ import annotations

import base64
import re
from typing import Callable

import lxml.html
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.saml import NameID
from saml2.sigver import pre_signature_part
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from devstack.demo_people import DemoPerson
from devstack.idp import server as idp_server

SIGNING = {"sign_alg": SIG_RSA_SHA256, "digest_alg": DIGEST_SHA256}
SHA1_SIGNING = {"sign_alg": SIG_RSA_SHA1, "digest_alg": DIGEST_SHA1}
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}


def post_form(html: str | bytes) -> tuple[str, dict[str, str]]:
    """(action, fields) of the page's SAML form (the one carrying SAMLRequest or SAMLResponse)."""
    document = lxml.html.fromstring(html if isinstance(html, str) else html.decode("utf-8"))
    for form in document.forms:
        fields = {i.get("name"): i.get("value", "") for i in form.inputs if i.get("name")}
        if "SAMLRequest" in fields or "SAMLResponse" in fields:
            return form.get("action"), fields
    raise AssertionError("no SAML form on the page")


def english_client(app, *, cookie: bool = True):
    """A portal test client that reads English whatever catalogues are compiled (tests assert English text).

    With ``cookie`` the language is also chosen in the session, so it stays English after login; without,
    the client starts with no cookie at all (a browser arriving cross-site) and asks for English by header.
    """
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if cookie:
        with client.session_transaction() as s:
            s["lang"] = "en"
    return client


def csrf_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the home page"
    return match.group(1)


def b64(xml: str | bytes) -> str:
    return base64.b64encode(xml.encode("utf-8") if isinstance(xml, str) else xml).decode("ascii")


def unb64(value: str) -> str:
    return base64.b64decode(value).decode("utf-8")


def strip_signature(xml: str) -> str:
    root = etree.fromstring(xml.encode("utf-8"))
    for signature in root.iter("{%s}Signature" % NS["ds"]):
        signature.getparent().remove(signature)
    return etree.tostring(root).decode("utf-8")


class InTestIdP:
    """The dev MPass (or any pysaml2 IdP server) answering the portal's messages directly."""

    def __init__(self, dev_idp, *, server=None) -> None:
        self.dev = dev_idp
        self._server = server

    @property
    def server(self):
        return self._server or self.dev.server

    def read_authn_request(self, fields: dict):
        """The AuthnRequest, verified by pysaml2 (signature against our SP metadata)."""
        return self.server.parse_authn_request(fields["SAMLRequest"], BINDING_HTTP_POST).message

    def respond(self, fields: dict, *, person: DemoPerson | None = None, name_id: str | None = None,
                identity: dict | None = None, destination: str | None = None, sp_entity_id: str | None = None,
                in_response_to: str | None = None, sign: bool = True,
                signing: dict | None = None) -> tuple[str, idp_server.IssuedResponse]:
        """A real MPass-like Response to the AuthnRequest in ``fields``: (base64 for the form, what was issued)."""
        request = self.read_authn_request(fields) if in_response_to is None else None
        args = self.server.response_args(request, [BINDING_HTTP_POST]) if request is not None else {}
        issued = idp_server.authn_response(
            self.server, person=person, name_id=name_id, identity=identity,
            in_response_to=in_response_to or args["in_response_to"],
            destination=destination or args.get("destination") or "http://localhost/auth/acs",
            sp_entity_id=sp_entity_id or args.get("sp_entity_id") or "http://localhost/auth/metadata",
            sign_response=sign, sign_assertion=sign, signing=signing)
        return b64(issued.xml), issued

    def resign(self, xml: str, mutate: Callable[[samlp.Response], None]) -> str:
        """Change a Response with pysaml2's object model, then sign assertion and response again (a genuine
        IdP signature over content the IdP would never send)."""
        response = samlp.response_from_string(xml)
        mutate(response)
        assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
        assertion.signature = pre_signature_part(assertion.id, self.server.sec.my_cert, 2, **SIGNING)
        response.signature = None
        signed = self.server.sign(response, to_sign=[(class_name(assertion), assertion.id)], **SIGNING)
        return b64(str(signed))

    def read_logout_request(self, fields: dict, binding=BINDING_HTTP_POST):
        return self.server.parse_logout_request(fields["SAMLRequest"], binding).message

    def logout_response(self, logout_request, *, sign: bool = True) -> tuple[str, str]:
        """(destination, base64 LogoutResponse) answering the portal's LogoutRequest."""
        response = self.server.create_logout_response(logout_request, [BINDING_HTTP_POST], sign=sign, **SIGNING)
        args = self.server.response_args(logout_request, [BINDING_HTTP_POST])
        return args["destination"], b64(str(response))

    def logout_request(self, *, name_id: str, session_index: str | None, sign: bool = True,
                       destination: str = "http://localhost/auth/sls",
                       signing: dict | None = None) -> tuple[str, str]:
        """(request id, base64 LogoutRequest) as MPass sends when logout starts elsewhere."""
        request_id, request = self.server.create_logout_request(
            destination, "http://localhost/auth/metadata", name_id=NameID(text=name_id),
            session_indexes=[session_index] if session_index else None, sign=sign, **(signing or SIGNING))
        return request_id, b64(str(request))

    def logout_request_redirect(self, *, name_id: str, session_index: str,
                                destination: str = "http://localhost/auth/sls") -> str:
        """The path and signed query string of a LogoutRequest by HTTP-Redirect binding."""
        request_id, request = self.server.create_logout_request(
            destination, "http://localhost/auth/metadata", name_id=NameID(text=name_id),
            session_indexes=[session_index], sign=False, **SIGNING)
        info = self.server.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, relay_state="",
                                         sign=True, sigalg=SIG_RSA_SHA256)
        location = dict(info["headers"])["Location"]
        return location[len("http://localhost"):]
