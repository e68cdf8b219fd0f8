"""The audit hash chain: append under a lock, verify from end to end.

Each :class:`~portal.audit.models.AuditEvent` carries ``seq`` (its position,
without gaps), ``prev_hash`` (the hash of the event before it) and ``hash``:
SHA-256 over a canonical JSON of its content and ``prev_hash``.  Changing an
event changes its hash; deleting one leaves a gap in ``seq`` and a broken link;
inserting one needs a position that is taken or a link that does not fit; and
the newest link is kept in :class:`~portal.audit.models.AuditChainHead`, so
removing events at the end is seen too.

Events get their place in the chain when their transaction commits (a
``before_commit`` hook on every SQLAlchemy session), not when they are
recorded: the chain head row is locked only for the moment of the commit.  The
lock is an ``UPDATE`` of that row, which on PostgreSQL is a row lock held until
the transaction ends and on SQLite takes the database's single write lock, so
two writers never read the same head and the chain never forks.

What a hash chain cannot do alone: someone able to rewrite the whole table
*and* the head row can recompute every hash.  Write the head (``audit head``)
somewhere else now and then; ``audit verify --anchor SEQ:HASH`` then proves the
chain still runs through that point.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HEAD_ID = 1
PENDING = "esocial_audit_pending"


def canonical_details(details: dict | None) -> dict:
    """Details as they will read back from the JSON column (so the hash computed now matches later)."""
    return json.loads(json.dumps(details or {}, default=str, sort_keys=True, ensure_ascii=False))


def _instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_of(e: AuditEvent) -> dict:
    return {
        "seq": e.seq,
        "prev": e.prev_hash,
        "at": _instant(e.occurred_at),
        "action": e.action,
        "actor": e.actor_idnp,
        "subject": e.subject_idnp,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "details": e.details or {},
        "ip": e.source_ip,
    }


def hash_of(e: AuditEvent) -> str:
    text = json.dumps(content_of(e), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- appending


def remember(session: Session, e: AuditEvent) -> None:
    """Note an event to be chained when ``session`` commits (called by :func:`portal.audit.services.record`)."""
    session.info.setdefault(PENDING, []).append(e)


def _unchained(session: Session) -> list[AuditEvent]:
    noted = session.info.pop(PENDING, [])
    noted += [o for o in session.new if isinstance(o, AuditEvent) and o not in noted]
    out = []
    for e in noted:
        state = inspect(e)
        if e.seq is None and e in session and not state.deleted and not state.detached:
            out.append(e)
    return out


def _ensure_head(session: Session) -> None:
    try:
        with session.begin_nested():
            session.add(AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS, base_seq=0, base_hash=GENESIS))
    except IntegrityError:  # another writer created it a moment ago
        pass


def lock_head(session: Session, advance: int = 0) -> tuple[int, str]:
    """Lock the chain head for the rest of this transaction; move it ``advance`` places. Returns (old seq, hash)."""
    table = AuditChainHead.__table__
    statement = (update(table).where(table.c.id == HEAD_ID).values(seq=table.c.seq + advance)
                 .returning(table.c.seq, table.c.hash))
    row = session.execute(statement).one_or_none()
    if row is None:
        _ensure_head(session)
        row = session.execute(statement).one()
    return row.seq - advance, row.hash


def _append(session: Session) -> None:
    events = _unchained(session)
    if not events:
        return
    last_seq, prev = lock_head(session, advance=len(events))
    for offset, e in enumerate(events, start=1):
        if e.occurred_at is None:
            from portal.core import clock

            e.occurred_at = clock.now()
        e.details = canonical_details(e.details)
        e.seq = last_seq + offset
        e.prev_hash = prev
        e.hash = hash_of(e)
        prev = e.hash
    table = AuditChainHead.__table__
    session.execute(update(table).where(table.c.id == HEAD_ID).values(hash=prev))


def _forget(session: Session, *args) -> None:
    session.info.pop(PENDING, None)


event.listen(Session, "before_commit", _append)
event.listen(Session, "after_rollback", _forget)


# ---------------------------------------------------------------- verifying


@dataclass
class Report:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def head(session: Session) -> tuple[int, str]:
    row = session.get(AuditChainHead, HEAD_ID)
    return (row.seq, row.hash) if row is not None else (0, GENESIS)


def verify(session: Session, *, anchors: list[tuple[int, str]] = (), batch: int = 2000,
           max_problems: int = 50) -> Report:
    """Walk the whole chain; report every changed, missing, inserted or out-of-place record."""
    row = session.get(AuditChainHead, HEAD_ID)
    base_seq, base_hash = (row.base_seq, row.base_hash) if row is not None else (0, GENESIS)
    report = Report()

    def problem(text: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(text)

    expected, prev = base_seq + 1, base_hash
    wanted = dict(anchors)
    after = base_seq
    while True:
        chunk = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > after)
                                     .order_by(AuditEvent.seq).limit(batch)))
        if not chunk:
            break
        for e in chunk:
            if e.seq != expected:
                problem(f"records {expected}–{e.seq - 1} are missing (deleted)")
            if e.prev_hash != prev:
                problem(f"record {e.seq} (id {e.id}) does not follow the record before it")
            if hash_of(e) != e.hash:
                problem(f"record {e.seq} (id {e.id}, {e.action}) was changed after it was written")
            if e.seq in wanted and wanted[e.seq] != e.hash:
                problem(f"record {e.seq} does not match the anchor written down for it")
            prev, expected = e.hash, e.seq + 1
            report.checked += 1
        after = chunk[-1].seq
        session.expunge_all()
    report.head_seq, report.head_hash = expected - 1, prev
    stored_seq, stored_hash = (row.seq, row.hash) if row is not None else (0, GENESIS)
    if (stored_seq, stored_hash) != (report.head_seq, report.head_hash):
        if stored_seq > report.head_seq:
            problem(f"records {report.head_seq + 1}–{stored_seq} at the end of the chain are missing (deleted)")
        else:
            problem(f"the chain head says record {stored_seq}, the records end at {report.head_seq}")
    outside = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None)))
    if outside:
        problem(f"{outside} record(s) outside the chain (inserted without a link)")
    before = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq <= base_seq))
    if before:
        problem(f"{before} record(s) placed before the start of the chain")
    for seq in wanted:
        if not base_seq < seq <= report.head_seq:
            problem(f"no record {seq} for the anchor written down for it")
    return report
