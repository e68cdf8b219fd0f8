"""Webhooks: an outbox written with the change, fanned out per subscriber, delivered signed with retries.

* :func:`_outbox` runs after every flush of every session: a new agency case or a new status event of a claim
  writes a :class:`WebhookEvent` row in the same transaction, so an event exists exactly when the change
  was committed (the services of the back office need not know about webhooks).
* :func:`fan_out` turns each event into one :class:`WebhookDelivery` per active subscription of its agency.
* :func:`deliver_due` claims due deliveries with a compare-and-set and a token (as notifications do), posts
  the JSON body signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` with the subscriber's secret, records every
  attempt, and retries with exponential backoff until :data:`MAX_ATTEMPTS`, then the delivery is ``dead``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time

import requests
from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.orm import Session

from portal.api.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from portal.core import clock

log = logging.getLogger("esocial.api.webhooks")

EVENT_TYPES = ("case.created", "case.changed")
SIGNATURE_HEADER = "X-eSocial-Signature"
TIMESTAMP_HEADER = "X-eSocial-Timestamp"
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=2)
LEASE = dt.timedelta(minutes=5)
TIMEOUT = (3.05, 10)
# How far a receiver may trust a timestamp (they should refuse older ones: replay protection).
TOLERANCE_SECONDS = 300


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 30 s, 1, 2, 4 minutes…, at most :data:`BACKOFF_MAX`."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: recompute the signature and refuse a stale timestamp."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- the outbox, written by the flush that makes the change --------------------------------------------------

@event.listens_for(Session, "after_flush")
def _outbox(session: Session, flush_context) -> None:
    from portal.applications.models import Claim, StatusEvent
    from portal.backoffice.models import AgencyCase

    new_cases = [o for o in session.new if isinstance(o, AgencyCase)]
    changes = [o for o in session.new if isinstance(o, StatusEvent) and o.claim_id is not None]
    if not new_cases and not changes:
        return
    rows = []
    now = clock.now()
    for case in new_cases:
        rows.append({"agency_code": case.agency_code, "type": "case.created", "case_id": case.id, "claim_id": None,
                     "payload": {"case": case.ref, "status": case.status,
                                 "claims": [c.ref for c in session.new if isinstance(c, Claim) and c.case_id == case.id]},
                     "fanned_out": False, "created_at": now})
    claims = []
    for change in changes:
        claim = change.__dict__.get("claim") or session.get(Claim, change.claim_id)
        if claim is not None and claim.agency_code:
            claims.append((change, claim))
    case_ids = {claim.case_id for _, claim in claims if claim.case_id}
    refs = dict(session.connection().execute(select(AgencyCase.id, AgencyCase.ref)
                                             .where(AgencyCase.id.in_(case_ids))).all()) if case_ids else {}
    for change, claim in claims:
        rows.append({"agency_code": claim.agency_code, "type": "case.changed", "case_id": claim.case_id,
                     "claim_id": claim.id,
                     "payload": {"case": refs.get(claim.case_id), "claim": claim.ref, "benefit": claim.benefit_code,
                                 "from_status": change.from_status, "status": change.to_status},
                     "fanned_out": False, "created_at": now})
    if rows:
        session.connection().execute(insert(WebhookEvent), rows)


# --- fan-out and delivery -----------------------------------------------------------------------------------------

def fan_out(session: Session, limit: int = 500) -> int:
    """One delivery per (event, active subscription of its agency that wants its type). Idempotent."""
    made = 0
    events = list(session.scalars(select(WebhookEvent).where(WebhookEvent.fanned_out.is_(False))
                                  .order_by(WebhookEvent.id).limit(limit)))
    for ev in events:
        taken = session.execute(update(WebhookEvent).where(WebhookEvent.id == ev.id, WebhookEvent.fanned_out.is_(False))
                                .values(fanned_out=True).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            continue
        subs = session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.agency_code == ev.agency_code, WebhookSubscription.active.is_(True)))
        for sub in subs:
            if ev.type in (sub.events or EVENT_TYPES):
                session.add(WebhookDelivery(subscription_id=sub.id, event_id=ev.id, agency_code=ev.agency_code,
                                            status="pending", next_attempt_at=ev.created_at))
                made += 1
    session.flush()
    return made


def body_of(delivery: WebhookDelivery) -> bytes:
    ev = delivery.event
    data = {"id": f"evt_{ev.id}", "delivery": f"dlv_{delivery.id}", "type": ev.type,
            "occurred_at": ev.created_at.isoformat(), "agency": ev.agency_code, "data": ev.payload}
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    return list(session.scalars(
        select(WebhookDelivery.id).where(or_(
            (WebhookDelivery.status.in_(("pending", "failed"))) & (WebhookDelivery.next_attempt_at <= now),
            (WebhookDelivery.status == "sending") & (WebhookDelivery.next_attempt_at <= now - LEASE)))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def deliver_due(session_factory, *, limit: int = 50, http=None, now: dt.datetime | None = None) -> dict[str, int]:
    """Deliver what is due; each claim, attempt and outcome in its own short transaction."""
    http = http or requests
    counts = {"delivered": 0, "failed": 0, "dead": 0}
    s = session_factory()
    try:
        fan_out(s)
        s.commit()
        ids = _due_ids(s, now or clock.now(), limit)
    finally:
        s.close()
    for delivery_id in ids:
        outcome = deliver_one(session_factory, delivery_id, http=http)
        if outcome in counts:
            counts[outcome] += 1
    return counts


def deliver_one(session_factory, delivery_id: int, *, http=None) -> str:
    http = http or requests
    token = secrets.token_hex(8)
    s = session_factory()
    try:
        now = clock.now()
        claimed = s.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, or_(
                WebhookDelivery.status.in_(("pending", "failed")),
                (WebhookDelivery.status == "sending") & (WebhookDelivery.next_attempt_at <= now - LEASE)))
            .values(status="sending", claim_token=token, next_attempt_at=now, attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            s.rollback()
            return "skipped"
        delivery = s.get(WebhookDelivery, delivery_id)
        attempt = WebhookAttempt(delivery_id=delivery_id, number=delivery.attempts, started_at=now)
        s.add(attempt)
        s.commit()
        attempt_id = attempt.id
        sub = delivery.subscription
        body = body_of(delivery)
        url, secret, attempts = sub.url, sub.secret, delivery.attempts
        active = sub.active
    finally:
        s.close()
    status_code, error = None, None
    if not active:
        error = "subscription ended"
    else:
        ts = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts),
                   SIGNATURE_HEADER: sign(secret, ts, body), "X-eSocial-Delivery": f"dlv_{delivery_id}",
                   "User-Agent": "eSocial-Webhooks/1"}
        try:
            response = http.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except requests.RequestException as e:
            error = f"{type(e).__name__}: {e}"[:500]
    s = session_factory()
    try:
        now = clock.now()
        if error is None:
            values = {"status": "delivered", "delivered_at": now, "next_attempt_at": None, "last_error": None}
            outcome = "delivered"
        else:
            outcome = "dead" if attempts >= MAX_ATTEMPTS or not active else "failed"
            values = {"status": outcome, "last_error": error,
                      "next_attempt_at": None if outcome == "dead" else now + backoff(attempts)}
        done = s.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                       WebhookDelivery.claim_token == token)
                         .values(claim_token=None, **values).execution_options(synchronize_session=False))
        s.execute(update(WebhookAttempt).where(WebhookAttempt.id == attempt_id)
                  .values(finished_at=now, response_status=status_code, error=error))
        s.commit()
        if done.rowcount != 1:
            log.warning("webhook delivery %s: the lease was taken back before the outcome", delivery_id)
            return "skipped"
        return outcome
    finally:
        s.close()


def retry(session: Session, delivery: WebhookDelivery) -> None:
    """The agency administrator asks for another try of a dead or failed delivery now."""
    if delivery.status in ("dead", "failed"):
        delivery.status = "failed"
        delivery.next_attempt_at = clock.now()
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.attempts = MAX_ATTEMPTS - 1
        session.flush()
