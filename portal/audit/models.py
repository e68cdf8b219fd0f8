"""Audit trail: typed events written in the same transaction as the change they record.

The events form one hash chain (see :mod:`portal.audit.chain`): each event's
``hash`` covers its content and the ``prev_hash`` of the event before it, and
``seq`` numbers the chain without gaps.  :class:`AuditChainHead` is a single
row holding the newest link; every commit that appends events locks it first, so
concurrent writers queue up instead of forking the chain.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor_idnp: Mapped[str | None] = mapped_column(String(13), index=True)
    subject_idnp: Mapped[str | None] = mapped_column(String(13), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    source_ip: Mapped[str | None] = mapped_column(String(45))
    # The chain, filled in at commit time (portal.audit.chain): position, previous link, this link.
    seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The newest link of the chain (one row, id 1), and where the chain starts after a retention purge."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # Events up to base_seq were removed by the retention purge; base_hash is the hash of the last one removed.
    base_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    base_hash: Mapped[str] = mapped_column(String(64))
