"""The application page answered before Flask, when one SQL statement shows that the browser's session may
read it and what it would get.

A browser reloading the status page (or the live-status script fetching it) asks for the same bytes again and
again.  Every request for ``GET /applications/<ref>`` first comes here, and is answered here only when all of
this holds — otherwise it goes on to Flask unchanged, which answers it the ordinary way (and redirects to the
login, ends an expired session, answers 404, touches "last seen", renders):

* the session cookie's signature is valid (the same serializer and age limit Flask uses), it names a login
  session, carries its CSRF secret, holds no flashed message and no representation ("acting for");
* one statement reads the login session, its account, the application ``ref`` *of that account*, the
  account's unread notifications and whether it holds any role: the login session is not ended, was seen
  less than :data:`portal.accounts.sessions._TOUCH_EVERY` ago (so the idle timeout cannot have passed and no
  "last seen" is due: the first request after that goes to Flask and writes it), is younger than the
  absolute limit; the application is submitted (not a draft); the account holds no role (staff pages, CUPS
  visits and their own rules go through Flask);
* the validator computed from those values (:func:`validator`, the same function the view uses) is the one
  the browser sent (``If-None-Match``: 304), or the one under which this process kept the whole page it last
  rendered for it (200 with those bytes).

Nothing is written and the cookie is not re-sent; the answer carries the same headers as the view's.

What it costs, per answer, is kept small on purpose (README: Performance): a cookie's signature is checked
once per process and its age on every request; on PostgreSQL the statement is prepared once per connection
and sent through libpq directly, one round trip with nothing around it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from functools import lru_cache

from itsdangerous import BadSignature
from psycopg import pq
from sqlalchemy import and_, bindparam, create_engine, func, select
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from portal.citizen.pagecache import RenderCache

log = logging.getLogger(__name__)
PATH = re.compile(r"/applications/([A-Za-z0-9_-]{1,32})")
MAX_PAGES = 2000
MAX_COOKIES = 10000  # verified session cookies kept per process


# Whole pages by validator, kept per process.
pages = RenderCache(MAX_PAGES)


def validator(*, application_id: int, version: int, account_id: int, name: str, authority: tuple, roles: tuple,
              unread: int, locale: str, timezone: str, today: dt.date, csrf: str, simple: bool, full_path: str,
              idle_minutes: int, reference: str) -> str:
    """The application page's ``ETag``: everything the whole page (its part and the layout) is made from."""
    raw = repr((application_id, version, account_id, name, authority, roles, unread, locale, timezone,
                today.isoformat(), csrf, simple, full_path, idle_minutes, reference))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def csrf_digest(secret: str | None) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else ""


@lru_cache(maxsize=8)
def _reference_digest(_catalogue_id: int, _territory_id: int) -> str:
    from portal.config import ROOT

    digest = hashlib.sha256()
    for path in sorted((ROOT / "config").glob("catalogue.toml")) + sorted((ROOT / "config" / "reference").glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def reference_digest() -> str:
    """The reference data the page is explained with (catalogue, territory): the same in every process."""
    from portal.applications.services import catalogue
    from portal.routing.reference import territory

    return _reference_digest(id(catalogue()), id(territory()))


@lru_cache(maxsize=1)
def _statement():
    """The one read: a row only if the login session is open, seen after ``:seen_after`` and started after
    ``:started_after``, its account holds no role, and ``:ref`` is that account's submitted application."""
    from portal.accounts.models import Account, LoginSession, RoleAssignment
    from portal.applications.models import Application
    from portal.notifications.models import Notification
    from portal.notifications.queries import PORTAL

    unread = (select(func.count(Notification.id))
              .where(Notification.account_id == Account.id, Notification.channel == PORTAL,
                     Notification.read_at.is_(None))
              .scalar_subquery())
    has_roles = (select(RoleAssignment.id)
                 .where(RoleAssignment.idnp == Account.idnp, RoleAssignment.revoked_at.is_(None))
                 .exists())
    return (select(Account.id, Account.first_name, Account.last_name, Account.language, Account.timezone,
                   Application.id, Application.version, unread)
            .select_from(LoginSession)
            .join(Account, Account.id == LoginSession.account_id)
            .join(Application, and_(Application.ref == bindparam("ref"), Application.applicant_id == Account.id))
            .where(LoginSession.id == bindparam("sid"), LoginSession.ended_at.is_(None),
                   LoginSession.last_seen_at >= bindparam("seen_after", type_=LoginSession.last_seen_at.type),
                   LoginSession.created_at >= bindparam("started_after", type_=LoginSession.created_at.type),
                   Application.status != "draft", ~has_roles))


NAME = b"esocial_fastpage"
# A connection this process prepared it on before (a thread that ended gave its connection back to the pool).
DUPLICATE_PREPARED_STATEMENT = b"42P05"
_COLUMNS = (int, str, str, str, str, int, int, int)  # the row's types, read from libpq's text format


@lru_cache(maxsize=4)
def _compiled(engine):
    """The statement as libpq takes it (``$1``, ``$2``…), the order of its parameters, and its constant ones."""
    compiled = _statement().compile(dialect=engine.dialect)
    names: list[str] = []

    def positional(match):
        names.append(match.group(1))
        return f"${len(names)}"

    sql = re.sub(r"%\((\w+)\)s", positional, str(compiled)).replace("%%", "%")
    constants = compiled.construct_params({"ref": None, "sid": None, "seen_after": None, "started_after": None})
    return sql.encode(), tuple(names), {k: v for k, v in constants.items() if v is not None}


def _text(value) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat().encode()
    return str(value).encode()


_held = threading.local()


def _read(engine, params: dict):
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            return conn.execute(_statement(), params).first()
    # libpq directly, on a connection each thread keeps: the statement prepared once per connection, then one
    # round trip per answer with nothing between (psycopg's cursor costs more than the statement itself).
    # Autocommit, no transaction is ever left open; libpq releases the GIL while it waits.
    sql, names, constants = _compiled(engine)
    conn = getattr(_held, "conn", None)
    if conn is None or getattr(_held, "engine", None) is not engine:
        conn = engine.raw_connection()
        pgconn = conn.driver_connection.pgconn
        prepared = pgconn.prepare(NAME, sql)
        if prepared.status != pq.ExecStatus.COMMAND_OK \
                and prepared.error_field(pq.DiagnosticField.SQLSTATE) != DUPLICATE_PREPARED_STATEMENT:
            conn.invalidate()
            raise RuntimeError(f"preparing the fast path's statement failed: {prepared.error_message!r}")
        _held.conn, _held.engine, _held.pgconn = conn, engine, pgconn
    values = {**constants, **params}
    try:
        result = _held.pgconn.exec_prepared(NAME, [_text(values[name]) for name in names])
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise RuntimeError(f"the fast path's statement failed: {result.error_message!r}")
    except Exception:
        _held.conn = None
        conn.invalidate()  # a connection that failed is not used again
        raise
    if result.ntuples == 0:
        return None
    return tuple(None if raw is None else kind(raw.decode())
                 for kind, raw in zip(_COLUMNS, (result.get_value(0, i) for i in range(len(_COLUMNS)))))


class FastPage:
    """WSGI middleware in front of the portal's Flask app (installed by :func:`install`)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    _engines: tuple = (None, None)
    _failed = False
    _lock = threading.Lock()

    def engine(self, main):
        """An engine of its own for the one read: autocommit (no BEGIN and no ROLLBACK around it) and no
        ping before each use — one round trip.  A connection that has gone fails the read, which sends the
        request on to Flask (whose engine pings), and is replaced."""
        if main.url.get_backend_name() == "sqlite":
            return main
        engine_of, engine = self._engines
        if engine_of is not main:
            with self._lock:
                engine_of, engine = self._engines
                if engine_of is not main:
                    # A statement that hangs sends its request on to the view (which has its own limits).
                    engine = create_engine(main.url, pool_size=10, max_overflow=20, isolation_level="AUTOCOMMIT",
                                           connect_args={"options": "-c statement_timeout=2000"})
                    self._engines = (main, engine)
        return engine

    _signing: tuple = (None, None, None)

    def signing(self):
        """Flask's own session serializer (the same signature and age check) and the cookies it accepted,
        made anew for each secret key."""
        key, serializer, verified = self._signing
        if key != self.app.secret_key or serializer is None:
            serializer = self.app.session_interface.get_signing_serializer(self.app)
            verified = RenderCache(MAX_COOKIES)
            self._signing = (self.app.secret_key, serializer, verified)
        return serializer, verified

    def session(self, raw: str) -> dict | None:
        """The session a cookie holds, if its signature is Flask's and it is younger than the session's age
        limit.  A cookie's signature is checked once per process (kept by the cookie's exact text, per secret
        key, for cookies that passed); its age is checked on every request, as itsdangerous does."""
        serializer, verified = self.signing()
        max_age = int(self.app.permanent_session_lifetime.total_seconds())
        kept = verified.get(raw)
        if kept is None:
            try:
                data, signed_at = serializer.loads(raw, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return None
            kept = (data, int(signed_at.timestamp()))
            verified.put(raw, kept)
        data, signed_at = kept
        age = int(time.time()) - signed_at
        return data if 0 <= age <= max_age else None

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING") \
                and not environ.get("SCRIPT_NAME"):
            match = PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                started = time.perf_counter()
                try:
                    answer = self.answer(environ, match.group(1))
                except Exception:  # anything unexpected: the ordinary way answers it
                    if not self._failed:  # said once per process: a failing read would say it on every page
                        self._failed = True
                        log.exception("the application page's fast path failed; the view answers instead")
                    answer = None
                if answer is not None:
                    return self.send(environ, start_response, started, *answer)
        return self.wsgi_app(environ, start_response)

    def answer(self, environ, ref: str) -> tuple[int, str, bytes] | None:
        app = self.app
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        raw = cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not raw:
            return None
        data = self.session(raw)
        if data is None:
            return None
        sid = data.get("_user_id")
        csrf_secret = data.get(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if not isinstance(sid, str) or not csrf_secret or data.get("_flashes") or data.get(ACTING):
            return None

        settings = app.config["ESOCIAL"]
        now = clock.now()
        row = _read(self.engine(db.engine), {
            "sid": sid, "ref": ref,
            # Seen within the minute (so the idle limit cannot have passed, and no "last seen" is due).
            "seen_after": now - min(_TOUCH_EVERY, dt.timedelta(minutes=settings.session_idle_minutes)),
            "started_after": now - dt.timedelta(hours=settings.session_absolute_hours)})
        if row is None:
            return None
        account_id, first_name, last_name, language, timezone, application_id, version, unread = row

        locale = _locale(data.get(i18n.SESSION_KEY), language, environ.get("HTTP_ACCEPT_LANGUAGE"),
                         settings.languages, settings.default_language)
        etag = validator(application_id=application_id, version=version or 0, account_id=account_id,
                         name=f"{first_name} {last_name}".strip(), authority=("self", account_id, None),
                         roles=(), unread=unread or 0, locale=locale, timezone=i18n.choose_timezone(timezone, settings),
                         today=clock.today(), csrf=csrf_digest(csrf_secret),
                         simple=cookies.get(display.DISPLAY_COOKIE) == display.SIMPLE,
                         full_path=environ["PATH_INFO"] + "?", idle_minutes=settings.session_idle_minutes,
                         reference=reference_digest())
        if etag in _if_none_match(environ.get("HTTP_IF_NONE_MATCH")):
            return 304, etag, b""
        body = pages.get(etag)
        if body is not None:
            return 200, etag, body
        return None

    def send(self, environ, start_response, started: float, status: int, etag: str, body: bytes):
        headers = [("ETag", f'"{etag}"'), ("Cache-Control", "private, no-cache"),
                   ("Vary", "Cookie, Accept-Language"),
                   (correlation.HEADER, correlation.from_header(environ.get("HTTP_X_REQUEST_ID")))]
        if status == 200:
            headers += [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        headers += security_headers(self.app)
        start_response("200 OK" if status == 200 else "304 NOT MODIFIED", headers)
        metrics.HTTP_REQUESTS.labels("citizen.application", "GET", str(status)).inc()
        metrics.HTTP_LATENCY.labels("citizen.application").observe(time.perf_counter() - started)
        return [body]


@lru_cache(maxsize=256)
def _locale(chosen: str | None, language: str | None, accept: str | None, languages: tuple, default: str) -> str:
    """:func:`portal.core.i18n.choose_locale` for a request's three inputs (a handful of distinct values)."""
    return i18n.choose_locale(chosen, language, parse_accept_header(accept, LanguageAccept) if accept else None,
                              languages, default)


def _if_none_match(value: str | None) -> set[str]:
    if not value:
        return set()
    # Strong validators only, as the view compares them (``*`` goes to the view).
    return {tag.strip().strip('"') for tag in value.split(",") if not tag.strip().startswith("W/")}


def install(app) -> None:
    global ACTING, _TOUCH_EVERY, clock, correlation, db, display, i18n, metrics, security_headers
    # Imported here, once: these modules import the app's parts, which import this one.
    from portal.accounts.sessions import _TOUCH_EVERY
    from portal.core import clock, correlation, i18n
    from portal.core.db import db
    from portal.core.web import security_headers
    from portal.ops import metrics
    from portal.preferences import web as display
    from portal.representation.context import SESSION_KEY as ACTING

    app.wsgi_app = FastPage(app, app.wsgi_app)
