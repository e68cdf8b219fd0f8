"""MPass login routes: the SAML 2.0 service provider's endpoints.

Thin on purpose: SAML lives in :mod:`portal.auth.saml`, meaning (requests,
replay, accounts, sessions) in :mod:`portal.auth.services`.

* ``GET /auth/login`` – a signed AuthnRequest, auto-posted to MPass;
* ``POST /auth/acs`` – MPass's signed Response (cross-site: no cookie is relied on);
* ``POST /auth/logout`` – end the local session, then SP-initiated single logout;
* ``GET|POST /auth/sls`` – MPass's LogoutResponse, or an IdP-initiated LogoutRequest;
* ``GET /auth/metadata`` – our SP metadata.

``app.config["ESOCIAL_SAML_AUTHN_BINDING"]`` = ``"redirect"`` sends the AuthnRequest by
HTTP-Redirect instead of HTTP-POST (MPass accepts it but recommends POST).
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, Response, current_app, make_response, redirect, render_template, request, \
    session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal import csrf
from portal.accounts import sessions
from portal.auth import services
from portal.auth.saml import POST, OutgoingMessage, SamlNotConfigured, ServiceProvider, sp_metadata_xml
from portal.core import clock, i18n, limits
from portal.core.db import db
from portal.core.security import public

bp = Blueprint("auth", __name__, url_prefix="/auth")

EXTENSION = "esocial_saml_sp"
BINDING_KEY = "ESOCIAL_SAML_AUTHN_BINDING"


# ---------------------------------------------------------------- the service provider, once per app


def init_app(app: Flask) -> None:
    """Build the SP when the app is created, so configuration errors show at start and the CSP knows the IdP."""
    try:
        build_service_provider(app)
    except SamlNotConfigured as exc:
        if app.config["ESOCIAL"].is_production:
            raise
        app.logger.warning("MPass login is not configured yet (%s); it will be retried on first use", exc)


def build_service_provider(app: Flask) -> ServiceProvider:
    sp = ServiceProvider(app.config["ESOCIAL"], authn_binding=app.config.get(BINDING_KEY, POST))
    app.extensions[EXTENSION] = sp
    # portal.core.web lets forms post to the IdP (HTTP-POST binding) and nowhere else.
    app.config["ESOCIAL_IDP_ORIGIN"] = " ".join(sp.idp_origins)
    return sp


def service_provider() -> ServiceProvider:
    app = current_app._get_current_object()  # noqa: SLF001
    return app.extensions.get(EXTENSION) or build_service_provider(app)


bp.record_once(lambda state: init_app(state.app))


def _settings():
    return current_app.config["ESOCIAL"]


def _timeout() -> dt.timedelta:
    return dt.timedelta(seconds=_settings().saml_message_timeout_seconds)


def _unavailable():
    return render_template("errors/error.html", code=503, title=_("Login with MPass is not available right now"),
                           message=_("Try again in a few minutes. Nothing you saved is lost.")), 503


def _send(message: OutgoingMessage, *, title: str, lead: str, button: str):
    """Carry a message to the IdP: an auto-submitting form (HTTP-POST) or a redirect (HTTP-Redirect)."""
    if message.binding != POST:
        response = redirect(message.url, code=303)
    else:
        response = make_response(render_template("auth/post_binding.html", message=message, title=title,
                                                 lead=lead, button=button))
    response.headers["Cache-Control"] = "no-store"
    return response


def _default_return() -> str:
    return url_for("citizen.my_applications")


# ---------------------------------------------------------------- routes


@bp.get("/login")
@public
@limits.login
def login():
    if current_user.is_authenticated:
        return redirect(services.safe_return_to(request.args.get("next")) or _default_return())
    try:
        sp = service_provider()
    except SamlNotConfigured:
        return _unavailable()
    message = services.begin_login(sp, next_url=request.args.get("next"), default_return=_default_return(),
                                   lang=str(get_locale() or _settings().default_language), now=clock.now(),
                                   timeout=_timeout())
    return _send(message, title=_("Continue to MPass"),
                 lead=_("You log in to eSocial with MPass, the government login service. If MPass does not open "
                        "by itself, press the button."),
                 button=_("Continue to MPass"))


@bp.post("/acs")
@csrf.exempt
@public
@limits.login
def acs():
    try:
        sp = service_provider()
    except SamlNotConfigured:
        return _unavailable()
    try:
        verified = services.verify_login(sp, request.form.get("SAMLResponse"), now=clock.now(), timeout=_timeout())
    except services.LoginRefused as refusal:
        services.record_refusal("login_refused", refusal)
        return render_template("auth/refused.html", title=_("You have not been logged in"),
                               message=refusal.message, retry=True), 400
    if verified.kind == services.VISITOR:  # a CUPS visitor identified themselves: nobody is logged in
        from portal.assisted.services import visitor_identified

        visitor_identified(db.session, verified.request_id, idnp=verified.assertion.name_id,
                           attributes=services.account_attributes(verified.assertion, _settings().languages))
        return redirect(verified.return_to or url_for("assisted.desk"), code=303)
    account, _login = services.sign_in(verified, languages=_settings().languages)
    if session.get(i18n.SESSION_KEY) not in _settings().languages:
        session[i18n.SESSION_KEY] = account.language
    return redirect(verified.return_to or _default_return(), code=303)


@bp.post("/logout")
@public
def logout():
    if not current_user.is_authenticated:
        return redirect(url_for("citizen.home"))
    try:
        sp = service_provider()
    except SamlNotConfigured:
        sp = None
    message = services.begin_logout(sp, current_user._get_current_object(), now=clock.now())  # noqa: SLF001
    if message is None:
        return render_template("auth/logged_out.html")
    return _send(message, title=_("Logging you out of MPass"),
                 lead=_("You have logged out of eSocial. To end your MPass session as well, eSocial is sending you "
                        "to MPass. If it does not open by itself, press the button."),
                 button=_("Continue to MPass"))


@bp.route("/sls", methods=["GET", "POST"])
@csrf.exempt
@public
def sls():
    try:
        sp = service_provider()
    except SamlNotConfigured:
        return _unavailable()
    post = request.form.to_dict() if request.method == "POST" else None
    get = request.args.to_dict() if request.method == "GET" else None
    data = post if post is not None else get
    query_string = request.query_string.decode("ascii", "replace") if get is not None else ""

    if "SAMLResponse" in data:  # MPass answers our LogoutRequest
        try:
            services.finish_logout(sp, post=post, get=get, query_string=query_string, now=clock.now(),
                                   timeout=_timeout())
        except services.LogoutRefused as refusal:
            services.record_refusal("logout_refused", refusal)
            _end_browser_session()
            return render_template("auth/refused.html", title=_("MPass did not confirm the logout"),
                                   message=refusal.message, logged_out=True), 400
        _end_browser_session()
        return render_template("auth/logged_out.html")

    if "SAMLRequest" in data:  # MPass asks us to end a session (logout started elsewhere)
        try:
            answer = services.logout_from_idp(sp, post=post, get=get, query_string=query_string, now=clock.now())
        except services.LogoutRefused as refusal:
            services.record_refusal("logout_refused", refusal)
            return render_template("auth/refused.html", title=_("The logout request was not accepted"),
                                   message=refusal.message), 400
        _end_browser_session()
        return _send(answer, title=_("You have logged out"),
                     lead=_("You have logged out of eSocial. If MPass does not open by itself, press the button."),
                     button=_("Continue to MPass"))

    return render_template("auth/refused.html", title=_("The logout request was not accepted"),
                           message=services.LOGOUT_GENERIC), 400


def _end_browser_session() -> None:
    if current_user.is_authenticated:
        sessions.end_current(current_user._get_current_object())  # noqa: SLF001


@bp.get("/metadata")
@public
def metadata():
    try:
        xml = sp_metadata_xml(_settings())
    except SamlNotConfigured:
        return _unavailable()
    return Response(xml, mimetype="application/samlmetadata+xml")
