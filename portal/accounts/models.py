from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.db import Base, UTCDateTime

ROLES = ("case_worker", "supervisor", "agency_admin", "analyst", "sysadmin", "cups_specialist")


class Account(Base):
    """A person who has logged in through MPass. The IDNP comes from the assertion's NameID."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    idnp: Mapped[str] = mapped_column(String(13), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[dt.date | None]
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="ro")
    timezone: Mapped[str | None] = mapped_column(String(64))
    # ISO 3166-1 alpha-2 of where the person lives (from the population register or their settings; None =
    # not known yet).  Abroad, e-mail is the default channel and times are shown in that country's zone.
    country: Mapped[str | None] = mapped_column(String(2))
    notify_email: Mapped[bool] = mapped_column(default=True)
    notify_sms: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list["RoleAssignment"]] = relationship(
        primaryjoin="and_(Account.idnp == foreign(RoleAssignment.idnp), RoleAssignment.revoked_at.is_(None))",
        viewonly=True,
        lazy="selectin",
    )

    # Flask-Login: the login session, not the account, is the unit of authentication.
    # Set on the instance by portal.accounts.sessions; not a column.
    login_session_id = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.login_session_id

    def has_role(self, role: str, agency_code: str | None = None) -> bool:
        return any(r.role == role and (agency_code is None or r.agency_code == agency_code) for r in self.roles)

    def agencies_for(self, *roles: str) -> set[str]:
        return {r.agency_code for r in self.roles if r.role in roles and r.agency_code}

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


class RoleAssignment(Base):
    """A staff role given by eSocial to an IDNP, never taken from the IdP or the browser."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("idnp", "role", "agency_code", name="uq_role_assignment_grant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idnp: Mapped[str] = mapped_column(String(13), index=True)
    role: Mapped[str] = mapped_column(String(32))
    agency_code: Mapped[str | None] = mapped_column(String(32))
    granted_by: Mapped[str | None] = mapped_column(String(13))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A server-side login session, so logout (including IdP-initiated SLO) really ends it."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name_id: Mapped[str] = mapped_column(String(256))
    saml_session_index: Mapped[str | None] = mapped_column(String(256), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="joined")
