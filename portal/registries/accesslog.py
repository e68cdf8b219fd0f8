"""The data-access log: every query about a person and every staff reading of their registry data.

**Own transaction, written after the caller's.**  An access is a fact the moment
it happens: the registry answered and eSocial saw the data, whether or not the
request that asked goes on to commit.  So entries are never written through the
caller's session (a rolled-back request would erase its own trace); they are
written in a short transaction of their own.  They are collected in a
*journal* while the unit of work runs and written as soon as the unit's own
transaction has ended:

* in a web request, the journal opens before the view and is written in the
  request's teardown, after ``portal.core.web`` committed or rolled back;
* a sweep or script wraps each unit of work in :func:`journal`.

Writing *after* the caller's transaction (rather than beside it) is what makes
this work on SQLite, which has one writer at a time: a second connection
writing while the request holds its write lock would wait for it.  Outside any
journal an entry is written at once.

The journal lives in a :class:`contextvars.ContextVar`; the prefill's worker
threads run in copies of the caller's context, so their queries land in the
caller's journal.  If the log cannot be written, the entries go to the
application log at ERROR level with every field, so the trace is never silently
lost, and are retried with the next write of this process.
"""
from __future__ import annotations

import collections
import contextlib
import contextvars
import datetime as dt
import logging
import threading
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator

from portal.core import clock

log = logging.getLogger("esocial.registries.access")

ESOCIAL = "ESOCIAL"  # the institution when eSocial asks for a citizen or by itself
READ = "read"


@dataclass
class AccessEntry:
    kind: str  # query | reading
    actor_idnp: str
    actor_role: str
    institution: str
    subject_idnp: str
    purpose: str
    legal_basis: str
    result: str
    registry_code: str | None = None
    service: str | None = None
    items: str | None = None
    on_behalf_of_idnp: str | None = None
    application_ref: str | None = None
    correlation_id: str | None = None
    attempts: int = 1
    duration_ms: int | None = None
    source_ip: str | None = None
    occurred_at: dt.datetime = field(default_factory=clock.now)


class Journal:
    """Entries of one unit of work, written together when it ends. Thread-safe."""

    def __init__(self, source_ip: str | None = None):
        self.source_ip = source_ip
        self._lock = threading.Lock()
        self._entries: list[AccessEntry] = []

    def add(self, entry: AccessEntry) -> None:
        if entry.source_ip is None:
            entry.source_ip = self.source_ip
        with self._lock:
            self._entries.append(entry)

    def drain(self) -> list[AccessEntry]:
        with self._lock:
            entries, self._entries = self._entries, []
        return entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_current: contextvars.ContextVar[Journal | None] = contextvars.ContextVar("esocial_access_journal", default=None)
_unwritten: collections.deque[AccessEntry] = collections.deque(maxlen=10_000)
_unwritten_lock = threading.Lock()


def current() -> Journal | None:
    return _current.get()


def record(entry: AccessEntry) -> None:
    """Log one access: into the open journal, or at once when there is none."""
    journal_ = _current.get()
    if journal_ is not None:
        journal_.add(entry)
    else:
        write([entry])


@contextlib.contextmanager
def journal(source_ip: str | None = None) -> Iterator[Journal]:
    """Collect the accesses of a unit of work and write them when it ends (commit or error alike).

    Open it *outside* the unit's own transaction (``with journal(): with session_scope(): …``) so
    that the entries are written after that transaction ended.
    """
    j = Journal(source_ip)
    token = _current.set(j)
    try:
        yield j
    finally:
        _current.reset(token)
        write(j.drain())


def write(entries: Iterable[AccessEntry]) -> int:
    """Insert ``entries`` (and any left over from a failed write) in a transaction of their own."""
    from portal.core.db import db
    from portal.registries.models import DataAccess

    entries = list(entries)
    with _unwritten_lock:
        if _unwritten:
            entries = list(_unwritten) + entries
            _unwritten.clear()
    if not entries:
        return 0
    if db.engine is None:
        _lost(entries, "no database configured")
        return 0
    session = db.new_session()
    try:
        session.add_all([DataAccess(**asdict(e)) for e in entries])
        session.commit()
        return len(entries)
    except Exception as exc:  # noqa: BLE001 - the trace must survive a failing database
        session.rollback()
        _lost(entries, repr(exc))
        with _unwritten_lock:
            _unwritten.extend(entries)
        return 0
    finally:
        session.close()


def _lost(entries: list[AccessEntry], why: str) -> None:
    for e in entries:
        log.error("data-access log not written (%s): %s", why, asdict(e))


def pending_count() -> int:
    """Entries that could not be written yet (retried with the next write)."""
    with _unwritten_lock:
        return len(_unwritten)


# --- Flask wiring: one journal per request ------------------------------------------------------------

_REQUEST_TOKEN = "esocial_access_journal_token"


def open_request_journal() -> None:
    from flask import g, request

    token = _current.set(Journal(source_ip=request.remote_addr))
    setattr(g, _REQUEST_TOKEN, token)


def close_request_journal(exc: BaseException | None) -> None:
    """Teardown: the request's transaction is over (committed or rolled back); write its accesses."""
    from flask import g

    from portal.core.db import db

    token = g.pop(_REQUEST_TOKEN, None)
    journal_ = _current.get()
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # teardown in another context than the request (streamed response)
            _current.set(None)
    if journal_ is None or not len(journal_):
        return
    if exc is not None:
        db.session.rollback()  # what the app-context teardown would do; frees SQLite's write lock first
    write(journal_.drain())
