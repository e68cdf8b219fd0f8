from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.core import clock
from portal.core.db import Base, UTCDateTime

IDENTIFYING = "identifying"  # the visitor is logging in with MPass
AWAITING_CONSENT = "awaiting_consent"  # identified by document; the printed consent is not confirmed yet
ACTIVE = "active"  # the specialist may act for the visitor
ENDED = "ended"
OPEN = (IDENTIFYING, AWAITING_CONSENT, ACTIVE)


def new_ref() -> str:
    return secrets.token_urlsafe(12)


class AssistedSession(Base):
    """One visit: one specialist, one centre, one visitor, from start to an explicit end."""

    __tablename__ = "assisted_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    centre_code: Mapped[str] = mapped_column(String(32), index=True)
    # The specialist's login session: the visit lives inside it and ends with it.
    login_session_id: Mapped[str | None] = mapped_column(String(64))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    identified_by: Mapped[str] = mapped_column(String(16))  # mpass | document
    document_type: Mapped[str | None] = mapped_column(String(32))
    document_number: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="ro")
    consent_ref: Mapped[str | None] = mapped_column(String(32))  # portal.privacy Consent.ref
    saml_request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(20), default=IDENTIFYING, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # ended | idle | logout | replaced

    specialist: Mapped[Account] = relationship(foreign_keys=[specialist_id])
    visitor: Mapped[Account | None] = relationship(foreign_keys=[visitor_id])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN and self.ended_at is None
