"""The agencies' side of an application: a case per responsible agency, and its transfers.

An application for several benefits has one ``Claim`` per benefit; the claims
that go to the same agency share one :class:`AgencyCase`, the unit a worker
takes, is assigned, transfers and is held to a deadline.  Decisions stay per
claim (per benefit).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text, event, func, inspect, select, update
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, relationship

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
    # The worst risk level of its claims (0 none … 3 high): the queue's first key, kept by
    # ``portal.backoffice.cases.refresh_risk`` whenever a claim's level changes or a claim joins or leaves.
    risk_level: Mapped[int] = mapped_column(default=0, server_default="0")
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


# --- a case's risk level follows its claims' --------------------------------------------------------------------
#
# The queue is ordered by ``agency_case.risk_level`` (served by an index), so it must never lag behind the
# claims: eligibility sets ``Claim.risk_level`` (at submission, on a re-check, when a flag is cleared), and
# claims join or leave cases (opening, routing after submission, transfers).  Rather than trust every one
# of those places to remember, each flush notes the cases of the claims whose level or case changed, and
# sets their level from the database once the claims are written, in the same transaction.

_PENDING = "agency_case_risk"


def refresh_risk(session: Session, case_ids) -> None:
    """Set each case's ``risk_level`` to the worst of its claims' (0 when it has none), as written so far."""
    ids = sorted({i for i in case_ids if i})
    if not ids:
        return
    conn = session.connection()
    table = AgencyCase.__table__
    worst = (select(func.coalesce(func.max(Claim.risk_level), 0)).where(Claim.case_id == table.c.id)
             .scalar_subquery())
    conn.execute(update(table).where(table.c.id.in_(ids), table.c.risk_level != worst).values(risk_level=worst))
    for case_id, level in conn.execute(select(table.c.id, table.c.risk_level).where(table.c.id.in_(ids))):
        case = session.identity_map.get(session.identity_key(AgencyCase, case_id))
        if case is not None:
            attributes.set_committed_value(case, "risk_level", level)


@event.listens_for(Session, "before_flush")
def _note_claims_that_move_risk(session: Session, _context, _instances) -> None:
    touched = session.info.setdefault(_PENDING, set())
    for claim in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(claim, Claim):
            continue
        state = inspect(claim)
        case = state.attrs.case_id.history
        if claim in session.new or claim in session.deleted or case.has_changes() \
                or state.attrs.risk_level.history.has_changes():
            touched.update(v for v in (*case.added, *case.unchanged, *case.deleted) if v)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_touched_cases(session: Session, _context) -> None:
    touched = session.info.pop(_PENDING, None)
    if touched:
        refresh_risk(session, touched)


@event.listens_for(Session, "after_rollback")
def _forget_touched_cases(session: Session) -> None:
    session.info.pop(_PENDING, None)
