"""Rate limits on login, the public status lookup and the API (Flask-Limiter).

Counters live in Redis in production (``ratelimit_storage_url``, else ``redis_url``), so every app process
counts together; the embedded default (one process) counts in memory.  Limits are settings
(``ratelimit_login``, ``ratelimit_status_lookup``, ``ratelimit_api``) in Flask-Limiter's notation, e.g.
``"30 per minute;300 per hour"``, per client address.  A refused request gets 429 with ``Retry-After`` and a
readable page (portal.core.web).

Use on a view, under its permission decorator::

    @bp.post("/status")
    @public
    @limits.status_lookup
    def lookup(): ...

    @bp.get("/api/v1/applications/<ref>")
    @api_client_required          # issue 10's own decorator
    @limits.api(key=lambda: g.api_client_id)
    def api_application(ref): ...
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, key_prefix="esocial", headers_enabled=True, strategy="fixed-window")


def init_app(app: Flask) -> None:
    settings = app.config["ESOCIAL"]
    # Always installed; ``ratelimit_enabled = false`` (the test settings) exempts every request instead.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_url or settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # If Redis is unreachable, keep limiting in this process's memory rather than failing every login.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)


@limiter.request_filter
def _switched_off() -> bool:
    return not current_app.config["ESOCIAL"].ratelimit_enabled


def _setting(name: str) -> Callable[[], str]:
    return lambda: getattr(current_app.config["ESOCIAL"], name)


# /auth/login and /auth/acs share one budget: starting logins and posting answers (forged ones included).
login = limiter.shared_limit(_setting("ratelimit_login"), scope="login")
status_lookup = limiter.shared_limit(_setting("ratelimit_status_lookup"), scope="status-lookup")


def api(key: Callable[[], str] | None = None):
    """The API's limit, counted per ``key()`` (the API client) or per address."""
    return limiter.shared_limit(_setting("ratelimit_api"), scope="api", key_func=key or get_remote_address)
