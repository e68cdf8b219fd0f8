from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.accounts.models import Account
from portal.applications.models import Claim, new_ref
from portal.core import clock
from portal.core.db import Base, UTCDateTime


class Decision(Base):
    """What an agency decided on one claim, with everything its letter says."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("agency_case.id"))
    agency_code: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # approved | rejected
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    period: Mapped[str | None] = mapped_column(String(16))  # monthly | one_off
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="ro")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    appeal_until: Mapped[dt.date] = mapped_column(Date)
    # The appeal this decision answers, if it is a decision on an appeal.
    on_appeal_id: Mapped[int | None] = mapped_column()  # appeal.id (no FK: the two tables refer to each other)
    letter_pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))

    claim: Mapped[Claim] = relationship()
    decided_by: Mapped[Account] = relationship()


class Appeal(Base):
    """The citizen contests a decision; another worker (or the supervisor) reviews it."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("agency_case.id"))
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | resolved
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    decision: Mapped[Decision] = relationship(foreign_keys=[decision_id])
    claim: Mapped[Claim] = relationship()
    reviewer: Mapped[Account | None] = relationship(foreign_keys=[reviewer_id])
