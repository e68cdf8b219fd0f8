"""Deliver the outbox: claim due e-mail and SMS rows, send them, record every attempt.

Each row moves ``pending``/``failed`` → ``sending`` (claimed) → ``sent``, or
back to ``failed`` with an exponential backoff, or ``dead`` after
:data:`MAX_ATTEMPTS` (or at once when the address itself is refused).  A dead
row waits for an administrator (:func:`retry_dead`, the dead-letter page).

Claiming is one conditional UPDATE per row, in its own transaction, that also
writes a fresh ``claim_token`` and opens a :class:`NotificationAttempt`: only
the worker whose UPDATE changed the row sends it, so two workers never send
one notification at once.  Sending happens outside any transaction (no lock is
held across the network).  The outcome is written with a compare-and-set on
the token, so a worker that was presumed dead and comes back late cannot
overwrite what another worker did since.

Crashes.  A worker that dies between claim and outcome leaves the row in
``sending`` and its attempt open; :func:`recover_stuck` closes the attempt as
``interrupted`` and puts the row back in the queue, so nothing is lost.  What
makes the retry safe is the notification's idempotency key
(:func:`idempotency_key`), the same for every attempt: the e-mail's Message-ID
and the SMS gateway's ``Idempotency-Key``.  A message the provider accepted
just before the crash is therefore not sent twice by the retry (the gateway
answers with the id it gave the first time; mailboxes keep one message per
Message-ID).

While a row is ``sending``, ``next_attempt_at`` holds the time it was claimed;
that is what ``recover_stuck`` compares against.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import secrets
import threading
import time

from flask import Flask
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from portal.config import ROOT, Settings
from portal.core import clock
from portal.core.db import db, session_scope
from portal.notifications.channels import Channel, DeliveryError, channels_for
from portal.notifications.models import Notification, NotificationAttempt
from portal.notifications.services import render_for
from portal.ops import metrics

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


def idempotency_key(n: Notification) -> str:
    """The same for every attempt at ``n``; different for every notification (the id and when it was written)."""
    created = n.created_at or clock.now()
    return f"esocial-n{n.id}-{int(created.timestamp() * 1_000_000):x}"


@dataclasses.dataclass(frozen=True)
class Lease:
    """What :func:`claim` gives the one worker allowed to send a row now."""

    notification_id: int
    attempt_id: int
    token: str


def claim(notification_id: int) -> Lease | None:
    """Take one due row for sending: a :class:`Lease` only for the single caller whose UPDATE changed it."""
    now = clock.now()
    token = secrets.token_hex(8)
    with session_scope() as s:
        result = s.execute(
            update(Notification)
            .where(Notification.id == notification_id, *_due(now))
            .values(status="sending", next_attempt_at=now, attempts=Notification.attempts + 1, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        n = s.get(Notification, notification_id)
        number = (s.scalar(select(func.max(NotificationAttempt.number))
                           .where(NotificationAttempt.notification_id == notification_id)) or 0) + 1
        attempt = NotificationAttempt(notification_id=notification_id, number=number, channel=n.channel,
                                      address=n.address, started_at=now)
        s.add(attempt)
        s.flush()
        return Lease(notification_id, attempt.id, token)


def _lease_of(notification_id: int) -> Lease | None:
    """The lease a caller that kept only ``bool(claim(...))`` holds: the row's token and its open attempt."""
    with session_scope() as s:
        token = s.scalar(select(Notification.claim_token).where(Notification.id == notification_id,
                                                                Notification.status == "sending"))
        attempt_id = s.scalar(select(NotificationAttempt.id)
                              .where(NotificationAttempt.notification_id == notification_id,
                                     NotificationAttempt.outcome.is_(None))
                              .order_by(NotificationAttempt.number.desc()).limit(1))
    return Lease(notification_id, attempt_id, token) if token and attempt_id else None


def _finish(lease: Lease, error: DeliveryError | None, provider_ref: str | None = None) -> str:
    """Record the outcome of one attempt; returns the row's new status (``skipped`` if it was no longer ours).

    Success is always recorded (the message went out, whoever holds the row
    now).  A failure changes the row only while this lease still holds it.
    The notification row is written before the attempt row, in the same order
    as :func:`recover_stuck`, so the two never wait on each other.
    """
    now = clock.now()
    with session_scope() as s:
        n = s.get(Notification, lease.notification_id)
        if error is None:
            s.execute(update(Notification)
                      .where(Notification.id == n.id, Notification.status != "sent")
                      .values(status="sent", sent_at=now, next_attempt_at=None, last_error=None, claim_token=None)
                      .execution_options(synchronize_session=False))
            s.execute(update(NotificationAttempt).where(NotificationAttempt.id == lease.attempt_id)
                      .values(outcome="sent", finished_at=now, provider_ref=(provider_ref or None) and provider_ref[:255],
                              error=None)
                      .execution_options(synchronize_session=False))
            status = "sent"
        else:
            message = str(error)[:1000]
            status = "dead" if error.permanent or (n.attempts or 0) >= MAX_ATTEMPTS else "failed"
            owned = s.execute(
                update(Notification)
                .where(Notification.id == n.id, Notification.status == "sending",
                       Notification.claim_token == lease.token)
                .values(status=status, last_error=message, claim_token=None,
                        next_attempt_at=None if status == "dead" else now + backoff(n.attempts or 1))
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            values = dict(finished_at=now, error=message)
            if owned:
                values["outcome"] = status
            s.execute(update(NotificationAttempt).where(NotificationAttempt.id == lease.attempt_id).values(**values)
                      .execution_options(synchronize_session=False))
            if not owned:
                log.warning("notification %s: attempt %s failed after its claim was taken back", n.id,
                            lease.attempt_id)
                status = "skipped"
        metrics.notification_outcome(n.channel, status)
        return status


def _attempt(app: Flask, channels: dict[str, Channel], notification_id: int, lease: Lease | None = None) -> str:
    """Render and send one claimed row; never raises for a delivery problem."""
    lease = lease or _lease_of(notification_id)
    if lease is None:
        return "skipped"
    try:
        with session_scope() as s, app.app_context():
            n = s.get(Notification, notification_id)
            channel, address, key = channels[n.channel], n.address, idempotency_key(n)
            rendered = render_for(n, n.account)
    except ValueError as exc:  # an unknown template: no retry can fix that
        log.error("notification %s cannot be rendered: %s", notification_id, exc)
        return _finish(lease, DeliveryError(f"render: {exc}", permanent=True))
    except Exception as exc:  # noqa: BLE001 - kept for a retry, and logged in full
        log.exception("notification %s: rendering failed", notification_id)
        return _finish(lease, DeliveryError(f"render: {exc.__class__.__name__}: {exc}"))
    if not address:
        return _finish(lease, DeliveryError("no address", permanent=True))
    try:
        reference = channel.send(address, rendered, key=key)
    except DeliveryError as exc:
        log.warning("notification %s (%s) not delivered: %s", notification_id, channel.name, exc)
        return _finish(lease, exc)
    except Exception as exc:  # noqa: BLE001 - a bug in a channel must not stop the queue
        log.exception("notification %s: channel %s failed", notification_id, channel.name)
        return _finish(lease, DeliveryError(f"{exc.__class__.__name__}: {exc}"))
    return _finish(lease, None, reference)


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
            lease = claim(notification_id)
            if lease is None:
                stats.skipped += 1
                continue
            outcome = _attempt(app, channels, notification_id, lease)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
    finally:
        if own:
            for channel in channels.values():
                channel.close()
    return stats


def deliver_one(app_or_settings: Flask | Settings, notification_id: int, *,
                channels: dict[str, Channel] | None = None) -> str:
    """Send one notification if it is due and nobody else has claimed it: ``sent``, ``failed``, ``dead``,
    or ``skipped`` (not due, already taken, or a channel this worker does not have).

    The unit of work of the production queue (one job per row, so several workers send in parallel);
    safe to call twice for the same row.
    """
    app, settings = _resolve(app_or_settings)
    own = channels is None
    channels = channels_for(settings) if own else channels
    try:
        with session_scope() as s:
            channel = s.scalar(select(Notification.channel).where(Notification.id == notification_id))
        lease = claim(notification_id) if channel in channels else None
        if lease is None:
            return "skipped"
        return _attempt(app, channels, notification_id, lease)
    finally:
        if own:
            for ch in channels.values():
                ch.close()


def due_ids(limit: int = 1000, channels: tuple[str, ...] = ("email", "sms")) -> list[tuple[int, int]]:
    """``(id, attempts)`` of due e-mail and SMS rows, oldest first: what the queue's fan-out enqueues."""
    with session_scope() as s:
        return [(row.id, row.attempts or 0) for row in s.execute(
            select(Notification.id, Notification.attempts)
            .where(Notification.channel.in_(list(channels)), *_due(clock.now()))
            .order_by(Notification.id).limit(limit))]


def recover_stuck(older_than: dt.timedelta = STUCK_AFTER) -> int:
    """Put rows claimed more than ``older_than`` ago and never finished back in the queue.

    Their open attempt is closed as ``interrupted``.  The interrupted try
    counts as an attempt (it was counted when claimed), so a message that
    crashes the worker every time ends ``dead`` instead of looping.  Each row
    is taken back with a compare-and-set on its claim token: a worker that
    finishes at the same moment wins or loses cleanly.  Returns how many rows
    were recovered.
    """
    now = clock.now()
    cutoff = now - older_than
    note = "delivery interrupted: the worker stopped after claiming this notification"
    with session_scope() as s:
        stuck = s.execute(
            select(Notification.id, Notification.attempts, Notification.claim_token)
            .where(Notification.status == "sending",
                   or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= cutoff))
        ).all()
    recovered = dead = 0
    for notification_id, attempts, token in stuck:
        give_up = (attempts or 0) >= MAX_ATTEMPTS
        with session_scope() as s:
            token_matches = (Notification.claim_token.is_(None) if token is None
                             else Notification.claim_token == token)
            taken = s.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == "sending", token_matches)
                .values(status="dead" if give_up else "pending", last_error=note, claim_token=None,
                        next_attempt_at=None if give_up else now)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not taken:
                continue
            s.execute(update(NotificationAttempt)
                      .where(NotificationAttempt.notification_id == notification_id,
                             NotificationAttempt.outcome.is_(None))
                      .values(outcome="interrupted", finished_at=now, error=note)
                      .execution_options(synchronize_session=False))
        recovered += 1
        dead += give_up
    if recovered:
        log.warning("recovered %s stuck notifications (%s given up)", recovered, dead)
    return recovered


def retry_dead(session: Session, notification_ids: list[int] | None, *, actor) -> int:
    """An administrator sends dead notifications again (all of them when ``notification_ids`` is None).

    Each gets a fresh budget of :data:`MAX_ATTEMPTS`; its attempts so far stay
    in the history.  Adds and flushes in the caller's transaction; returns how
    many rows went back to the queue.
    """
    from portal.audit import services as audit

    if notification_ids is not None and not notification_ids:
        return 0
    stmt = (update(Notification).where(Notification.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=clock.now(), claim_token=None)
            .execution_options(synchronize_session=False))
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(notification_ids))
    count = session.execute(stmt).rowcount
    if count:
        audit.record(session, "notifications_retried", actor_idnp=actor.idnp, object_type="notification",
                     object_id=",".join(str(i) for i in notification_ids)[:64] if notification_ids else "all-dead",
                     count=count)
    session.flush()
    return count


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
