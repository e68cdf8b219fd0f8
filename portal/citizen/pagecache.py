"""The application page's rendering, kept per process, and its validator (``ETag``) for conditional GETs.

The page is read far more often than the application changes (people reload it, the live-status script
fetches it on every change).  What the application part of the page shows is fully determined by:

* the application and its version — every visible change calls ``Application.touch()`` (the live-status
  machinery relies on the same number to wake the open pages);
* who reads it and how: the viewer's account, whom they act for and on what basis, the language, the time
  zone, today's date (deadlines, "appeal until"), and the session's CSRF secret (the page holds forms);
* the reference data it is explained with (catalogue, territory), by identity.

The key is all of that, so a kept rendering can never be another version's or another person's: a change
makes a new key, and a key is only ever built from the current request.  Nothing is shared between
processes and nothing needs to be invalidated; old keys just fall out of the bounded cache.

The layout around it (navigation, notification badge, language switch, flashed messages) is rendered on
every request; the ``ETag`` of a whole page adds what the layout shows, so a 304 is answered only when the
browser holds exactly what would be sent.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import current_app, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from portal.core import clock

MAX_ENTRIES = 2000


class RenderCache:
    """A small thread-safe LRU by key (the application part by its key here; in :mod:`portal.citizen.fastpage`,
    whole pages by their validator and the session cookies whose signature passed)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = RenderCache()


def _csrf_secret() -> str:
    """A digest of the session's CSRF secret (the forms on the page carry tokens signed from it).

    The secret is made first if the session has none yet, so that the key names the secret the page's
    tokens are signed from, not an empty one that a later request without it would share.
    """
    from flask_wtf.csrf import generate_csrf

    generate_csrf()
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    raw = session.get(field) or ""
    return hashlib.sha256(raw.encode()).hexdigest()[:16] if raw else ""


def _authority() -> tuple:
    from portal.representation import context as acting

    authority = acting.current()
    if authority is None:
        return ()
    subject = authority.subject.id if authority.subject is not None else None
    return (authority.basis, subject, authority.visit.id if authority.visit is not None else None)


def content_key(part: str, application, catalogue, territory) -> tuple:
    """What the application part of the page (``part``: page or fragment) is rendered from."""
    return (part, application.id, application.version or 0, current_user.id, _authority(),
            str(get_locale() or ""), str(get_timezone() or ""), clock.today().isoformat(), _csrf_secret(),
            id(catalogue), id(territory))


def etag_for(key: tuple, *layout) -> str:
    """A strong validator of a response made from ``key`` and what the layout around it shows."""
    digest = hashlib.sha256(repr((key, layout)).encode()).hexdigest()[:32]
    return digest


def page_etag(application) -> str:
    """The whole page's validator: the application part's inputs and what the layout shows (navigation by
    roles, name, badge, language switch, display, idle warning), computed by the function the fast path
    before Flask uses (:func:`portal.citizen.fastpage.validator`), so both give the same value for the same
    page.  Not for a page with flashed messages (those are never kept or answered with 304)."""
    from portal.citizen import fastpage
    from portal.core import i18n
    from portal.notifications.views import unread_count
    from portal.preferences import web

    settings = current_app.config["ESOCIAL"]
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    _csrf_secret()  # made first when the session has none yet
    return fastpage.validator(
        application_id=application.id, version=application.version or 0, account_id=current_user.id,
        name=current_user.full_name, authority=_authority(),
        roles=tuple(sorted((r.role, r.agency_code or "") for r in current_user.roles)), unread=unread_count(),
        locale=i18n.select_locale(), timezone=i18n.select_timezone(), today=clock.today(),
        csrf=fastpage.csrf_digest(session.get(field)), simple=request.cookies.get(web.DISPLAY_COOKIE) == web.SIMPLE,
        full_path=request.full_path, idle_minutes=settings.session_idle_minutes,
        reference=fastpage.reference_digest())


def has_flashes() -> bool:
    return bool(session.get("_flashes"))
