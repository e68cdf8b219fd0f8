"""Proactive offers: a benefit a person newly qualifies for, offered without them asking.

A registry event (a birth, a death, an address change, a disability decision, an unemployment
registration) makes the offer when the eligibility rules say the household now likely qualifies
(:func:`portal.registries.events.event_offers`); the person gets a notification with a link to the
offer, and one press starts an application already filled from the registries.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.applications.status import REJECTED
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError
from portal.registries.models import BenefitOffer

log = logging.getLogger("esocial.registries")

EVENTS = ("birth", "death", "address", "disability", "unemployment")


def claimed(claims: list[tuple[str, str, dict]], benefit: str, kind: str, key: str) -> bool:
    """Is ``benefit`` among ``claims`` (:func:`claims_of`)?  For a benefit paid per child (``kind`` ``child``)
    only a claim for that child ``key`` (or one that names no child) counts."""
    for code, applicant, answers in claims:
        if code != benefit:
            continue
        if kind == "child" and answers.get("child_idnp") not in (None, "", key):
            continue  # a claim for another child
        return True
    return False


def claims_of(session: Session, idnps: set[str]) -> list[tuple[str, str, dict]]:
    """(benefit, applicant IDNP, answers) of every application of the household's members not turned down."""
    rows = session.execute(select(Application, Account.idnp).join(Account, Application.applicant_id == Account.id)
                           .where(Account.idnp.in_(idnps))).all()
    out = []
    for application, idnp in rows:
        if application.status == REJECTED:
            continue
        for benefit in application.benefits or []:
            claim = next((c for c in application.claims if c.benefit_code == benefit), None)
            if claim is not None and claim.status == REJECTED:
                continue
            out.append((benefit, idnp, dict(application.answers or {})))
    return out


def make_offer(session: Session, *, subject_idnp: str, benefit: str, key: str, reason: str, params: dict,
               answers: dict, household: tuple[str, ...] | list[str] = (), event_id: int | None = None
               ) -> BenefitOffer | None:
    """Record the offer (once per person, benefit and key) and notify the person if they have an account.

    ``reason`` is the kind of event (:data:`EVENTS`); nothing is offered that someone of ``household`` (the
    person included) already claimed."""
    from portal.notifications.services import notify

    exists = session.scalar(select(BenefitOffer).where(
        BenefitOffer.subject_idnp == subject_idnp, BenefitOffer.benefit_code == benefit, BenefitOffer.key == key))
    if exists is not None:
        return None
    if reason not in EVENTS:
        raise ValueError(f"unknown reason for an offer: {reason!r}")
    account = session.scalar(select(Account).where(Account.idnp == subject_idnp))
    kind = "child" if answers.get("child_idnp") == key else "person"
    if claimed(claims_of(session, set(household) | {subject_idnp}), benefit, kind, key):
        return None
    offer = BenefitOffer(subject_idnp=subject_idnp, benefit_code=benefit, key=key, reason=reason, params=params,
                         answers=answers, event_id=event_id)
    try:
        with session.begin_nested():
            session.add(offer)
            session.flush()
    except IntegrityError:  # the same offer made by another process at the same moment
        return None
    audit.record(session, "benefit_offered", actor_idnp=None, subject_idnp=subject_idnp, object_type="offer",
                 object_id=offer.ref, benefit=benefit, reason=reason)
    if account is not None:
        notify(session, account, "benefit_offer", {"benefit": benefit, "offer_ref": offer.ref, "event": reason,
                                                   "child_name": params.get("child_name", ""),
                                                   "person_name": params.get("person_name", "")})
    return offer


def accept(session: Session, offer: BenefitOffer, *, actor: Account, language: str) -> Application:
    """Start the offered application for the person, filled from the registries; idempotent."""
    from portal.applications import prefill, services

    if offer.subject_idnp != actor.idnp:
        raise DomainError("not your offer")
    if offer.status == "accepted" and offer.application is not None:
        return offer.application
    if offer.status != "offered":
        raise DomainError(_dismissed_message())
    application = services.start(session, actor=actor, applicant=actor, benefits=[offer.benefit_code],
                                 language=language, channel="online")
    if offer.answers:
        services.save_answers(session, application, dict(offer.answers))
    prefill.refresh(session, application, actor=actor)
    offer.status = "accepted"
    offer.application = application
    offer.answered_at = clock.now()
    audit.record(session, "benefit_offer_accepted", actor_idnp=actor.idnp, subject_idnp=actor.idnp,
                 object_type="offer", object_id=offer.ref, application=application.ref)
    session.flush()
    return application


def dismiss(session: Session, offer: BenefitOffer, *, actor: Account) -> None:
    if offer.subject_idnp != actor.idnp:
        raise DomainError("not your offer")
    if offer.status == "offered":
        offer.status = "dismissed"
        offer.answered_at = clock.now()


def _dismissed_message():
    from flask_babel import lazy_gettext as _l

    return _l("You turned this offer down. You can still apply from the list of benefits.")
