"""The agencies' side of an application: a case per responsible agency, and its transfers.

An application for several benefits has one ``Claim`` per benefit; the claims
that go to the same agency share one :class:`AgencyCase`, the unit a worker
takes, is assigned, transfers and is held to a deadline.  Decisions stay per
claim (per benefit).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.applications.models import Application, Claim, new_ref
from portal.core import clock
from portal.core.db import Base, UTCDateTime

OPEN = "open"  # the agency has work to do
WAITING = "waiting"  # waiting for the citizen: the deadline is paused
CLOSED = "closed"  # every claim decided


class AgencyCase(Base):
    __tablename__ = "agency_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Who may not take the case (the author of a decision under appeal).
    excluded_worker_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # The legal deadline: the earliest of its open claims', moved by the working days spent waiting.
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_days: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship()
    claims: Mapped[list[Claim]] = relationship(primaryjoin="AgencyCase.id == foreign(Claim.case_id)",
                                               order_by="Claim.id", viewonly=True)
    assigned_to: Mapped[Account | None] = relationship(foreign_keys=[assigned_to_id])
    transfers: Mapped[list["CaseTransfer"]] = relationship(back_populates="case", order_by="CaseTransfer.id")


class CaseTransfer(Base):
    """A case sent to another agency, with the reason."""

    __tablename__ = "case_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("agency_case.id"), index=True)
    from_agency: Mapped[str] = mapped_column(String(32))
    to_agency: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    case: Mapped[AgencyCase] = relationship(back_populates="transfers")
    actor: Mapped[Account] = relationship()
