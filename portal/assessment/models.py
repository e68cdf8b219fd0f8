"""What eligibility kept about each claim: the result the citizen saw, flags, and the keys compared."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.accounts.models import Account
from portal.applications.models import Application, Claim
from portal.core import clock
from portal.core.db import Base, UTCDateTime

OPEN = "open"
CLEARED = "cleared"  # a case worker cleared it, with a reason
RESOLVED = "resolved"  # no longer found when the checks ran again


class ClaimAssessment(Base):
    """The automatic pre-assessment of one claim.

    ``submitted_result`` is exactly what the citizen saw when sending (a
    :class:`portal.eligibility.Result` as a dict); ``current_result`` is the same rules run
    again on the data received since, when it changed.  ``evidence_stamp`` fingerprints the
    evidence and answers the current result was computed from.
    """

    __tablename__ = "claim_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), unique=True)
    benefit_code: Mapped[str] = mapped_column(String(64))
    judged_on: Mapped[dt.date] = mapped_column(Date)  # the date whose parameters apply: the application's
    submitted_result: Mapped[dict] = mapped_column(JSON)
    submitted_stamp: Mapped[str] = mapped_column(String(64))
    current_result: Mapped[dict | None] = mapped_column(JSON)
    current_stamp: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    review_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    review_note: Mapped[str | None] = mapped_column(Text)

    # ``claim.assessment``: the claim's pre-assessment, reachable from templates and view models.
    claim: Mapped[Claim] = relationship(backref=backref("assessment", uselist=False))
    review_requested_by: Mapped[Account | None] = relationship()


class RiskFlag(Base):
    """One cross-check finding on a claim: a code, a severity and the figures of its reason."""

    __tablename__ = "risk_flag"
    __table_args__ = (UniqueConstraint("claim_id", "key", name="uq_risk_flag_claim_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    code: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(160))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=OPEN, index=True)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    cleared_reason: Mapped[str | None] = mapped_column(Text)

    # ``claim.risk_flags``: every flag of the claim, oldest first.
    claim: Mapped[Claim] = relationship(backref=backref("risk_flags", order_by="RiskFlag.id"))
    cleared_by: Mapped[Account | None] = relationship()


class ClaimKey(Base):
    """What a claim is compared by: a person's IDNP, the address or the bank account, as a hash."""

    __tablename__ = "claim_key"
    __table_args__ = (Index("ix_claim_key_digest", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    benefit_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # member | child | person | address | account
    digest: Mapped[str] = mapped_column(String(64))
    # The person the key stands for (member/child/person kinds): shown to the case worker who may see both.
    idnp: Mapped[str | None] = mapped_column(String(13))
    applicant_idnp: Mapped[str] = mapped_column(String(13), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    application: Mapped[Application] = relationship()
    claim: Mapped[Claim] = relationship()
