"""eSocial: the citizen-facing one-stop shop for social protection in Moldova."""
from __future__ import annotations

import datetime as dt
import importlib

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal.config import ROOT, Settings, load_settings
from portal.core.db import db

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()

# Blueprint modules, each exposing ``bp``.
BLUEPRINTS = (
    "portal.auth.views",
    "portal.citizen.views",
    "portal.backoffice.views",
    "portal.notifications.views",
    "portal.notifications.admin",
    "portal.decisions.views",
    "portal.casefiles.views",
    "portal.registries.views",
    "portal.ops.views",
    "portal.assessment.views",
    "portal.audit.cli",
    "portal.accounts.cli",
    "portal.privacy.views",
    "portal.preferences.views",
    "portal.representation.views",
    "portal.assisted.views",
    "portal.tracking.views",
    "portal.api.views",
    "portal.api.admin",
    "portal.figures.views",
)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the portal. ``settings`` defaults to :func:`portal.config.load_settings`."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings.instance_dir()),
    )
    app.config.update(
        ESOCIAL=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="esocial_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_idle_minutes),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_DEFAULT_TIMEZONE=settings.default_timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    db.configure(settings.database_url)

    from portal.core import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from portal.accounts import sessions

    login_manager.user_loader(sessions.load_user)

    for module in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module).bp)

    from portal.core import web

    web.init_app(app)

    from portal.citizen import fastpage

    fastpage.install(app)  # the application page answered before Flask when one statement shows it may be
    return app
