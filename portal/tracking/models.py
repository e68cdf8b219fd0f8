from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Base, UTCDateTime


class TrackingCode(Base):
    """The short code printed on an application's receipt; with the number it opens the public status."""

    __tablename__ = "tracking_code"

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
