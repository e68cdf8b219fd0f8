"""Live status: one watcher per process wakes every stream waiting on what changed.

A page that shows an application (or a person's list of applications) opens a
Server-Sent Events stream.  The stream registers a :class:`Waiter` with this
process's :class:`Hub` and blocks on it, holding no database connection.  The
hub's single thread reads, once per tick (``live_poll_seconds``), the version
of every application some stream here waits on, and the fingerprint (count and
sum of versions) of every watched person's list, in one query each; it wakes
exactly the waiters whose value moved.  So the database sees one small query
per process per tick, whatever the number of watchers.

Changes are seen sooner than the next tick when the hub hears of them:

* a commit in this process that changed an application (SQLAlchemy session
  hooks below) makes the hub read those keys at once;
* with ``redis_url`` configured, every process publishes the keys it changed
  on a Redis channel and every hub subscribes, so a change made by any app or
  worker process reaches every process at once.  Redis only says "look now":
  the values always come from the database, and the tick stays as a safety
  net for a lost message.

Keys are ``("app", application_id)`` and ``("account", applicant_id)``; their
values are strings, sent to the browser as the event's ``id`` so that a
reconnecting ``EventSource`` says what it last saw (``Last-Event-ID``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Iterable, Iterator

from flask import Response, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.applications.models import Application
from portal.core.db import db

log = logging.getLogger(__name__)

Key = tuple[str, int]
APP, ACCOUNT = "app", "account"
CHANNEL = "esocial:live"
# Streams end after this long (the browser reconnects at once) and send a comment this often while idle, so
# that proxies and load balancers see traffic and a vanished client is noticed.
STREAM_SECONDS = 300.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000
CHUNK = 500  # ids per IN (…) list
# With Redis the database is read less often: messages bring changes at once, the tick is only a safety net.
REDIS_POLL_SECONDS = 2.0


def fingerprint_of_list(applications: Iterable) -> str:
    """What a page listing ``applications`` shows, as the hub compares it: how many, and their versions."""
    items = list(applications)
    return f"{len(items)}-{sum(a.version or 0 for a in items)}"


class Waiter:
    """One stream waiting for ``key`` to move past ``seen``."""

    __slots__ = ("key", "seen", "value", "_event")

    def __init__(self, key: Key, seen: str | None):
        self.key = key
        self.seen = seen
        self.value: str | None = None
        self._event = threading.Event()

    def offer(self, value: str) -> None:
        if value != self.seen:
            self.value = value
            self._event.set()

    def wait(self, timeout: float) -> str | None:
        """The new value once it differs from what was last returned; ``None`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._event.wait(left):
                return None
            self._event.clear()
            value = self.value
            if value is not None and value != self.seen:
                self.seen = value
                return value


class Hub:
    """This process's watcher: one thread, one query per key kind per tick, wakes the waiters that moved."""

    def __init__(self, *, poll_seconds: float = 0.25, redis_url: str = "", session_factory=None,
                 channel: str = CHANNEL):
        self.redis_url = redis_url or ""
        self.channel = channel
        self.poll_seconds = max(poll_seconds, REDIS_POLL_SECONDS) if self.redis_url else poll_seconds
        self.session_factory = session_factory or db.new_session
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._waiters: dict[Key, set[Waiter]] = {}
        self._values: dict[Key, str] = {}
        self._dirty: set[Key] = set()
        self._to_publish: set[Key] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscriber: threading.Thread | None = None
        self.ticks = 0  # full reads of the database, for tests and the benchmark

    # --- streams ---------------------------------------------------------------------------------------------------
    def watch(self, key: Key, seen: str | None, current: str | None = None) -> Waiter:
        """Register a waiter; ``current`` (if the caller just read it) wakes it at once when it differs."""
        waiter = Waiter(key, seen)
        with self._lock:
            self._waiters.setdefault(key, set()).add(waiter)
            known = self._values.setdefault(key, current) if current is not None else self._values.get(key)
        # What the caller just read is newer than anything the hub knows; else what the hub knows.
        start = current if current is not None else known
        if start is not None:
            waiter.offer(start)
        self._start()
        return waiter

    def unwatch(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.key]
                    self._values.pop(waiter.key, None)

    def watching(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    # --- changes ----------------------------------------------------------------------------------------------------
    def changed(self, keys: Iterable[Key], *, publish: bool = True) -> None:
        """Something committed a change to ``keys``: read them now (and tell the other processes)."""
        keys = set(keys)
        if not keys:
            return
        with self._lock:
            self._dirty |= keys
            if publish and self.redis_url:
                self._to_publish |= keys
        self._start()
        self._wake.set()

    def poll(self, keys: Iterable[Key] | None = None) -> int:
        """Read the watched ``keys`` (all when ``None``) and wake the waiters whose value moved; returns how many."""
        with self._lock:
            wanted = set(self._waiters) if keys is None else set(keys) & set(self._waiters)
        if not wanted:
            return 0
        apps = sorted(i for kind, i in wanted if kind == APP)
        accounts = sorted(i for kind, i in wanted if kind == ACCOUNT)
        values: dict[Key, str] = {}
        session: Session = self.session_factory()
        try:
            for chunk in _chunks(apps):
                for app_id, version in session.execute(
                        select(Application.id, Application.version).where(Application.id.in_(chunk))):
                    values[(APP, app_id)] = str(version or 0)
            for chunk in _chunks(accounts):
                for account_id, count, total in session.execute(
                        select(Application.applicant_id, func.count(Application.id),
                               func.coalesce(func.sum(Application.version), 0))
                        .where(Application.applicant_id.in_(chunk)).group_by(Application.applicant_id)):
                    values[(ACCOUNT, account_id)] = f"{count}-{total}"
            for account_id in accounts:
                values.setdefault((ACCOUNT, account_id), "0-0")
        finally:
            session.close()
        woken = 0
        with self._lock:
            for key, value in values.items():
                self._values[key] = value
                for waiter in self._waiters.get(key, ()):
                    if waiter.seen != value:
                        waiter.offer(value)
                        woken += 1
        return woken

    # --- the thread -----------------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="live-status-hub", daemon=True)
            self._thread.start()
            if self.redis_url and (self._subscriber is None or not self._subscriber.is_alive()):
                self._subscriber = threading.Thread(target=self._subscribe, name="live-status-redis", daemon=True)
                self._subscriber.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            self._wake.wait(max(0.0, next_full - time.monotonic()))
            self._wake.clear()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                publish, self._to_publish = self._to_publish, set()
            try:
                if publish:
                    self._publish(publish)
                if time.monotonic() >= next_full:
                    self.ticks += 1
                    self.poll()
                    next_full = time.monotonic() + self.poll_seconds
                elif dirty:
                    self.poll(dirty)
            except Exception:  # noqa: BLE001 - the database restarting must not end live status for good
                log.exception("live status: reading changes failed")
                next_full = time.monotonic() + self.poll_seconds

    # --- Redis --------------------------------------------------------------------------------------------------
    def _redis(self):
        from redis import Redis

        return Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)

    def _publish(self, keys: set[Key]) -> None:
        try:
            self._redis_client().publish(self.channel, " ".join(f"{kind}:{i}" for kind, i in sorted(keys)))
        except Exception:  # noqa: BLE001 - the other processes still see it at their next tick
            log.warning("live status: could not publish to Redis", exc_info=True)
            self._client = None

    _client = None

    def _redis_client(self):
        if self._client is None:
            self._client = self._redis()
        return self._client

    def _subscribe(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self.changed(_parse(message["data"]), publish=False)
            except Exception:  # noqa: BLE001 - Redis restarting: the tick covers the gap, try again
                log.warning("live status: Redis subscription lost; retrying", exc_info=True)
                self._stop.wait(1.0)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _parse(data) -> set[Key]:
    text = data.decode() if isinstance(data, bytes) else str(data)
    keys = set()
    for part in text.split():
        kind, _, raw = part.partition(":")
        if kind in (APP, ACCOUNT) and raw.isdigit():
            keys.add((kind, int(raw)))
    return keys


# --- the process's hub ------------------------------------------------------------------------------------------------

_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub, made from the current app's settings on first use (and again after a fork)."""
    global _hub
    with _hub_lock:
        if _hub is None or _hub.pid != os.getpid():
            settings = current_app.config["ESOCIAL"] if has_app_context() else None
            _hub = Hub(poll_seconds=getattr(settings, "live_poll_seconds", 0.25),
                       redis_url=getattr(settings, "redis_url", "") or "")
        return _hub


def current_hub() -> Hub | None:
    """The hub if this process has one (or can make one now), without starting anything else."""
    if _hub is not None and _hub.pid == os.getpid():
        return _hub
    return hub() if has_app_context() else None


# --- what a commit changed ---------------------------------------------------------------------------------------------

_INFO = "esocial_live_keys"


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Application) and obj.id is not None:
            keys = session.info.setdefault(_INFO, set())
            keys.add((APP, obj.id))
            if obj.applicant_id is not None:
                keys.add((ACCOUNT, obj.applicant_id))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    keys = session.info.pop(_INFO, None)
    if keys:
        target = current_hub()
        if target is not None:
            target.changed(keys)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_INFO, None)


# --- the stream -----------------------------------------------------------------------------------------------------

def event_stream(key: Key, *, since: str | None, current: str | None) -> Response:
    """A Server-Sent Events response: an event each time ``key`` moves past ``since``.

    The caller has checked that the person may see ``key``, read ``current``,
    and released its database session: the stream holds none while it waits.
    """
    target = hub()

    def events() -> Iterator[str]:
        waiter = target.watch(key, since if since is not None else current, current)
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            deadline = time.monotonic() + STREAM_SECONDS
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                value = waiter.wait(min(HEARTBEAT_SECONDS, left))
                if value is None:
                    yield ": keep-alive\n\n"
                else:
                    yield f"id: {value}\nevent: changed\ndata: {value}\n\n"
        finally:
            target.unwatch(waiter)

    return Response(events(), mimetype="text/event-stream", headers={
        # No caching or transforming (gzip) on the way, and no buffering in nginx-style proxies.
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
    })
