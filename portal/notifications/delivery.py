"""Deliver the outbox: claim due e-mail and SMS rows, send them, record the outcome.

Each row moves ``pending``/``failed`` → ``sending`` (claimed) → ``sent``, or
back to ``failed`` with an exponential backoff, or ``dead`` after
:data:`MAX_ATTEMPTS` (or at once when the address itself is refused).

Claiming is one conditional UPDATE per row, in its own transaction: only the
worker whose UPDATE changed the row sends it, so two workers never send one
notification twice.  Sending happens outside any transaction (no lock is held
across the network).  A worker that dies between claim and outcome leaves the
row in ``sending``; :func:`recover_stuck` puts such rows back in the queue.
Delivery is therefore at least once: a crash after the SMTP server accepted a
message but before ``sent`` was written would send it again after recovery.

While a row is ``sending``, ``next_attempt_at`` holds the time it was claimed
(the schema has no separate column for it); that is what ``recover_stuck``
compares against.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import time

from flask import Flask
from sqlalchemy import or_, select, update

from portal.config import ROOT, Settings
from portal.core import clock
from portal.core.db import db, session_scope
from portal.notifications.channels import Channel, DeliveryError, channels_for
from portal.notifications.models import Notification
from portal.notifications.services import render_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
STUCK_AFTER = dt.timedelta(minutes=5)
RECOVER_EVERY_SECONDS = 60.0
DUE = ("pending", "failed")


@dataclasses.dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0  # given up
    skipped: int = 0  # another worker claimed it first

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.dead


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8, 16 minutes…, at most :data:`BACKOFF_MAX`."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@functools.lru_cache(maxsize=4)
def _render_app(settings: Settings) -> Flask:
    """A minimal Flask app for rendering (templates + Babel) when a worker runs without the portal app."""
    from flask_babel import Babel

    app = Flask("portal.notifications", template_folder=str(ROOT / "templates"))
    app.config.update(ESOCIAL=settings, BABEL_DEFAULT_LOCALE=settings.default_language,
                      BABEL_DEFAULT_TIMEZONE=settings.default_timezone,
                      BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"))
    Babel(app)
    return app


def _resolve(app_or_settings: Flask | Settings) -> tuple[Flask, Settings]:
    if isinstance(app_or_settings, Flask):
        return app_or_settings, app_or_settings.config["ESOCIAL"]
    settings = app_or_settings
    if db.engine is None:  # a worker process of its own
        db.configure(settings.database_url)
    return _render_app(settings), settings


def _due(now: dt.datetime):
    return (Notification.status.in_(DUE),
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))


def claim(notification_id: int) -> bool:
    """Take one due row for sending. True only for the single caller whose UPDATE changed it."""
    now = clock.now()
    with session_scope() as s:
        result = s.execute(
            update(Notification)
            .where(Notification.id == notification_id, *_due(now))
            .values(status="sending", next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _finish(notification_id: int, error: DeliveryError | None) -> str:
    """Record the outcome of one attempt; returns the new status."""
    now = clock.now()
    with session_scope() as s:
        n = s.get(Notification, notification_id)
        n.attempts = (n.attempts or 0) + 1
        if error is None:
            n.status, n.sent_at, n.next_attempt_at, n.last_error = "sent", now, None, None
        else:
            n.last_error = str(error)[:1000]
            if error.permanent or n.attempts >= MAX_ATTEMPTS:
                n.status, n.next_attempt_at = "dead", None
            else:
                n.status, n.next_attempt_at = "failed", now + backoff(n.attempts)
        return n.status


def _attempt(app: Flask, channels: dict[str, Channel], notification_id: int) -> str:
    """Render and send one claimed row; never raises for a delivery problem."""
    try:
        with session_scope() as s, app.app_context():
            n = s.get(Notification, notification_id)
            channel, address = channels[n.channel], n.address
            rendered = render_for(n, n.account)
    except ValueError as exc:  # an unknown template: no retry can fix that
        log.error("notification %s cannot be rendered: %s", notification_id, exc)
        return _finish(notification_id, DeliveryError(f"render: {exc}", permanent=True))
    except Exception as exc:  # noqa: BLE001 - kept for a retry, and logged in full
        log.exception("notification %s: rendering failed", notification_id)
        return _finish(notification_id, DeliveryError(f"render: {exc.__class__.__name__}: {exc}"))
    if not address:
        return _finish(notification_id, DeliveryError("no address", permanent=True))
    try:
        channel.send(address, rendered)
    except DeliveryError as exc:
        log.warning("notification %s (%s) not delivered: %s", notification_id, channel.name, exc)
        return _finish(notification_id, exc)
    except Exception as exc:  # noqa: BLE001 - a bug in a channel must not stop the queue
        log.exception("notification %s: channel %s failed", notification_id, channel.name)
        return _finish(notification_id, DeliveryError(f"{exc.__class__.__name__}: {exc}"))
    return _finish(notification_id, None)


def deliver_pending(app_or_settings: Flask | Settings, limit: int = 100, *,
                    channels: dict[str, Channel] | None = None) -> DeliveryStats:
    """Send up to ``limit`` due e-mail and SMS notifications, oldest first.

    ``app_or_settings`` is the portal app, or bare settings for a worker
    process of its own (the database is configured from them if needed).
    Safe to run in several threads or processes at once.
    """
    app, settings = _resolve(app_or_settings)
    own = channels is None
    channels = channels_for(settings) if own else channels
    stats = DeliveryStats()
    try:
        with session_scope() as s:
            ids = s.scalars(
                select(Notification.id)
                .where(Notification.channel.in_(list(channels)), *_due(clock.now()))
                .order_by(Notification.id)
                .limit(limit)
            ).all()
        for notification_id in ids:
            if not claim(notification_id):
                stats.skipped += 1
                continue
            outcome = _attempt(app, channels, notification_id)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
    finally:
        if own:
            for channel in channels.values():
                channel.close()
    return stats


def recover_stuck(older_than: dt.timedelta = STUCK_AFTER) -> int:
    """Put rows claimed more than ``older_than`` ago and never finished back in the queue.

    The interrupted try counts as an attempt, so a message that crashes the
    worker every time ends ``dead`` instead of looping.  Returns how many rows
    were recovered.
    """
    now = clock.now()
    cutoff = now - older_than
    stuck = (Notification.status == "sending",
             or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= cutoff))
    note = "delivery interrupted: the worker stopped after claiming this notification"
    with session_scope() as s:
        dead = s.execute(
            update(Notification).where(*stuck, Notification.attempts + 1 >= MAX_ATTEMPTS)
            .values(status="dead", attempts=Notification.attempts + 1, last_error=note, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        retried = s.execute(
            update(Notification).where(*stuck)
            .values(status="pending", attempts=Notification.attempts + 1, last_error=note, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if dead or retried:
        log.warning("recovered %s stuck notifications (%s given up)", dead + retried, dead)
    return dead + retried


def run_worker(app_or_settings: Flask | Settings, stop_event: threading.Event, interval: float = 0.5, *,
               batch: int = 100, stuck_after: dt.timedelta = STUCK_AFTER) -> None:
    """Deliver until ``stop_event`` is set: a thread of the dev launcher, or a process of its own.

    Waits ``interval`` seconds when the queue is empty, none when a full batch
    was sent; recovers stuck rows at start and every minute.  Errors are
    logged, never raised: the loop keeps going.
    """
    log.info("notification worker started")
    channels = channels_for(_resolve(app_or_settings)[1])  # kept for the worker's life: connections are reused
    last_recovery = None
    try:
        while not stop_event.is_set():
            stats = None
            try:
                if last_recovery is None or time.monotonic() - last_recovery >= RECOVER_EVERY_SECONDS:
                    recover_stuck(stuck_after)
                    last_recovery = time.monotonic()
                stats = deliver_pending(app_or_settings, limit=batch, channels=channels)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again next round
                log.exception("notification worker: delivery round failed")
            if stats is None or stats.attempted + stats.skipped < batch:
                stop_event.wait(interval)
    finally:
        for channel in channels.values():
            channel.close()
    log.info("notification worker stopped")


def main() -> None:  # pragma: no cover - the process entry point
    """``python -m portal.notifications.delivery``: a worker process; stops on SIGTERM or Ctrl-C."""
    import signal

    from portal.config import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_worker(load_settings(), stop)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":  # pragma: no cover
    main()
