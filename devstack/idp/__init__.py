"""The development MPass: a real SAML 2.0 identity provider (pysaml2) with a person picker.

    from devstack.idp import create_app
    idp = create_app(base_url="http://localhost:5001", instance_dir=Path("instance"),
                     sp_metadata_file=Path("instance/saml/sp-metadata.xml"))
    idp.run(port=5001)

On creation it makes its key pair (``instance/saml/dev-idp.crt|key``) and writes its metadata to
``instance/saml/dev-idp-metadata.xml``, which ``config/development.toml`` points the portal at.  It trusts the
service provider described by ``sp_metadata_file`` (written by the launcher with
:func:`portal.auth.saml.sp_metadata_xml`), re-reading it when the file changes.

Endpoints, as on MPass: ``/login/saml`` (SSO), ``/logout/saml`` (SLO), ``/meta/saml`` (metadata); both
HTTP-POST and HTTP-Redirect bindings.  Extra, for development: ``/logout/everywhere`` starts an IdP-initiated
single logout, ``/`` says who is logged in.
"""
from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from flask import Flask, Response, abort, redirect, render_template, request, session, url_for
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NameID
from saml2.server import Server

from devstack import demo_people
from devstack.idp import server as saml_server
from devstack.idp import texts
from devstack.keys import ensure_keypair
from portal.core.idnp import mask as mask_idnp

__all__ = ["create_app", "DevIdentityProvider", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = saml_server.DEFAULT_BASE_URL
METADATA_FILENAME = "dev-idp-metadata.xml"
KEY_NAME = "dev-idp"
PENDING_LIFETIME = dt.timedelta(minutes=10)
HERE = Path(__file__).resolve().parent


class RequestRefused(Exception):
    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key


@dataclass
class PendingLogin:
    request_id: str
    sp_entity_id: str
    acs_url: str
    relay_state: str
    lang: str
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass
class PendingLogout:
    request_id: str
    sp_entity_id: str
    idnp: str
    remaining: dict[str, str]  # SPs still to log out: entity id -> session index
    lang: str
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


class DevIdentityProvider:
    """The pysaml2 server plus the state a real IdP keeps: pending requests, by id, in this process."""

    def __init__(self, *, base_url: str, instance_dir: Path, sp_metadata_file: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.saml_dir = Path(instance_dir) / "saml"
        self.cert_file, self.key_file = ensure_keypair(self.saml_dir, KEY_NAME)
        self.sp_metadata_file = Path(sp_metadata_file)
        self.metadata_file = self.saml_dir / METADATA_FILENAME
        own = saml_server.idp_config(base_url=self.base_url, cert_file=self.cert_file, key_file=self.key_file,
                                     sp_metadata_files=[])
        self.metadata = saml_server.metadata_xml(own)
        self.metadata_file.write_text(self.metadata, encoding="utf-8")
        self._server: Server | None = None
        self._mtime: float | None = None
        self._lock = threading.Lock()
        self.pending_logins: dict[str, PendingLogin] = {}
        self.pending_logouts: dict[str, PendingLogout] = {}

    @property
    def entity_id(self) -> str:
        return saml_server.entity_id(self.base_url)

    @property
    def server(self) -> Server:
        """The pysaml2 server, rebuilt when the SP metadata file changes (new SP keys, new address)."""
        try:
            mtime = self.sp_metadata_file.stat().st_mtime
        except FileNotFoundError as exc:
            raise RequestRefused("no_sp_metadata", str(self.sp_metadata_file)) from exc
        with self._lock:
            if self._server is None or mtime != self._mtime:
                self._server = saml_server.build_server(base_url=self.base_url, cert_file=self.cert_file,
                                                        key_file=self.key_file,
                                                        sp_metadata_files=[self.sp_metadata_file])
                self._mtime = mtime
            return self._server

    def _expire(self) -> None:
        cutoff = dt.datetime.now(dt.timezone.utc) - PENDING_LIFETIME
        with self._lock:
            for store in (self.pending_logins, self.pending_logouts):
                for key in [k for k, v in store.items() if v.created_at < cutoff]:
                    del store[key]

    # ------------------------------------------------------------ SSO

    def receive_authn_request(self, *, binding: str, saml_request: str, relay_state: str, sigalg: str | None,
                              signature: str | None, lang: str) -> str:
        """Verify the SP's signed AuthnRequest; keep it pending; return the key of the person picker."""
        server = self.server
        try:
            parsed = server.parse_authn_request(saml_request, binding, relay_state=relay_state or None,
                                                sigalg=sigalg, signature=signature)
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types for bad or unsigned input
            raise RequestRefused("bad_signature" if "sign" in str(exc).lower() else "bad_request",
                                 repr(exc)) from exc
        if parsed is None:
            raise RequestRefused("bad_request")
        message = parsed.message
        try:
            args = server.response_args(message, [BINDING_HTTP_POST])
        except Exception as exc:  # noqa: BLE001 - unknown SP or ACS not in its metadata
            raise RequestRefused("bad_request", repr(exc)) from exc
        key = secrets.token_urlsafe(24)
        self._expire()
        with self._lock:
            self.pending_logins[key] = PendingLogin(request_id=args["in_response_to"],
                                                    sp_entity_id=args["sp_entity_id"],
                                                    acs_url=args["destination"], relay_state=relay_state,
                                                    lang=lang)
        return key

    def pending_login(self, key: str) -> PendingLogin:
        self._expire()
        with self._lock:
            pending = self.pending_logins.get(key)
        if pending is None:
            raise RequestRefused("expired")
        return pending

    def answer_login(self, key: str, person: demo_people.DemoPerson) -> tuple[PendingLogin, dict, str]:
        """The signed Response for ``person``, as pysaml2's HTTP-POST binding; plus the SessionIndex."""
        with self._lock:
            pending = self.pending_logins.pop(key, None)
        if pending is None:
            raise RequestRefused("expired")
        server = self.server
        issued = saml_server.authn_response(server, person=person, in_response_to=pending.request_id,
                                            destination=pending.acs_url, sp_entity_id=pending.sp_entity_id)
        info = server.apply_binding(BINDING_HTTP_POST, issued.xml, destination=pending.acs_url,
                                    relay_state=pending.relay_state, response=True)
        return pending, info, issued.session_index

    def answer_forged(self, key: str) -> tuple[PendingLogin, dict]:
        """A deliberately forged Response, for the security demonstration: genuinely signed for the first demo
        citizen, then its NameID changed to the second's after signing, as an attacker would.  The portal must
        refuse it (the signature no longer matches)."""
        with self._lock:
            pending = self.pending_logins.pop(key, None)
        if pending is None:
            raise RequestRefused("expired")
        signed_for, claimed = demo_people.CITIZENS[0], demo_people.CITIZENS[1]
        issued = saml_server.authn_response(self.server, person=signed_for, in_response_to=pending.request_id,
                                            destination=pending.acs_url, sp_entity_id=pending.sp_entity_id)
        forged = issued.xml.replace(f">{signed_for.idnp}<", f">{claimed.idnp}<")
        info = self.server.apply_binding(BINDING_HTTP_POST, forged, destination=pending.acs_url,
                                         relay_state=pending.relay_state, response=True)
        return pending, info

    # ------------------------------------------------------------ SLO

    def receive_logout_request(self, *, binding: str, saml_request: str, relay_state: str, sigalg: str | None,
                               signature: str | None) -> tuple[object, dict]:
        """Verify the SP's signed LogoutRequest; return it and the signed LogoutResponse (HTTP-POST binding)."""
        server = self.server
        try:
            parsed = server.parse_logout_request(saml_request, binding, relay_state=relay_state or None,
                                                 sigalg=sigalg, signature=signature)
        except Exception as exc:  # noqa: BLE001
            raise RequestRefused("bad_signature" if "sign" in str(exc).lower() else "bad_request",
                                 repr(exc)) from exc
        if parsed is None:
            raise RequestRefused("bad_request")
        message = parsed.message
        response = server.create_logout_response(message, [BINDING_HTTP_POST], sign=True,
                                                 **saml_server.SIGNING)
        args = server.response_args(message, [BINDING_HTTP_POST])
        info = server.apply_binding(BINDING_HTTP_POST, str(response), destination=args["destination"],
                                    relay_state=relay_state, response=True)
        return message, info

    def start_logout(self, *, idnp: str, sps: dict[str, str], lang: str) -> dict | None:
        """IdP-initiated logout: a signed LogoutRequest to the first SP; the others follow its answer."""
        if not sps:
            return None
        sp_entity_id, session_index = next(iter(sps.items()))
        remaining = {k: v for k, v in sps.items() if k != sp_entity_id}
        server = self.server
        _binding, destination = server.pick_binding("single_logout_service", [BINDING_HTTP_POST], "spsso",
                                                    entity_id=sp_entity_id)
        request_id, signed = server.create_logout_request(
            destination, sp_entity_id, name_id=NameID(text=idnp), session_indexes=[session_index], sign=True,
            **saml_server.SIGNING)
        self._expire()
        with self._lock:
            self.pending_logouts[request_id] = PendingLogout(request_id=request_id, sp_entity_id=sp_entity_id,
                                                             idnp=idnp, remaining=remaining, lang=lang)
        return server.apply_binding(BINDING_HTTP_POST, str(signed), destination=destination, relay_state="")

    def receive_logout_response(self, *, binding: str, saml_response: str) -> PendingLogout:
        """The SP's answer to our LogoutRequest: signed, Success, and matching a request we sent."""
        server = self.server
        try:
            parsed = server.parse_logout_request_response(saml_response, binding)
        except Exception as exc:  # noqa: BLE001
            raise RequestRefused("logout_unconfirmed", repr(exc)) from exc
        if parsed is None or parsed.response is None:
            raise RequestRefused("logout_unconfirmed")
        if binding == BINDING_HTTP_POST and parsed.response.signature is None:
            raise RequestRefused("logout_unconfirmed", "unsigned")
        with self._lock:
            pending = self.pending_logouts.pop(parsed.response.in_response_to or "", None)
        if pending is None:
            raise RequestRefused("logout_unconfirmed", "unknown InResponseTo")
        if parsed.response.status.status_code.value != "urn:oasis:names:tc:SAML:2.0:status:Success":
            raise RequestRefused("logout_unconfirmed", "status")
        return pending


# ---------------------------------------------------------------- the web app


def _form_page(info: dict, lang: str, title_key: str = "sending_title"):
    """pysaml2's HTTP-POST binding form, rendered as an accessible page.

    ``apply_binding`` returns a bare page (no ``lang``, no title; its only button is inside ``<noscript>``).
    The form it built — action and hidden fields — is carried over unchanged into our page, which adds
    language, title and a visible Continue button, and submits by a script file (no inline script).
    """
    document = lxml.html.fromstring(info["data"])
    form = document.forms[0]
    fields = [(i.get("name"), i.get("value", "")) for i in form.inputs if i.get("type") == "hidden"]
    return render_template("autopost.html", lang=lang, action=form.get("action"), fields=fields,
                           title_key=title_key)


def _refused(key: str, lang: str, status: int = 400):
    return render_template("message.html", lang=lang, title_key="refused_title", message_key=key), status


def _incoming(kind: str) -> tuple[str, str, str, str | None, str | None]:
    """(binding, message, relay_state, sigalg, signature) of a SAML message in this request."""
    if request.method == "POST":
        data = request.form
        return BINDING_HTTP_POST, data.get(kind, ""), data.get("RelayState", ""), None, None
    data = request.args
    return (BINDING_HTTP_REDIRECT, data.get(kind, ""), data.get("RelayState", ""), data.get("SigAlg"),
            data.get("Signature"))


def create_app(*, base_url: str = DEFAULT_BASE_URL, instance_dir: Path,
               sp_metadata_file: Path) -> Flask:
    """The development MPass as its own Flask app (run it on its own port, 5001 by default)."""
    idp = DevIdentityProvider(base_url=base_url, instance_dir=Path(instance_dir),
                              sp_metadata_file=Path(sp_metadata_file))
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                static_url_path="/static")
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        # The portal on the same host uses "esocial_session": cookies ignore the port, so the names must differ.
        SESSION_COOKIE_NAME="dev_mpass_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlsplit(base_url).scheme == "https",
    )
    app.extensions["dev_idp"] = idp

    def lang_of(value: str | None = None) -> str:
        return texts.pick_language(value or request.args.get("lang") or request.form.get("lang"))

    @app.context_processor
    def _helpers():
        return {"t": texts.text, "LANGUAGE_NAMES": texts.LANGUAGE_NAMES, "mask_idnp": mask_idnp}

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
        return response

    @app.errorhandler(RequestRefused)
    def _on_refused(exc: RequestRefused):
        app.logger.warning("dev IdP refused a message: %s", exc)
        return _refused(exc.key, lang_of())

    @app.get("/")
    def home():
        lang = lang_of()
        person = demo_people.by_idnp(session.get("idnp", ""))
        return render_template("home.html", lang=lang, person=person, sps=session.get("sps", {}))

    @app.get(saml_server.METADATA_PATH)
    def metadata():
        return Response(idp.metadata, mimetype="application/samlmetadata+xml")

    @app.route(saml_server.SSO_PATH, methods=["GET", "POST"])
    def sso():
        lang = lang_of()
        binding, message, relay_state, sigalg, signature = _incoming("SAMLRequest")
        if not message:
            return _refused("bad_request", lang)
        key = idp.receive_authn_request(binding=binding, saml_request=message, relay_state=relay_state,
                                        sigalg=sigalg, signature=signature, lang=lang)
        return redirect(url_for("choose", key=key, lang=lang), code=303)

    @app.get("/login/choose/<key>")
    def choose(key: str):
        pending = idp.pending_login(key)
        lang = texts.pick_language(request.args.get("lang") or pending.lang)
        return render_template("choose.html", lang=lang, key=key, pending=pending,
                               citizens=demo_people.CITIZENS, staff=demo_people.STAFF,
                               current=session.get("idnp"))

    @app.post("/login/choose/<key>")
    def chosen(key: str):
        person = demo_people.by_idnp(request.form.get("idnp", ""))
        if person is None:
            abort(400)
        pending, info, session_index = idp.answer_login(key, person)
        if session.get("idnp") != person.idnp:
            session.clear()
        session["idnp"] = person.idnp
        session["sps"] = {**session.get("sps", {}), pending.sp_entity_id: session_index}
        return _form_page(info, texts.pick_language(request.form.get("lang") or pending.lang))

    @app.post("/login/choose/<key>/forged")
    def forged(key: str):
        """Security demonstration: the portal gets a forged answer and must refuse it."""
        pending, info = idp.answer_forged(key)
        return _form_page(info, texts.pick_language(request.form.get("lang") or pending.lang))

    @app.route(saml_server.SLO_PATH, methods=["GET", "POST"])
    def slo():
        lang = lang_of()
        data = request.form if request.method == "POST" else request.args
        if "SAMLResponse" in data:  # an SP answers our LogoutRequest (logout started here)
            binding, message, _relay, _sigalg, _sig = _incoming("SAMLResponse")
            pending = idp.receive_logout_response(binding=binding, saml_response=message)
            following = idp.start_logout(idnp=pending.idnp, sps=pending.remaining, lang=pending.lang)
            if following is not None:
                return _form_page(following, pending.lang)
            return render_template("message.html", lang=pending.lang, title_key="logged_out_title",
                                   message_key="logged_out_lead"), 200
        binding, message, relay_state, sigalg, signature = _incoming("SAMLRequest")
        if not message:
            return _refused("bad_request", lang)
        logout_request, info = idp.receive_logout_request(binding=binding, saml_request=message,
                                                          relay_state=relay_state, sigalg=sigalg,
                                                          signature=signature)
        session.clear()  # the person's MPass session ends with the SP's request
        return _form_page(info, lang)

    @app.get("/logout/everywhere")
    def logout_everywhere_page():
        lang = lang_of()
        person = demo_people.by_idnp(session.get("idnp", ""))
        return render_template("logout.html", lang=lang, person=person, sps=session.get("sps", {}))

    @app.post("/logout/everywhere")
    def logout_everywhere():
        lang = lang_of()
        idnp, sps = session.get("idnp"), dict(session.get("sps", {}))
        session.clear()
        info = idp.start_logout(idnp=idnp, sps=sps, lang=lang) if idnp else None
        if info is None:
            return render_template("message.html", lang=lang, title_key="logged_out_title",
                                   message_key="logged_out_lead")
        return _form_page(info, lang)

    return app

