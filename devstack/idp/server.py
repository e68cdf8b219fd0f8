"""The SAML side of the development MPass: a pysaml2 ``Server`` configured like MPass.

Kept apart from the Flask views so tests can build the same IdP in process
(:func:`build_server`) and drive it directly, without HTTP.

What mirrors MPass (see docs/platforms.md):

* entity id ``{base_url}/meta/saml``; SSO at ``/login/saml`` and SLO at ``/logout/saml``, HTTP-POST and
  HTTP-Redirect bindings; metadata at ``/meta/saml``;
* AuthnRequests and LogoutRequests must be signed by the SP (its certificate comes from the SP metadata);
* responses *and* assertions are signed, rsa-sha256 / sha256;
* attributes carry plain names (``FirstName``, ``LastName``, ...), not OIDs;
* the NameID is the IDNP with no declared format, and the AuthnStatement carries a SessionIndex.
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAME_FORMAT_BASIC, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from devstack.demo_people import DemoPerson

# Debian's xmlsec1 (apt-get install xmlsec1); pysaml2 shells out to it for every signature.
XMLSEC_BINARY = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
DEFAULT_BASE_URL = "http://localhost:5001"

SSO_PATH = "/login/saml"
SLO_PATH = "/logout/saml"
METADATA_PATH = "/meta/saml"

# The attribute names MPass sends, as they appear in the assertion.
MPASS_ATTRIBUTES = (
    "FirstName", "LastName", "BirthDate", "Gender", "EmailAddress", "MobilePhone", "Language", "IsResident",
)
# MPass asserts how the person authenticated; the dev stand-in claims a password over TLS.
AUTHN_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

SIGNING = {"sign_alg": SIG_RSA_SHA256, "digest_alg": DIGEST_SHA256}

ALGSUPPORT_NS = "urn:oasis:names:tc:SAML:metadata:algsupport"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}


def entity_id(base_url: str) -> str:
    return base_url.rstrip("/") + METADATA_PATH


def _mpass_converter() -> AttributeConverter:
    """Attribute names passed through unchanged (pysaml2's default maps would turn them into OIDs)."""
    converter = AttributeConverter(NAME_FORMAT_BASIC)
    names = {name: name for name in MPASS_ATTRIBUTES}
    converter.from_dict({"identifier": NAME_FORMAT_BASIC, "fro": names, "to": names})
    return converter


def idp_config(*, base_url: str, cert_file: Path, key_file: Path, sp_metadata_files: list[Path]) -> IdPConfig:
    """The pysaml2 configuration of the development MPass."""
    base = base_url.rstrip("/")
    conf = {
        "entityid": entity_id(base),
        "name": "MPass (development stand-in)",
        "description": "eSocial development identity provider",
        "service": {
            "idp": {
                "name": "MPass (development stand-in)",
                "endpoints": {
                    "single_sign_on_service": [
                        (base + SSO_PATH, BINDING_HTTP_POST),
                        (base + SSO_PATH, BINDING_HTTP_REDIRECT),
                    ],
                    "single_logout_service": [
                        (base + SLO_PATH, BINDING_HTTP_POST),
                        (base + SLO_PATH, BINDING_HTTP_REDIRECT),
                    ],
                },
                # Every message an SP sends (AuthnRequest, LogoutRequest) must carry a valid signature.
                "want_authn_requests_signed": True,
                "sign_response": True,
                "sign_assertion": True,
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_BASIC,
                    },
                },
            },
        },
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "xmlsec_binary": XMLSEC_BINARY,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "metadata": {"local": [str(p) for p in sp_metadata_files]},
        "accepted_time_diff": 60,
    }
    config = IdPConfig()
    config.load(conf)
    config.attribute_converters = [_mpass_converter()]
    return config


def build_server(*, base_url: str, cert_file: Path, key_file: Path, sp_metadata_files: list[Path]) -> Server:
    return Server(config=idp_config(base_url=base_url, cert_file=cert_file, key_file=key_file,
                                    sp_metadata_files=sp_metadata_files))


def metadata_xml(config: IdPConfig) -> str:
    """The IdP's metadata document (unsigned: the SP pins the certificate inside it)."""
    descriptor = entity_descriptor(config)
    # pysaml2 advertises every algorithm xmlsec1 knows (md5, sha1, ...); MPass uses rsa-sha256 / sha256 only.
    if descriptor.extensions is not None:
        descriptor.extensions.extension_elements = [
            element for element in descriptor.extensions.extension_elements
            if element.namespace != ALGSUPPORT_NS
            or element.attributes.get("Algorithm") in (SIG_RSA_SHA256, DIGEST_SHA256)
        ]
    return metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"}).decode("utf-8")


def identity_of(person: DemoPerson) -> dict[str, list[str]]:
    """The attributes MPass releases about ``person`` (empty values are left out, as MPass does)."""
    values = {
        "FirstName": person.first_name,
        "LastName": person.last_name,
        "BirthDate": person.birth_date,
        "Gender": str(person.gender),
        "EmailAddress": person.email,
        "MobilePhone": person.phone,
        "Language": person.language,
        "IsResident": "false" if person.abroad_country else "true",
    }
    return {name: [value] for name, value in values.items() if value}


@dataclass(frozen=True)
class IssuedResponse:
    xml: str
    response_id: str
    assertion_id: str
    session_index: str


def authn_response(server: Server, *, person: DemoPerson | None = None, name_id: str | None = None,
                   identity: dict | None = None, in_response_to: str, destination: str, sp_entity_id: str,
                   sign_response: bool = True, sign_assertion: bool = True,
                   signing: dict | None = None) -> IssuedResponse:
    """A signed SAML Response for ``person`` (or an explicit ``name_id`` / ``identity``, for tests)."""
    if person is not None:
        name_id = name_id or person.idnp
        identity = identity if identity is not None else identity_of(person)
    if not name_id:
        raise ValueError("a person or a name_id is required")
    response = server.create_authn_response(
        identity or {},
        in_response_to=in_response_to,
        destination=destination,
        sp_entity_id=sp_entity_id,
        name_id=NameID(text=name_id),  # no Format: MPass declares none
        authn={"class_ref": AUTHN_CONTEXT, "authn_instant": int(dt.datetime.now(dt.timezone.utc).timestamp())},
        sign_response=sign_response,
        sign_assertion=sign_assertion,
        **(signing or SIGNING),  # tests pass weaker algorithms to see them refused
    )
    xml = str(response)
    root = etree.fromstring(xml.encode("utf-8"))
    assertion = root.find("saml:Assertion", NS)
    statement = assertion.find("saml:AuthnStatement", NS) if assertion is not None else None
    return IssuedResponse(
        xml=xml,
        response_id=root.get("ID", ""),
        assertion_id=assertion.get("ID", "") if assertion is not None else "",
        session_index=statement.get("SessionIndex", "") if statement is not None else "",
    )
