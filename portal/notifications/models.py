from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.core import clock
from portal.core.db import Base, UTCDateTime

CHANNELS = ("portal", "email", "sms")


class Notification(Base):
    """One message to one person on one channel; the outbox row and its delivery state.

    ``status``: pending → sent, or pending → failed (retry later) → dead after
    the last attempt.  In-portal notifications are ``sent`` when written.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(2))
    address: Mapped[str | None] = mapped_column(String(254))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Written by the claim that is sending the row now; an outcome is recorded only against it.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
    history: Mapped[list["NotificationAttempt"]] = relationship(order_by="NotificationAttempt.number",
                                                               viewonly=True)


OUTCOMES = ("sent", "failed", "dead", "interrupted")


class NotificationAttempt(Base):
    """One try at handing a notification to its channel, and how it ended.

    Written when the row is claimed (``outcome`` empty: in flight), completed
    when the channel answers.  An attempt still empty after a worker died is
    closed as ``interrupted`` by the recovery.  ``provider_ref`` is what the
    relay or gateway called the message (SMTP Message-ID, the gateway's id).
    """

    __tablename__ = "notification_attempt"
    __table_args__ = (UniqueConstraint("notification_id", "number", name="uq_notification_attempt_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    number: Mapped[int]  # 1, 2, … across the notification's whole life (retries by an administrator included)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(254))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)


class Reminder(Base):
    """A reminder written once for one due event (``kind`` + ``key``): the unique pair makes sweeps idempotent."""

    __tablename__ = "notification_reminder"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_notification_reminder_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
