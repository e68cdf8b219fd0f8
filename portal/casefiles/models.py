from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.applications.models import new_ref
from portal.core import clock
from portal.core.db import Base, UTCDateTime

RISK_LEVELS = ("low", "medium", "high", "critical")


class CaseFile(Base):
    """A vulnerable household followed by a social assistance agency over time."""

    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    # The household: its reference person and every member's IDNP (from the population register).
    reference_idnp: Mapped[str] = mapped_column(String(13), index=True)
    reference_name: Mapped[str] = mapped_column(String(200), default="")
    members: Mapped[list] = mapped_column(JSON, default=list)
    raion_code: Mapped[str | None] = mapped_column(String(32))
    agency_code: Mapped[str] = mapped_column(String(32), index=True)
    risk_level: Mapped[str] = mapped_column(String(16), default="medium")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    assessments: Mapped[list["NeedsAssessment"]] = relationship(order_by="NeedsAssessment.id.desc()")
    plan: Mapped[list["PlanItem"]] = relationship(order_by="PlanItem.id")
    visits: Mapped[list["HomeVisit"]] = relationship(order_by="HomeVisit.visited_on.desc()")
    notes: Mapped[list["CaseNote"]] = relationship(order_by="CaseNote.id.desc()")
    referrals: Mapped[list["Referral"]] = relationship(back_populates="case_file", order_by="Referral.id.desc()")


class NeedsAssessment(Base):
    __tablename__ = "needs_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    areas: Mapped[dict] = mapped_column(JSON, default=dict)  # area → none | some | serious
    summary: Mapped[str] = mapped_column(Text, default="")
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    assessed_by: Mapped[Account] = relationship()


class PlanItem(Base):
    """A service or intervention in the household's plan."""

    __tablename__ = "plan_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # service | intervention
    description: Mapped[str] = mapped_column(Text)
    responsible_agency: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned | in_progress | done | cancelled
    created_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class HomeVisit(Base):
    __tablename__ = "home_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    findings: Mapped[str] = mapped_column(Text)
    next_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    visitor: Mapped[Account] = relationship()


class CaseNote(Base):
    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[Account] = relationship()


class Referral(Base):
    """The household sent to another agency for a service; that agency accepts or declines."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    from_agency: Mapped[str] = mapped_column(String(32))
    to_agency: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | accepted | declined
    created_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer_note: Mapped[str | None] = mapped_column(Text)

    case_file: Mapped[CaseFile] = relationship(back_populates="referrals")
