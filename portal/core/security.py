"""Route permissions.

Every view function is declared with exactly one of the decorators below.  A
test walks the URL map and fails on any endpoint without a declaration, so a
new page cannot be published by accident.
"""
from __future__ import annotations

import functools
from typing import Callable

from flask import abort, redirect, request, url_for
from flask_login import current_user

PERMISSION_ATTR = "_esocial_permission"


def _declare(rule: str, check: Callable[[], bool] | None):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if check is not None:
                if not current_user.is_authenticated:
                    return redirect(url_for("auth.login", next=request.full_path))
                if not check():
                    abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, rule)
        return wrapper

    return decorator


def public(view):
    """Anyone, logged in or not."""
    return _declare("public", None)(view)


def citizen(view):
    """Any logged-in person acting for themselves (or, later, for those they represent)."""
    return _declare("citizen", lambda: True)(view)


def staff(*roles: str):
    """A logged-in person holding one of ``roles`` in the portal's own role table."""

    def check() -> bool:
        return any(current_user.has_role(role) for role in roles)

    return _declare("staff:" + ",".join(roles), check)


def permission_of(view) -> str | None:
    return getattr(view, PERMISSION_ATTR, None)


def api_client(view):
    """An agency system calling the integration API with a valid bearer token (``portal.api``).

    The API blueprint authenticates the token before the view and puts the client in ``flask.g.api_client``;
    without it the answer is a 401, never a redirect to the login page.
    """

    def wrapper_check():
        from flask import g

        return g.get("api_client") is not None

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not wrapper_check():
            abort(401)
        return view(*args, **kwargs)

    setattr(wrapper, PERMISSION_ATTR, "api_client")
    return wrapper
