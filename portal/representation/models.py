from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.core import clock
from portal.core.db import Base, UTCDateTime


def _ref() -> str:
    return secrets.token_urlsafe(12)


class Guardianship(Base):
    """A legal guardian (tutelă) or curator (curatelă) appointed for a person, as the guardianship authority
    recorded it.  Data, not a choice of the people concerned: it is entered by the authority (or its
    registry) and ends on ``valid_until`` or when ``ended_at`` is set."""

    __tablename__ = "guardianship"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=_ref)
    guardian_idnp: Mapped[str] = mapped_column(String(13), index=True)
    ward_idnp: Mapped[str] = mapped_column(String(13), index=True)
    ward_first_name: Mapped[str] = mapped_column(String(100), default="")
    ward_last_name: Mapped[str] = mapped_column(String(100), default="")
    ward_birth_date: Mapped[dt.date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16), default="guardianship")  # guardianship | curatorship
    authority: Mapped[str] = mapped_column(String(200), default="")
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def ward_name(self) -> str:
        return f"{self.ward_first_name} {self.ward_last_name}".strip()


class Mandate(Base):
    """A power of representation a citizen gives another for chosen services until an end date, revocable
    at any time by the grantor and renounceable by the representative (as MPower, HG 375/2020).

    ``type_code`` is the authorisation type agreed with MPower; ``services`` the benefit codes it covers.
    """

    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=_ref)
    type_code: Mapped[str] = mapped_column(String(32), default="AT-ESOCIAL-APPLY")
    grantor_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    grantee_idnp: Mapped[str] = mapped_column(String(13), index=True)
    grantee_name: Mapped[str] = mapped_column(String(200), default="")
    services: Mapped[list] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    consent_ref: Mapped[str | None] = mapped_column(String(32))  # portal.privacy Consent.ref
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    renounced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    grantor: Mapped[Account] = relationship()


class OnBehalf(Base):
    """Who filled in an application for whom, on what basis, and who sent it.

    One row per application filled in by someone other than its applicant.  ``basis``: ``assisted`` (a
    CUPS specialist; ``centre_code`` and ``assisted_session_id`` say where and when), ``parent``,
    ``guardian`` or ``mandate``.  Shown to everyone who sees the application.
    """

    __tablename__ = "on_behalf"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    centre_code: Mapped[str | None] = mapped_column(String(32))
    assisted_session_id: Mapped[int | None] = mapped_column(ForeignKey("assisted_session.id"))
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("mandate.id"))
    guardianship_id: Mapped[int | None] = mapped_column(ForeignKey("guardianship.id"))
    consent_ref: Mapped[str | None] = mapped_column(String(32))  # portal.privacy Consent.ref
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    submitted_basis: Mapped[str | None] = mapped_column(String(16))
    submitted_centre_code: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[Account] = relationship(foreign_keys=[actor_id])
    submitted_by: Mapped[Account | None] = relationship(foreign_keys=[submitted_by_id])
