from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Base, UTCDateTime


class SamlRequest(Base):
    """An AuthnRequest or LogoutRequest this portal sent and has not yet seen answered.

    Kept server-side (not in a cookie): the IdP's POST back to the ACS is a
    cross-site request and the browser may withhold our cookies there.
    """

    __tablename__ = "saml_request"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="authn")
    return_to: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SeenAssertion(Base):
    """Response and assertion ids already accepted: a replay is refused in every process."""

    __tablename__ = "saml_seen_assertion"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
