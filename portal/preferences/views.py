"""Settings (``/account``), the large-text display toggle, and the end of an idle session."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen, public
from portal.preferences import countries, forms, services, web

bp = Blueprint("preferences", __name__)
bp.record_once(lambda state: web.init_app(state.app))
CLEAR_SITE_DATA = '"cache", "storage"'


def _lang() -> str:
    return str(get_locale() or "ro")


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return url_for("citizen.home")


@bp.route("/account", methods=["GET", "POST"])
@citizen
def settings():
    """Where the person lives and the time zone of every date and time shown to them."""
    account = current_user._get_current_object()  # noqa: SLF001
    form = forms.ResidenceForm()
    lang = _lang()
    form.country.choices = countries.choices(lang)
    form.timezone.choices = countries.timezone_choices(lang)
    current_tz = services.timezone_of(account)
    if current_tz not in {z for z, _ in form.timezone.choices}:
        form.timezone.choices.append((current_tz, current_tz))
    if request.method == "GET":
        form.country.data = account.country or countries.HOME
        form.timezone.data = current_tz
    elif form.validate_on_submit():
        timezone = form.timezone.data
        if form.country.data != (account.country or countries.HOME) and timezone == current_tz:
            timezone = countries.default_timezone(form.country.data)  # moved: the new country's time
        try:
            services.save_residence(db.session, account, country=form.country.data, timezone=timezone)
        except DomainError as e:
            form.form_errors.append(str(e))
        else:
            flash(_l("Your settings are saved."), "success")
            return redirect(url_for("preferences.settings"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("preferences/settings.html", form=form, abroad=services.lives_abroad(account),
                           lang=lang), status


@bp.post("/display")
@public
def display():
    """Switch the simple, large-text display on or off; kept in this browser (no personal data)."""
    form = forms.DisplayForm()
    target = _safe_next(request.form.get("next"))
    if not form.validate_on_submit():
        return redirect(target, code=303)
    response = make_response(redirect(target, code=303))
    if request.form.get("mode") == web.SIMPLE:
        response.set_cookie(web.DISPLAY_COOKIE, web.SIMPLE, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config["ESOCIAL"].session_cookie_secure)
    else:
        response.delete_cookie(web.DISPLAY_COOKIE)
    return response


@bp.get("/session/ended")
@public
def session_ended():
    """Where an idle page goes by itself: the session ends and the browser forgets the pages it showed."""
    if current_user.is_authenticated:
        from portal.accounts import sessions
        from portal.assisted.services import end_open_visit

        end_open_visit(db.session, current_user._get_current_object(), reason="idle")  # noqa: SLF001
        sessions.end_current(current_user._get_current_object())  # noqa: SLF001
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    response = make_response(render_template("preferences/session_ended.html",
                                             minutes=current_app.config["ESOCIAL"].session_idle_minutes))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.get("/session/alive")
@public
def session_alive():
    """Asked by the idle dialog's "Continue": 204 keeps the session (loading the user touches it), 401 if gone."""
    return ("", 204) if current_user.is_authenticated else ("", 401)


@bp.app_context_processor
def _display():
    simple = request.cookies.get(web.DISPLAY_COOKIE) == web.SIMPLE
    idle = None
    if getattr(current_user, "is_authenticated", False):
        from portal.assisted.services import IDLE
        from portal.representation.context import current

        authority = current()
        minutes = current_app.config["ESOCIAL"].session_idle_minutes
        if authority is not None and authority.basis == "assisted":
            minutes = min(minutes, int(IDLE.total_seconds() // 60))
        idle = minutes * 60
    return {"display_simple": simple, "idle_seconds": idle}


@bp.after_app_request
def _clear_after_logout(response):
    """Logging out (here or through MPass) tells the browser to forget what it cached of the person."""
    if request.endpoint in ("auth.logout", "auth.sls") and response.status_code < 400:
        response.headers.setdefault("Clear-Site-Data", CLEAR_SITE_DATA)
    return response
