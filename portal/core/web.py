"""Request plumbing shared by every blueprint: the single commit, errors, headers, template helpers."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.core import i18n
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import public

bp = Blueprint("site", __name__)


@bp.post("/language")
@public
def set_language():
    """Switch language (a form button: works without JavaScript); saved on the account too."""
    lang = request.form.get("lang", "")
    if lang in i18n.supported():
        session[i18n.SESSION_KEY] = lang
        if current_user.is_authenticated:
            current_user.language = lang
    target = request.form.get("next") or url_for("citizen.home")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("citizen.home")
    return redirect(target)


@bp.get("/healthz")
@public
def health():
    return {"status": "ok"}


def _commit(response):
    """One commit per request: whatever the services added is written if the request succeeded."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _security_headers(response):
    from flask import current_app

    for name, value in security_headers(current_app):
        response.headers.setdefault(name, value)
    return response


def security_headers(app) -> list[tuple[str, str]]:
    """The headers every answer carries (also those answered before Flask: ``portal.citizen.fastpage``)."""
    settings = app.config["ESOCIAL"]
    headers = []
    if settings.base_url.startswith("https://") and settings.hsts_seconds:
        headers.append(("Strict-Transport-Security", f"max-age={settings.hsts_seconds}; includeSubDomains"))
    headers += [
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         "form-action 'self' " + app.config.get("ESOCIAL_IDP_ORIGIN", "") + "; frame-ancestors 'none'; "
         "base-uri 'self'"),
    ]
    return headers


def init_app(app: Flask) -> None:
    from portal.core import limits

    limits.init_app(app)
    app.register_blueprint(bp)
    app.after_request(_commit)
    app.after_request(_security_headers)

    @app.teardown_appcontext
    def _remove_session(exc):
        if exc is not None:
            db.session.rollback()
        db.session.remove()

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return render_template("errors/error.html", code=400,
                               title=_l("This form has expired"),
                               message=_l("For your safety the form was not sent. Go back, reload the page "
                                          "and try again: nothing you saved before is lost.")), 400

    @app.errorhandler(DomainError)
    def _domain(e):
        return render_template("errors/error.html", code=409, title=_l("This cannot be done"),
                               message=str(e)), 409

    @app.errorhandler(403)
    def _forbidden(e):
        return render_template("errors/error.html", code=403, title=_l("You do not have access to this page"),
                               message=_l("If you think you should, contact your agency's administrator.")), 403

    @app.errorhandler(404)
    def _not_found(e):
        return render_template("errors/error.html", code=404, title=_l("Page not found"),
                               message=_l("Check the address, or start again from the home page.")), 404

    @app.errorhandler(413)
    def _too_large(e):
        return render_template("errors/error.html", code=413, title=_l("The file is too large"),
                               message=_l("Files can be up to 5 MB. Go back and choose a smaller file.")), 413

    @app.errorhandler(429)
    def _too_many(e):
        response = app.make_response((render_template(
            "errors/error.html", code=429, title=_l("Too many attempts"),
            message=_l("For your safety eSocial limits how often this can be tried. Wait a few minutes, "
                       "then try again.")), 429))
        retry_after = getattr(e, "retry_after", None)
        if retry_after:
            response.headers.setdefault("Retry-After", str(retry_after))
        return response

    @app.errorhandler(500)
    def _server_error(e):
        return render_template("errors/error.html", code=500, title=_l("Sorry, something went wrong"),
                               message=_l("Nothing you saved is lost. Try again in a few minutes.")), 500

    @app.context_processor
    def _globals():
        from portal.applications import status

        return {
            "LANGUAGE_NAMES": i18n.LANGUAGE_NAMES,
            "current_language": str(get_locale() or "ro"),
            "localized": i18n.localized,
            "money": i18n.money,
            "status_label": status.label,
        }
