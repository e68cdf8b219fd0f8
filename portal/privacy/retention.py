"""Retention: each kind of record is deleted when its period (config/retention.toml) has passed.

:func:`purge` is an idempotent sweep (registered in :mod:`portal.privacy.tasks`), each kind in its own
transaction.  Deleting an application deletes what hangs off it (claims, evidence, documents and their
files, status events, cases, decisions: every row whose non-null foreign key points into it, found from the
schema so other features' tables are included); rows that merely refer to it (nullable keys) lose the link.
Audit events are removed from the start of the chain only, and the chain's new start is written to its head
row so ``audit verify`` still proves the rest.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import LoginSession
from portal.applications.models import Application, Claim, Document
from portal.audit import chain
from portal.audit import services as audit
from portal.audit.models import AuditChainHead, AuditEvent
from portal.config import Settings
from portal.core import clock
from portal.models import Base
from portal.privacy.models import Consent

KINDS = ("drafts", "rejected_applications", "decided_applications", "audit_events", "login_sessions",
         "notifications", "consents", "orphan_uploads")


@dataclass(frozen=True)
class Periods:
    days: dict[str, int]

    def __getitem__(self, kind: str) -> dt.timedelta:
        return dt.timedelta(days=self.days[kind])


def load_periods(settings: Settings) -> Periods:
    with settings.resolve(settings.retention_file).open("rb") as fh:
        raw = tomllib.load(fh)
    days = {kind: int(raw[kind]["days"]) for kind in KINDS if kind in raw}
    missing = [k for k in KINDS if k not in days]
    if missing:
        raise ValueError(f"{settings.retention_file}: no period for {', '.join(missing)}")
    return Periods(days)


# ---------------------------------------------------------------- deleting a tree of rows


def _children(table: Table) -> list[tuple[Table, object, object]]:
    out = []
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table and child is not table:
                out.append((child, fk.parent, fk.column))
    return out


def delete_tree(session: Session, table: Table, ids: list, *, _path: tuple = ()) -> dict[str, int]:
    """Delete rows ``ids`` (primary key values of a one-column key) of ``table`` and everything depending on them."""
    counts: dict[str, int] = {}
    if not ids or table.name in _path:
        return counts
    pk = list(table.primary_key.columns)[0]
    for child, fk_col, parent_col in _children(table):
        values = [r[0] for r in session.execute(select(parent_col).where(pk.in_(ids)))]
        if not values:
            continue
        if fk_col.nullable:
            session.execute(update(child).where(fk_col.in_(values)).values({fk_col.name: None}))
            continue
        child_pk = list(child.primary_key.columns)
        if len(child_pk) == 1:
            child_ids = [r[0] for r in session.execute(select(child_pk[0]).where(fk_col.in_(values)))]
            for name, n in delete_tree(session, child, child_ids, _path=_path + (table.name,)).items():
                counts[name] = counts.get(name, 0) + n
        else:
            n = session.execute(delete(child).where(fk_col.in_(values))).rowcount or 0
            counts[child.name] = counts.get(child.name, 0) + n
    n = session.execute(delete(table).where(pk.in_(ids))).rowcount or 0
    counts[table.name] = counts.get(table.name, 0) + n
    return counts


def _delete_applications(session: Session, ids: list[int], vault) -> dict[str, int]:
    if not ids:
        return {}
    keys = [k for (k,) in session.execute(select(Document.storage_key).where(Document.application_id.in_(ids)))]
    counts = delete_tree(session, Application.__table__, ids)
    session.flush()
    for key in keys:  # the rows are gone in this transaction; the files follow
        vault.delete(key)
    return counts


# ---------------------------------------------------------------- each kind


def _drafts(session, cutoff, vault):
    ids = list(session.scalars(select(Application.id).where(Application.status == "draft",
                                                            Application.updated_at < cutoff).limit(500)))
    return _delete_applications(session, ids, vault)


def _decided(session, cutoff, vault, *, rejected_only: bool):
    """Applications whose every claim is decided (or, with ``rejected_only``, rejected), the last before cutoff."""
    decided = func.sum(case((Claim.status.in_(("approved", "rejected")), 1), else_=0))
    rejected = func.sum(case((Claim.status == "rejected", 1), else_=0))
    query = (select(Claim.application_id).group_by(Claim.application_id)
             .having(func.count() == decided).having(func.max(Claim.decided_at) < cutoff))
    if rejected_only:
        query = query.having(func.count() == rejected)
    ids = list(session.scalars(query.limit(500)))
    return _delete_applications(session, ids, vault)


def _audit_events(session, cutoff, vault):
    last = session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.occurred_at < cutoff))
    if not last:
        return {}
    chain.lock_head(session)  # the chain head stays ours until commit
    head = session.get(AuditChainHead, chain.HEAD_ID, populate_existing=True)
    if head is None or last <= head.base_seq:
        return {}
    last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last))
    n = session.execute(delete(AuditEvent).where(AuditEvent.seq <= last)).rowcount or 0
    head.base_seq, head.base_hash = last, last_hash
    return {"audit_event": n}


def _login_sessions(session, cutoff, vault):
    n = session.execute(delete(LoginSession).where(
        or_(LoginSession.ended_at < cutoff, and_(LoginSession.ended_at.is_(None), LoginSession.last_seen_at < cutoff))
    )).rowcount or 0
    return {"login_session": n}


def _notifications(session, cutoff, vault):
    table = Base.metadata.tables["notification"]
    ids = [r[0] for r in session.execute(select(table.c.id).where(table.c.created_at < cutoff).limit(1000))]
    return delete_tree(session, table, ids)


def _consents(session, cutoff, vault):
    n = session.execute(delete(Consent).where(or_(Consent.revoked_at < cutoff, Consent.expires_at < cutoff))
                        ).rowcount or 0
    return {"consent": n}


def _orphan_uploads(session, cutoff, vault):
    folder = vault.directory
    if not folder.exists():
        return {}
    known = set(session.scalars(select(Document.storage_key)))
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.name not in known and \
                dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc) < cutoff:
            path.unlink()
            removed += 1
    return {"upload_files": removed}


SWEEPS = {
    "drafts": _drafts,
    "rejected_applications": lambda s, c, v: _decided(s, c, v, rejected_only=True),
    "decided_applications": lambda s, c, v: _decided(s, c, v, rejected_only=False),
    "audit_events": _audit_events,
    "login_sessions": _login_sessions,
    "notifications": _notifications,
    "consents": _consents,
    "orphan_uploads": _orphan_uploads,
}


def purge(session_factory, settings: Settings, *, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Run every kind's purge, each in its own transaction; returns what was deleted, by kind and table."""
    from portal.core import vault as vault_mod

    now = now or clock.now()
    periods = load_periods(settings)
    store = vault_mod.for_settings(settings)
    done: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        with session_factory() as session:
            counts = {k: v for k, v in SWEEPS[kind](session, now - periods[kind], store).items() if v}
            if counts:
                audit.record(session, "retention_purge", kind=kind, deleted=counts,
                             older_than=(now - periods[kind]).isoformat())
                done[kind] = counts
            session.commit()
    return done
