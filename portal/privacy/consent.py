"""Consent records for assisted sessions, mandates and optional processing: give, revoke, look up.

For the CUPS assisted session and for mandates (issue 6) call these instead of building
:class:`~portal.privacy.models.Consent` rows by hand: each call also writes the audit event.

    consent = give(session, subject_idnp=visitor.idnp, kind=ASSISTED_SESSION, purpose="assisted_application",
                   recorded_by=specialist, granted_to_idnp=specialist.idnp, granted_to_org="CUPS-LOZOVA",
                   text_version="cups-consent-2026-01", language="ro", method="signed_form",
                   evidence="identity card A1234567, signed form", scope={"visit": visit.ref})
    active(session, subject_idnp=visitor.idnp, kind=ASSISTED_SESSION, granted_to_idnp=specialist.idnp)
    revoke(session, consent, actor=visitor)
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.idnp import is_person_idnp
from portal.privacy.models import Consent

ASSISTED_SESSION = "assisted_session"
MANDATE = "mandate"
OPTIONAL_CONTACT = "optional_contact"
PROACTIVE_OFFERS = "proactive_offers"
KINDS = (ASSISTED_SESSION, MANDATE, OPTIONAL_CONTACT, PROACTIVE_OFFERS)
METHODS = ("signed_form", "mpass", "online")


def give(session: Session, *, subject_idnp: str, kind: str, purpose: str, recorded_by, text_version: str,
         method: str, language: str = "ro", granted_to_idnp: str | None = None, granted_to_org: str | None = None,
         scope: dict | None = None, evidence: str | None = None, expires_at: dt.datetime | None = None) -> Consent:
    """Record a consent given now. ``recorded_by``: the account that recorded it (the person, or a specialist)."""
    if kind not in KINDS:
        raise ValueError(f"unknown consent kind {kind!r}")
    if method not in METHODS:
        raise ValueError(f"unknown consent method {method!r}")
    if not is_person_idnp(subject_idnp or ""):
        raise DomainError(_l("A consent is given by a person, identified by their IDNP."))
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise DomainError(_l("The consent would end before it starts."))
    consent = Consent(subject_idnp=subject_idnp, kind=kind, purpose=purpose, granted_to_idnp=granted_to_idnp,
                      granted_to_org=granted_to_org, scope=dict(scope or {}), text_version=text_version,
                      language=language, method=method, evidence=evidence,
                      recorded_by_idnp=getattr(recorded_by, "idnp", None), given_at=now, expires_at=expires_at)
    session.add(consent)
    session.flush()
    audit.record(session, "consent_given", actor_idnp=consent.recorded_by_idnp, subject_idnp=subject_idnp,
                 object_type="consent", object_id=consent.ref, kind=kind, purpose=purpose,
                 granted_to=granted_to_idnp, org=granted_to_org, text_version=text_version, method=method)
    return consent


def revoke(session: Session, consent: Consent, *, actor) -> Consent:
    """The person (or whoever recorded it, ending the session) withdraws the consent from now on."""
    if consent.revoked_at is None:
        consent.revoked_at = clock.now()
        consent.revoked_by_idnp = getattr(actor, "idnp", None)
        audit.record(session, "consent_revoked", actor_idnp=consent.revoked_by_idnp,
                     subject_idnp=consent.subject_idnp, object_type="consent", object_id=consent.ref,
                     kind=consent.kind)
    return consent


def active(session: Session, *, subject_idnp: str, kind: str, granted_to_idnp: str | None = None,
           at: dt.datetime | None = None) -> Consent | None:
    """The newest consent of ``kind`` in force at ``at`` (default now), or None."""
    at = at or clock.now()
    query = (select(Consent).where(Consent.subject_idnp == subject_idnp, Consent.kind == kind,
                                   Consent.given_at <= at, Consent.revoked_at.is_(None),
                                   or_(Consent.expires_at.is_(None), Consent.expires_at > at))
             .order_by(Consent.given_at.desc(), Consent.id.desc()))
    if granted_to_idnp is not None:
        query = query.where(Consent.granted_to_idnp == granted_to_idnp)
    return session.scalars(query).first()


def of_person(session: Session, idnp: str) -> list[Consent]:
    """Every consent the person gave or was given, newest first (their privacy page)."""
    return list(session.scalars(select(Consent).where(or_(Consent.subject_idnp == idnp,
                                                          Consent.granted_to_idnp == idnp))
                                .order_by(Consent.given_at.desc())))
