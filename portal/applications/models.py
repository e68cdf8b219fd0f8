from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.core import clock
from portal.core.db import Base, UTCDateTime


def new_ref() -> str:
    return secrets.token_urlsafe(12)


class Application(Base):
    """One application for one or several benefits ("apply once").

    ``applicant`` is the person the application is for (the subject);
    ``created_by`` is who filled it in (the actor), which differs for CUPS
    specialists and representatives.
    """

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    channel: Mapped[str] = mapped_column(String(16), default="online")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    current_step: Mapped[str] = mapped_column(String(32), default="benefits")
    benefits: Mapped[list] = mapped_column(JSON, default=list)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(2), default="ro")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    raion_code: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    applicant: Mapped[Account] = relationship(foreign_keys=[applicant_id])
    created_by: Mapped[Account] = relationship(foreign_keys=[created_by_id])
    claims: Mapped[list["Claim"]] = relationship(back_populates="application", order_by="Claim.id")
    evidence: Mapped[list["Evidence"]] = relationship(back_populates="application", order_by="Evidence.id")
    documents: Mapped[list["Document"]] = relationship(back_populates="application", order_by="Document.id")
    events: Mapped[list["StatusEvent"]] = relationship(back_populates="application", order_by="StatusEvent.id")

    def touch(self) -> None:
        """Mark a visible change: live status watchers compare this number."""
        self.version = (self.version or 0) + 1


class Claim(Base):
    """One benefit asked for in an application; the unit an agency decides on (a case)."""

    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("application_id", "benefit_code", name="uq_claim_benefit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    benefit_code: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32), default="submitted", index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # The agency's case this claim belongs to (portal.backoffice.models.AgencyCase): one per agency per application.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("agency_case.id"), index=True)
    # The worst open cross-check flag (portal.assessment): 0 none, 1 low, 2 medium, 3 high; orders the queues.
    risk_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    application: Mapped[Application] = relationship(back_populates="claims")


class StatusEvent(Base):
    """The history of an application: every status change with who, when and why."""

    __tablename__ = "status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    application: Mapped[Application] = relationship(back_populates="events")
    claim: Mapped[Claim | None] = relationship()
    actor: Mapped[Account | None] = relationship()


class Evidence(Base):
    """A piece of data taken from a registry for an application, with its source and time."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("application_id", "item", name="uq_evidence_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))  # registry code, see config/reference/registries.toml
    status: Mapped[str] = mapped_column(String(16), default="fetched")  # fetched | pending | failed
    payload: Mapped[dict | list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(255))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed: Mapped[bool | None]
    dispute_note: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="evidence")


class Document(Base):
    """A file the citizen uploaded where no registry holds the data."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(128))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    application: Mapped[Application] = relationship(back_populates="documents")
