"""Consent records: who agreed, to what, for whom, on what evidence; versioned and revocable.

The legal basis for deciding and paying benefits is the benefit law and public
authority, not consent (docs: domain §6.2).  Consent is recorded where policy
asks for it: an assisted session at a CUPS centre, a mandate to a
representative, optional processing.  A consent is never edited: revoking sets
``revoked_at``; a new text version means a new record.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Base, UTCDateTime


def _ref() -> str:
    return "CS-" + secrets.token_hex(6).upper()


class Consent(Base):
    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_subject_kind", "subject_idnp", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=_ref)
    # The person whose data the consent is about, who gives it.
    subject_idnp: Mapped[str] = mapped_column(String(13))
    # What is consented to (portal.privacy.consent.KINDS) and why, in a code the pages translate.
    kind: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    # To whom: a person (CUPS specialist, representative) and/or an organisation (CUPS centre code).
    granted_to_idnp: Mapped[str | None] = mapped_column(String(13), index=True)
    granted_to_org: Mapped[str | None] = mapped_column(String(64))
    # Which services or benefits it covers, and any reference (mandate ref, assisted session ref).
    scope: Mapped[dict] = mapped_column(JSON, default=dict)
    # The text the person agreed to, by version, in the language they read it in.
    text_version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="ro")
    # How it was given: "signed_form" (paper at a CUPS centre), "mpass" (logged in and confirmed), "online".
    method: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_by_idnp: Mapped[str | None] = mapped_column(String(13))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by_idnp: Mapped[str | None] = mapped_column(String(13))

    def active_at(self, when: dt.datetime) -> bool:
        return (self.given_at <= when and self.revoked_at is None
                and (self.expires_at is None or when < self.expires_at))
