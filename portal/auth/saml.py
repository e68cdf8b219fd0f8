"""The SAML 2.0 service provider: eSocial's side of MPass, on python3-saml.

This module is the only place that imports ``onelogin``.  It knows SAML and
nothing of accounts, sessions or HTTP frameworks: it builds signed outgoing
messages and verifies incoming ones, and reports every refusal as a
:class:`SamlRefused` carrying a machine-readable ``reason``.

Trust comes from configuration alone (:class:`portal.config.Settings`): our
certificate and key, our entity id and public address, and the MPass metadata
file whose certificate is pinned.  Every message we send is signed (rsa-sha256,
sha256); every message we accept must be signed by the pinned IdP certificate.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape as xml_escape

from lxml import etree

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from portal.config import Settings

ACS_PATH = "/auth/acs"
SLS_PATH = "/auth/sls"

POST = "post"
REDIRECT = "redirect"
_BINDINGS = {POST: C.BINDING_HTTP_POST, REDIRECT: C.BINDING_HTTP_REDIRECT}

# MPass: IssueInstant within 10 minutes; a little tolerance for clocks running ahead.
MAX_MESSAGE_AGE = dt.timedelta(minutes=10)
MAX_CLOCK_SKEW = dt.timedelta(minutes=3)
# An assertion past its NotOnOrAfter is refused after this much tolerance for the IdP's clock.
VALIDITY_SKEW = dt.timedelta(seconds=60)

ALLOWED_SIGNATURE_METHODS = frozenset({C.RSA_SHA256, C.RSA_SHA384, C.RSA_SHA512})
ALLOWED_DIGEST_METHODS = frozenset({C.SHA256, C.SHA384, C.SHA512})

# Status codes that end a session on an SP-initiated logout (MPass: Success or PartialLogout).
LOGOUT_OK_STATUSES = frozenset({C.STATUS_SUCCESS, C.STATUS_PARTIAL_LOGOUT})


_V = OneLogin_Saml2_ValidationError
# python3-saml's validation error codes, grouped into the reasons the audit trail records.
_VALIDATION_REASONS = {
    **dict.fromkeys((_V.NO_SIGNED_MESSAGE, _V.NO_SIGNED_ASSERTION, _V.NO_SIGNATURE_FOUND), "unsigned"),
    **dict.fromkeys((_V.INVALID_SIGNATURE, _V.WRONG_SIGNED_ELEMENT, _V.ID_NOT_FOUND_IN_SIGNED_ELEMENT,
                     _V.DUPLICATED_ID_IN_SIGNED_ELEMENTS, _V.INVALID_SIGNED_ELEMENT,
                     _V.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS, _V.UNEXPECTED_SIGNED_ELEMENTS,
                     _V.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE, _V.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION,
                     _V.WRONG_NUMBER_OF_SIGNATURES, _V.DEPRECATED_SIGNATURE_METHOD, _V.DEPRECATED_DIGEST_METHOD),
                    "bad_signature"),
    **dict.fromkeys((_V.WRONG_DESTINATION, _V.EMPTY_DESTINATION), "wrong_destination"),
    _V.WRONG_AUDIENCE: "wrong_audience",
    **dict.fromkeys((_V.WRONG_ISSUER, _V.ISSUER_MULTIPLE_IN_RESPONSE, _V.ISSUER_NOT_FOUND_IN_ASSERTION),
                    "wrong_issuer"),
    _V.WRONG_INRESPONSETO: "wrong_in_response_to",
    **dict.fromkeys((_V.ASSERTION_EXPIRED, _V.SESSION_EXPIRED, _V.RESPONSE_EXPIRED), "expired"),
    _V.ASSERTION_TOO_EARLY: "not_yet_valid",
    _V.WRONG_SUBJECTCONFIRMATION: "bad_subject_confirmation",
    **dict.fromkeys((_V.STATUS_CODE_IS_NOT_SUCCESS, _V.MISSING_STATUS, _V.MISSING_STATUS_CODE), "not_success"),
    **dict.fromkeys((_V.NO_NAMEID, _V.EMPTY_NAMEID), "missing_name_id"),
}


class SamlNotConfigured(RuntimeError):
    """The SP keys or the IdP metadata are missing: login cannot work at all."""


class SamlRefused(Exception):
    """An incoming SAML message was not accepted.

    ``reason`` is a short code for the audit trail and for tests; ``detail`` is
    the technical explanation (never shown to the user).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OutgoingMessage:
    """A message for the browser to carry to the IdP.

    HTTP-POST binding: post ``fields`` to ``url`` (an auto-submitting form).
    HTTP-Redirect binding: ``url`` already holds the signed query string.
    """

    id: str
    binding: str
    url: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedAssertion:
    """What a valid, signed MPass Response says about the person."""

    in_response_to: str
    response_id: str
    assertion_id: str
    name_id: str
    session_index: str
    attributes: dict[str, list[str]]
    issue_instant: dt.datetime

    def attribute(self, name: str) -> str | None:
        values = self.attributes.get(name) or []
        return values[0] if values else None


@dataclass(frozen=True)
class VerifiedLogoutRequest:
    id: str
    name_id: str
    session_indexes: list[str]


@dataclass(frozen=True)
class VerifiedLogoutResponse:
    id: str
    in_response_to: str
    status: str


# ---------------------------------------------------------------- settings


def _sp_section(settings: Settings, *, with_key: bool = True) -> dict:
    if not settings.sp_entity_id:
        raise SamlNotConfigured("sp_entity_id is not set")
    base = settings.base_url.rstrip("/")
    section = {
        "entityId": settings.sp_entity_id,
        "assertionConsumerService": {"url": base + ACS_PATH, "binding": C.BINDING_HTTP_POST},
        "singleLogoutService": {"url": base + SLS_PATH, "binding": C.BINDING_HTTP_POST},
        # MPass declares no NameID format; python3-saml omits "unspecified" from the messages it builds.
        "NameIDFormat": C.NAMEID_UNSPECIFIED,
        "x509cert": _read(settings, "sp_cert_file"),
    }
    if with_key:
        section["privateKey"] = _read(settings, "sp_key_file")
    return section


def _read(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    if not value:
        raise SamlNotConfigured(f"{name} is not set")
    path = settings.resolve(value)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SamlNotConfigured(f"{name}: cannot read {path.name} ({exc.strerror})") from exc


SECURITY = {
    "nameIdEncrypted": False,
    "authnRequestsSigned": True,
    "logoutRequestSigned": True,
    "logoutResponseSigned": True,
    "signMetadata": False,
    "wantMessagesSigned": True,
    "wantAssertionsSigned": True,
    "wantAssertionsEncrypted": False,
    "wantNameId": True,
    "wantNameIdEncrypted": False,
    "wantAttributeStatement": True,
    # MPass chooses the authentication method (password, mobile signature, certificate, EVO).
    "requestedAuthnContext": False,
    "failOnAuthnContextMismatch": False,
    "signatureAlgorithm": C.RSA_SHA256,
    "digestAlgorithm": C.SHA256,
    "rejectDeprecatedAlgorithm": True,
    "allowRepeatAttributeName": False,
}


def sp_metadata_xml(settings: Settings) -> str:
    """The SP metadata document for ``settings`` (no app, no IdP metadata needed).

    The development launcher writes it to a file for the development IdP; in
    production it is what we register with MPass.
    """
    saml_settings = OneLogin_Saml2_Settings(
        {"strict": True, "debug": False, "sp": _sp_section(settings), "security": dict(SECURITY)},
        sp_validation_only=True,
    )
    xml = saml_settings.get_sp_metadata()
    # python3-saml lists one SingleLogoutService; our SLS takes HTTP-Redirect too, so say so.
    root = OneLogin_Saml2_XML.to_etree(xml)
    for sls in OneLogin_Saml2_XML.query(root, "//md:SPSSODescriptor/md:SingleLogoutService"):
        redirect = copy.deepcopy(sls)
        redirect.set("Binding", C.BINDING_HTTP_REDIRECT)
        sls.addnext(redirect)
        break
    xml = OneLogin_Saml2_XML.to_string(root)
    errors = saml_settings.validate_metadata(xml)
    if errors:
        raise SamlNotConfigured("invalid SP metadata: " + ", ".join(errors))
    return xml.decode("utf-8") if isinstance(xml, bytes) else xml


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ServiceProvider:
    """python3-saml configured once for one portal configuration (build it once per app)."""

    def __init__(self, settings: Settings, *, authn_binding: str = POST) -> None:
        if authn_binding not in _BINDINGS:
            raise ValueError(f"unknown binding {authn_binding!r}")
        self.settings = settings
        self.authn_binding = authn_binding
        metadata_path: Path = settings.resolve(settings.idp_metadata_file) if settings.idp_metadata_file else None
        if metadata_path is None:
            raise SamlNotConfigured("idp_metadata_file is not set")
        try:
            metadata = metadata_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SamlNotConfigured(f"idp_metadata_file: cannot read {metadata_path.name} ({exc.strerror})") from exc
        try:
            idp = OneLogin_Saml2_IdPMetadataParser.parse(
                metadata, required_sso_binding=_BINDINGS[authn_binding], required_slo_binding=C.BINDING_HTTP_POST)
        except Exception as exc:  # noqa: BLE001 - any parse failure means no usable trust
            raise SamlNotConfigured(f"idp_metadata_file: {exc}") from exc
        if "idp" not in idp or not idp["idp"].get("singleLogoutService"):
            raise SamlNotConfigured("the IdP metadata has no HTTP-POST single logout endpoint")

        base = {
            "strict": True,
            "debug": False,
            "sp": _sp_section(settings),
            "idp": idp["idp"],
            "security": dict(SECURITY),
        }
        self._key = base["sp"]["privateKey"]
        self._cert = base["sp"]["x509cert"]
        self.saml_settings = OneLogin_Saml2_Settings(copy.deepcopy(base), sp_validation_only=False)
        # Only for LogoutRequest / LogoutResponse received by HTTP-POST *after* their enveloped signature has
        # been verified by :meth:`_verify_enveloped_signature`: python3-saml looks for a query-string
        # signature only, which that binding does not have.
        embedded = copy.deepcopy(base)
        embedded["security"]["wantMessagesSigned"] = False
        self._verified_post_settings = OneLogin_Saml2_Settings(embedded, sp_validation_only=False)

        idp_data = self.saml_settings.get_idp_data()
        self.idp_entity_id: str = idp_data["entityId"]
        self.sso_url: str = idp_data["singleSignOnService"]["url"]
        self.slo_url: str = idp_data["singleLogoutService"]["url"]
        self.slo_response_url: str = idp_data["singleLogoutService"].get("responseUrl") or self.slo_url
        multi = idp_data.get("x509certMulti", {}).get("signing") or []
        single = self.saml_settings.get_idp_cert()
        self._idp_certs: list[str] = ([OneLogin_Saml2_Utils.format_cert(c) for c in multi]
                                      or ([single] if single else []))
        if not self._idp_certs:
            raise SamlNotConfigured("the IdP metadata holds no signing certificate")
        self.idp_origins: tuple[str, ...] = tuple(dict.fromkeys(
            _origin(u) for u in (self.sso_url, self.slo_url, self.slo_response_url)))

    # ------------------------------------------------------------ requests to python3-saml

    def _request_data(self, path: str, *, post: dict | None = None, get: dict | None = None,
                      query_string: str = "") -> dict:
        """Describe an incoming request as python3-saml expects, from our configured public address.

        Built from ``base_url``, never from the Host header, so a proxy or a forged header cannot move
        the Destination / Recipient checks.
        """
        parts = urlsplit(self.settings.base_url)
        return {
            "https": "on" if parts.scheme == "https" else "off",
            "http_host": parts.netloc,
            "script_name": parts.path.rstrip("/") + path,
            "get_data": dict(get or {}),
            "post_data": dict(post or {}),
            "query_string": query_string,
            "validate_signature_from_qs": bool(query_string),
        }

    def _sign(self, root) -> bytes:
        return OneLogin_Saml2_Utils.add_sign(root, self._key, self._cert, sign_algorithm=C.RSA_SHA256,
                                             digest_algorithm=C.SHA256)

    def _redirect_url(self, url: str, kind: str, xml: str, relay_state: str | None, extra: dict) -> str:
        data = {kind: OneLogin_Saml2_Utils.deflate_and_base64_encode(xml)}
        if relay_state:
            data["RelayState"] = relay_state
        auth = OneLogin_Saml2_Auth(self._request_data("/"), self.saml_settings)
        signed = auth._build_sign_query(data[kind], data.get("RelayState"), C.RSA_SHA256, kind)  # noqa: SLF001
        if kind == "SAMLRequest":
            auth.add_request_signature(data, C.RSA_SHA256)
        else:
            auth.add_response_signature(data, C.RSA_SHA256)
        query = signed + "&Signature=" + OneLogin_Saml2_Utils.escape_url(data["Signature"])
        if extra:
            query += "&" + urlencode(extra)
        return url + ("&" if "?" in url else "?") + query

    # ------------------------------------------------------------ outgoing

    def authn_request(self, *, lang: str | None = None, relay_state: str | None = None,
                      force_authn: bool = False) -> OutgoingMessage:
        """A signed AuthnRequest: ``<NameIDPolicy AllowCreate="true"/>`` without Format, as MPass asks.

        ``force_authn``: MPass must authenticate the person again even if it has a session (a CUPS visitor
        logging in on the computer where the specialist is logged in)."""
        request = OneLogin_Saml2_Authn_Request(self.saml_settings, force_authn=force_authn, is_passive=False,
                                               set_nameid_policy=True)
        root = OneLogin_Saml2_XML.to_etree(request.get_xml())
        for policy in OneLogin_Saml2_XML.query(root, "/samlp:AuthnRequest/samlp:NameIDPolicy"):
            policy.attrib.pop("Format", None)
        extra = {"lang": lang} if lang else {}
        if self.authn_binding == REDIRECT:
            xml = OneLogin_Saml2_XML.to_string(root).decode("utf-8")
            url = self._redirect_url(self.sso_url, "SAMLRequest", xml, relay_state, extra)
            return OutgoingMessage(id=request.get_id(), binding=REDIRECT, url=url)
        fields = {"SAMLRequest": base64.b64encode(self._sign(root)).decode("ascii")}
        if relay_state:
            fields["RelayState"] = relay_state
        url = self.sso_url + (("&" if "?" in self.sso_url else "?") + urlencode(extra) if extra else "")
        return OutgoingMessage(id=request.get_id(), binding=POST, url=url, fields=fields)

    def logout_request(self, *, name_id: str, session_index: str | None) -> OutgoingMessage:
        """A signed LogoutRequest naming the person and the MPass session, by HTTP-POST binding."""
        request = OneLogin_Saml2_Logout_Request(
            self.saml_settings, name_id=name_id,
            session_index=xml_escape(session_index) if session_index else None)
        root = OneLogin_Saml2_XML.to_etree(request.get_xml())
        fields = {"SAMLRequest": base64.b64encode(self._sign(root)).decode("ascii")}
        return OutgoingMessage(id=request.id, binding=POST, url=self.slo_url, fields=fields)

    def logout_response(self, *, in_response_to: str, status: str = C.STATUS_SUCCESS) -> OutgoingMessage:
        """A signed LogoutResponse to an IdP-initiated LogoutRequest, by HTTP-POST binding."""
        response = OneLogin_Saml2_Logout_Response(self.saml_settings)
        response.build(in_response_to, status)
        root = OneLogin_Saml2_XML.to_etree(response.get_xml())
        fields = {"SAMLResponse": base64.b64encode(self._sign(root)).decode("ascii")}
        return OutgoingMessage(id=response.id, binding=POST, url=self.slo_response_url, fields=fields)

    def metadata(self) -> str:
        return sp_metadata_xml(self.settings)

    # ------------------------------------------------------------ incoming: login

    @staticmethod
    def peek_in_response_to(saml_response: str) -> str | None:
        """InResponseTo of a posted (base64) Response, read *before* any validation to find our request.

        Nothing else is trusted from it until :meth:`verify_response` has checked the signature.
        """
        try:
            root = OneLogin_Saml2_XML.to_etree(OneLogin_Saml2_Utils.b64decode(saml_response))
        except Exception:  # noqa: BLE001 - garbage in: no request to match
            return None
        if root.tag != "{%s}Response" % C.NS_SAMLP:
            return None
        value = root.get("InResponseTo")
        return value or None

    @staticmethod
    def check_structure(saml_response: str) -> None:
        """The portal's own checks on the shape of a Response, before python3-saml reads it.

        MPass sends exactly one Response with one Assertion, each with one enveloped signature whose single
        Reference names its parent.  Anything else is refused here, whatever a signature library would make of
        it: a DTD or entity (``dtd_forbidden``); a second or nested Assertion, an encrypted one, an Extensions or
        ds:Object hiding signed content, a signature that references another element, a duplicated ID, a
        comment or processing instruction (a comment inside a NameID splits its text) (``unexpected_structure``).
        """
        try:
            raw = OneLogin_Saml2_Utils.b64decode(saml_response)
        except Exception as exc:  # noqa: BLE001
            raise SamlRefused("malformed_response", "base64") from exc
        lowered = raw.lower()
        if b"<!doctype" in lowered or b"<!entity" in lowered:
            raise SamlRefused("dtd_forbidden")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                 huge_tree=False, remove_comments=False, remove_pis=False)
        try:
            tree = etree.fromstring(raw, parser=parser).getroottree()
        except etree.XMLSyntaxError as exc:
            raise SamlRefused("malformed_response", "xml") from exc
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            raise SamlRefused("dtd_forbidden")
        root = tree.getroot()
        if root.tag != "{%s}Response" % C.NS_SAMLP:
            raise SamlRefused("unexpected_structure", "not a Response")
        for node in root.iter(etree.Comment, etree.ProcessingInstruction, etree.Entity):
            raise SamlRefused("unexpected_structure", "comment, entity or processing instruction")
        assertions = root.findall(".//{%s}Assertion" % C.NS_SAML)
        if len(assertions) != 1 or assertions[0].getparent() is not root:
            raise SamlRefused("unexpected_structure", "exactly one Assertion, a child of the Response")
        if root.findall(".//{%s}EncryptedAssertion" % C.NS_SAML) or root.findall(".//{%s}Object" % C.NS_DS) \
                or root.findall(".//{%s}Extensions" % C.NS_SAMLP):
            raise SamlRefused("unexpected_structure", "encrypted assertion, Object or Extensions")
        ids = [e.get("ID") for e in root.iter() if isinstance(e.tag, str) and e.get("ID") is not None]
        if len(ids) != len(set(ids)):
            raise SamlRefused("unexpected_structure", "duplicated ID")
        assertion = assertions[0]
        signatures = root.findall(".//{%s}Signature" % C.NS_DS)
        for signature in signatures:
            parent = signature.getparent()
            references = signature.findall("./{%s}SignedInfo/{%s}Reference" % (C.NS_DS, C.NS_DS))
            if parent not in (root, assertion) or len(references) != 1 \
                    or references[0].get("URI") != "#" + (parent.get("ID") or "\0"):
                raise SamlRefused("unexpected_structure", "a signature that does not sign its parent")
        if sorted(s.getparent() is root for s in signatures) != [False, True]:
            raise SamlRefused("unsigned", "the Response and its Assertion must each carry one signature")

    def verify_response(self, saml_response: str, *, request_id: str, now: dt.datetime) -> VerifiedAssertion:
        """Validate a Response posted to the ACS as the answer to our AuthnRequest ``request_id``.

        python3-saml (strict) checks the signatures of Response and Assertion against the pinned
        certificate, the algorithms, schema, Destination, Audience, Issuer, InResponseTo, Recipient,
        NotBefore / NotOnOrAfter and the status.  On top of that, as the official MPass client does:
        IssueInstant within 10 minutes, a SessionIndex, a Destination and a bearer confirmation that
        names our ACS with a NotOnOrAfter.
        """
        self.check_structure(saml_response)
        request_data = self._request_data(ACS_PATH, post={"SAMLResponse": saml_response})
        try:
            # What OneLogin_Saml2_Auth.process_response does, keeping python3-saml's error code for the audit.
            response = OneLogin_Saml2_Response(self.saml_settings, saml_response)
            response.is_valid(request_data, request_id, raise_exceptions=True)
            name_id = response.get_nameid()
        except OneLogin_Saml2_ValidationError as exc:
            raise SamlRefused(_VALIDATION_REASONS.get(exc.code, "invalid_response"), str(exc)) from exc
        except OneLogin_Saml2_Error as exc:
            raise SamlRefused("invalid_response", str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - malformed XML, bad base64, ...
            raise SamlRefused("malformed_response", type(exc).__name__) from exc

        # From here on, ``response.document`` is the document python3-saml has just validated.
        root = response.document
        if response.get_in_response_to() != request_id:
            raise SamlRefused("wrong_in_response_to")
        if not root.get("Destination"):
            raise SamlRefused("missing_destination")
        confirmations = response._query_assertion(  # noqa: SLF001 - the signed assertion only
            "/saml:Subject/saml:SubjectConfirmation[@Method='%s']/saml:SubjectConfirmationData" % C.CM_BEARER)
        acs = self.settings.base_url.rstrip("/") + ACS_PATH
        if not any(c.get("Recipient") == acs and c.get("NotOnOrAfter") and c.get("InResponseTo") == request_id
                   for c in confirmations):
            raise SamlRefused("bad_subject_confirmation")

        # python3-saml allows five minutes of clock drift on validity periods; the portal allows less.
        periods = response._query_assertion("/saml:Conditions") + list(confirmations)  # noqa: SLF001
        for period in periods:
            not_before, not_after = _parse_instant(period.get("NotBefore")), _parse_instant(period.get("NotOnOrAfter"))
            if not_before is not None and now < not_before - MAX_CLOCK_SKEW:
                raise SamlRefused("not_yet_valid", not_before.isoformat())
            if not_after is not None and now >= not_after + VALIDITY_SKEW:
                raise SamlRefused("expired", not_after.isoformat())

        issue_instant = _parse_instant(root.get("IssueInstant"))
        assertion_epoch = response.get_assertion_issue_instant()
        assertion_instant = (dt.datetime.fromtimestamp(assertion_epoch, dt.timezone.utc)
                             if assertion_epoch is not None else None)
        for instant in (issue_instant, assertion_instant):
            if instant is None:
                raise SamlRefused("missing_issue_instant")
            check_fresh(instant, now)

        session_index = response.get_session_index()
        if not session_index:
            raise SamlRefused("missing_session_index")
        if not name_id:
            raise SamlRefused("missing_name_id")
        return VerifiedAssertion(
            in_response_to=request_id,
            response_id=response.get_id(),
            assertion_id=response.get_assertion_id(),
            name_id=name_id,
            session_index=session_index,
            attributes=response.get_attributes(),
            issue_instant=issue_instant,
        )

    # ------------------------------------------------------------ incoming: logout

    def verify_logout_request(self, *, post: dict | None = None, get: dict | None = None,
                              query_string: str = "", now: dt.datetime) -> VerifiedLogoutRequest:
        """An IdP-initiated LogoutRequest, by HTTP-POST (enveloped signature) or HTTP-Redirect (query signature)."""
        data, settings, request_data = self._incoming("SAMLRequest", post=post, get=get, query_string=query_string)
        try:
            request = OneLogin_Saml2_Logout_Request(settings, data["SAMLRequest"])
            xml = request.get_xml()
        except Exception as exc:  # noqa: BLE001
            raise SamlRefused("malformed_logout_request", type(exc).__name__) from exc
        root = OneLogin_Saml2_XML.to_etree(xml)
        if root.tag != "{%s}LogoutRequest" % C.NS_SAMLP:
            raise SamlRefused("malformed_logout_request", root.tag)
        if post is not None:
            self._verify_enveloped_signature(root)
        if not request.is_valid(request_data):
            raise SamlRefused("invalid_logout_request", request.get_error() or "")
        if OneLogin_Saml2_Logout_Request.get_issuer(root) != self.idp_entity_id:
            raise SamlRefused("wrong_issuer")
        instant = _parse_instant(root.get("IssueInstant"))
        if instant is None:
            raise SamlRefused("missing_issue_instant")
        check_fresh(instant, now)
        try:
            name_id = OneLogin_Saml2_Logout_Request.get_nameid(root)
        except Exception as exc:  # noqa: BLE001
            raise SamlRefused("missing_name_id", str(exc)) from exc
        if not name_id:
            raise SamlRefused("missing_name_id")
        return VerifiedLogoutRequest(id=root.get("ID"), name_id=name_id,
                                     session_indexes=OneLogin_Saml2_Logout_Request.get_session_indexes(root))

    @staticmethod
    def peek_logout_in_response_to(*, post: dict | None = None, get: dict | None = None) -> str | None:
        data = post if post is not None else (get or {})
        try:
            xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(data["SAMLResponse"], ignore_zip=True)
            root = OneLogin_Saml2_XML.to_etree(xml)
        except Exception:  # noqa: BLE001
            return None
        if root.tag != "{%s}LogoutResponse" % C.NS_SAMLP:
            return None
        return root.get("InResponseTo") or None

    def verify_logout_response(self, *, request_id: str, post: dict | None = None, get: dict | None = None,
                               query_string: str = "", now: dt.datetime) -> VerifiedLogoutResponse:
        """The IdP's answer to our LogoutRequest ``request_id``."""
        data, settings, request_data = self._incoming("SAMLResponse", post=post, get=get, query_string=query_string)
        try:
            response = OneLogin_Saml2_Logout_Response(settings, data["SAMLResponse"])
        except Exception as exc:  # noqa: BLE001
            raise SamlRefused("malformed_logout_response", type(exc).__name__) from exc
        root = response.document
        if root.tag != "{%s}LogoutResponse" % C.NS_SAMLP:
            raise SamlRefused("malformed_logout_response", root.tag)
        if post is not None:
            self._verify_enveloped_signature(root)
        if not response.is_valid(request_data, request_id=request_id):
            raise SamlRefused("invalid_logout_response", response.get_error() or "")
        if response.get_in_response_to() != request_id:
            raise SamlRefused("wrong_in_response_to")
        if response.get_issuer() != self.idp_entity_id:
            raise SamlRefused("wrong_issuer")
        instant = _parse_instant(root.get("IssueInstant"))
        if instant is None:
            raise SamlRefused("missing_issue_instant")
        check_fresh(instant, now)
        status = response.get_status() or ""
        if status not in LOGOUT_OK_STATUSES:
            raise SamlRefused("logout_not_successful", status)
        return VerifiedLogoutResponse(id=root.get("ID"), in_response_to=request_id, status=status)

    def _incoming(self, kind: str, *, post: dict | None, get: dict | None, query_string: str):
        """Pick the binding and check a Redirect-binding signature.

        Returns (message data, python3-saml settings to validate with, request_data).
        """
        if post is not None and kind in post:
            return post, self._verified_post_settings, self._request_data(SLS_PATH, post=post)
        if get is not None and kind in get:
            request_data = self._request_data(SLS_PATH, get=get, query_string=query_string)
            if get.get("SigAlg") not in ALLOWED_SIGNATURE_METHODS:
                raise SamlRefused("unsigned_or_weak_signature", str(get.get("SigAlg")))
            auth = OneLogin_Saml2_Auth(request_data, self.saml_settings)
            valid = (auth.validate_request_signature(get) if kind == "SAMLRequest"
                     else auth.validate_response_signature(get))
            if not valid:
                raise SamlRefused("bad_signature", auth.get_last_error_reason() or "")
            return get, self.saml_settings, request_data
        raise SamlRefused("no_message", kind)

    def _verify_enveloped_signature(self, root) -> None:
        """Check the enveloped XML signature of a logout message received by HTTP-POST.

        Exactly one ds:Signature, a child of the root element, whose single Reference points at the root's
        ID (no signature wrapping), with a current algorithm, valid under the pinned IdP certificate.
        """
        signatures = OneLogin_Saml2_XML.query(root, "//ds:Signature")
        if not signatures:
            raise SamlRefused("unsigned")
        if len(signatures) != 1 or signatures[0].getparent() is not root:
            raise SamlRefused("bad_signature", "unexpected signature placement")
        signature = signatures[0]
        references = OneLogin_Saml2_XML.query(signature, "./ds:SignedInfo/ds:Reference")
        if len(references) != 1 or not root.get("ID") or references[0].get("URI") != "#" + root.get("ID"):
            raise SamlRefused("bad_signature", "the signature does not cover the message")
        methods = OneLogin_Saml2_XML.query(signature, "./ds:SignedInfo/ds:SignatureMethod")
        digests = OneLogin_Saml2_XML.query(signature, "./ds:SignedInfo/ds:Reference/ds:DigestMethod")
        if (not methods or methods[0].get("Algorithm") not in ALLOWED_SIGNATURE_METHODS
                or not digests or digests[0].get("Algorithm") not in ALLOWED_DIGEST_METHODS):
            raise SamlRefused("bad_signature", "signature algorithm not allowed")
        local = root.tag.split("}")[-1]
        xpath = "/samlp:%s/ds:Signature" % local
        document = OneLogin_Saml2_XML.to_string(root)
        if not any(OneLogin_Saml2_Utils.validate_sign(document, cert, xpath=xpath) for cert in self._idp_certs):
            raise SamlRefused("bad_signature", "signature not valid under the IdP certificate")


def _parse_instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(OneLogin_Saml2_Utils.parse_SAML_to_time(value), dt.timezone.utc)
    except (ValueError, TypeError):
        return None


def check_fresh(instant: dt.datetime, now: dt.datetime) -> None:
    """MPass: a message's IssueInstant must lie within the last 10 minutes (with a little skew ahead)."""
    if instant < now - MAX_MESSAGE_AGE:
        raise SamlRefused("expired", instant.isoformat())
    if instant > now + MAX_CLOCK_SKEW:
        raise SamlRefused("issued_in_future", instant.isoformat())

