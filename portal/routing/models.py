"""Routing rules as versioned data: every change is a new version with who, when and why."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Base, UTCDateTime


class RoutingRuleVersion(Base):
    """One whole rule set. The highest ``version`` is in force; older ones are the history."""

    __tablename__ = "routing_rule_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    rules: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_idnp: Mapped[str | None] = mapped_column(String(13))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
