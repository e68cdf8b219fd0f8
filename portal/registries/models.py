"""Tables of the registry layer: accountability, rectification, pending data, events, notices and offers."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import Base, UTCDateTime


def new_ref() -> str:
    return secrets.token_urlsafe(12)


class DataAccess(Base):
    """One access to a person's data: a registry query, or a reading of registry data by staff.

    Written for every query the gateway makes or answers from its cache (``kind="query"``)
    and for every opening of a case page showing a person's registry data
    (``kind="reading"``).  Never updated, never deleted by the application; the
    "Who used my data" page reads it by ``subject_idnp``.

    ``result``: ``ok``, ``cached`` (answered from the cache, same purpose), ``read`` (a
    reading), or what stopped the query: ``not_found``, ``unavailable``, ``circuit_open``,
    ``malformed``, ``rejected``, ``unsupported``, ``internal``.
    """

    __tablename__ = "data_access_log"
    __table_args__ = (Index("ix_data_access_log_subject_time", "subject_idnp", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # query | reading
    actor_idnp: Mapped[str] = mapped_column(String(13), index=True)
    actor_role: Mapped[str] = mapped_column(String(16))  # citizen | official | system
    on_behalf_of_idnp: Mapped[str | None] = mapped_column(String(13))
    institution: Mapped[str] = mapped_column(String(64))  # ESOCIAL, or the agency code of the official
    registry_code: Mapped[str | None] = mapped_column(String(32))
    service: Mapped[str | None] = mapped_column(String(32))
    items: Mapped[str | None] = mapped_column(String(255))  # data categories, comma-separated
    subject_idnp: Mapped[str] = mapped_column(String(13))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(500))
    application_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    correlation_id: Mapped[str | None] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    source_ip: Mapped[str | None] = mapped_column(String(45))


class ApplicationSubject(Base):
    """A person whose registry data an application holds (the applicant, household members, children).

    Lets a registry event about a person find the open applications it concerns without scanning
    every evidence payload.
    """

    __tablename__ = "application_subject"

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), primary_key=True)
    idnp: Mapped[str] = mapped_column(String(13), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(16))  # applicant | member | child


class PendingFetch(Base):
    """A data item a sent application still waits for, because its registry did not answer.

    ``waiting`` → (claimed by a sweep) ``fetching`` → ``done``, or back to ``waiting`` with a
    later ``next_attempt_at``, or ``failed`` when the registry answered something unusable.
    """

    __tablename__ = "pending_fetch"
    __table_args__ = (UniqueConstraint("application_id", "item", name="uq_pending_fetch_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    registry_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(
        backref=backref("pending_fetches", order_by="PendingFetch.id"))


class RegistryNotice(Base):
    """Something the case worker should know changed in an application's registry data.

    Kinds: ``data_received`` (pending data arrived), ``data_failed`` (the registry answered something
    unusable), ``registry_event`` (a registry reported a change), ``data_reported`` (the applicant
    reported data as wrong to its registry).  Rendered in the reader's language from ``params``.
    """

    __tablename__ = "registry_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    registry_code: Mapped[str | None] = mapped_column(String(32))
    item: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    application: Mapped[Application] = relationship(
        backref=backref("registry_notices", order_by="RegistryNotice.id"))


class RectificationRequest(Base):
    """A person reports that a registry holds wrong data about them: queued for the registry that owns it.

    eSocial never overrides registry data itself; the owner corrects it (or explains why not).
    ``status``: ``open`` → ``in_progress`` → ``corrected`` | ``rejected``.
    """

    __tablename__ = "rectification_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    subject_idnp: Mapped[str] = mapped_column(String(13), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    registry_code: Mapped[str] = mapped_column(String(32), index=True)
    item: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    shown: Mapped[dict | None] = mapped_column(JSON)  # what the registry answered when the person reported it
    shown_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    handled_by_idnp: Mapped[str | None] = mapped_column(String(13))
    answer: Mapped[str | None] = mapped_column(Text)

    account: Mapped[Account] = relationship()
    application: Mapped[Application | None] = relationship()


class ReceivedEvent(Base):
    """A registry event (CloudEvents v1) eSocial consumed: each (source, id) once."""

    __tablename__ = "registry_event"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_registry_event_source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(13), index=True)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(32))  # applied | no_application | rejected
    note: Mapped[str | None] = mapped_column(Text)


class EventCursor(Base):
    """The id of the last event taken from a feed, moved by compare-and-set."""

    __tablename__ = "registry_event_cursor"

    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[str] = mapped_column(String(64), default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class BenefitOffer(Base):
    """A benefit a person newly qualifies for, offered without them asking (e.g. after a registered birth).

    ``key`` makes the offer unique per reason (the child's IDNP for a birth): an event seen twice, or
    both parents' events, never make two offers of the same benefit for the same child to one person.
    ``status``: ``offered`` → ``accepted`` (an application was started from it) | ``dismissed``.
    """

    __tablename__ = "benefit_offer"
    __table_args__ = (UniqueConstraint("subject_idnp", "benefit_code", "key", name="uq_benefit_offer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    subject_idnp: Mapped[str] = mapped_column(String(13), index=True)
    benefit_code: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # birth | eligibility
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # prefilled answers for the application
    event_id: Mapped[int | None] = mapped_column(ForeignKey("registry_event.id"))
    status: Mapped[str] = mapped_column(String(16), default="offered", index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application | None] = relationship()
