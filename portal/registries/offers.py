"""Proactive offers: a benefit a person newly qualifies for, offered without them asking.

A registry event (a registered birth) makes the offer; the person gets a notification with a link to
the offer, and one press starts an application already filled from the registries.

Which benefits to offer comes from :mod:`portal.eligibility` when it provides ``offers`` (the rules
as code); until then, and for events it does not cover, :func:`plain_offers_for_birth` is the rule:
a birth registered in Moldova within the allowance's window makes each parent an offer of the one-off
birth allowance for that child, unless they already asked for it for that child.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import steps as steps_mod
from portal.applications.models import Application
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError
from portal.registries.models import BenefitOffer

log = logging.getLogger("esocial.registries")

BIRTH_ALLOWANCE = "birth_allowance"


def already_claimed(session: Session, account: Account | None, benefit: str, child_idnp: str) -> bool:
    """Has ``account`` already an application for ``benefit`` about this child (any status but a stale draft)?"""
    if account is None:
        return False
    for application in session.scalars(select(Application).where(Application.applicant_id == account.id)):
        if benefit in (application.benefits or []) and (application.answers or {}).get("child_idnp") == child_idnp:
            return True
    return False


def plain_offers_for_birth(child: dict, parents: list[str], today: dt.date) -> list[tuple[str, str, dict, dict]]:
    """(parent IDNP, benefit, params, answers) for a registered birth: the birth allowance rule."""
    born = dt.date.fromisoformat(child["birth_date"])
    if not dt.timedelta(0) <= today - born <= steps_mod.BIRTH_WINDOW:
        return []
    params = {"child_idnp": child["idnp"], "child_name": f"{child.get('first_name', '')} {child.get('last_name', '')}".strip(),
              "birth_date": child["birth_date"]}
    return [(parent, BIRTH_ALLOWANCE, params, {"child_idnp": child["idnp"]}) for parent in parents if parent]


def make_offer(session: Session, *, subject_idnp: str, benefit: str, key: str, reason: str, params: dict,
               answers: dict, event_id: int | None = None) -> BenefitOffer | None:
    """Record the offer (once per person, benefit and key) and notify the person if they have an account."""
    from portal.notifications.services import notify

    exists = session.scalar(select(BenefitOffer).where(
        BenefitOffer.subject_idnp == subject_idnp, BenefitOffer.benefit_code == benefit, BenefitOffer.key == key))
    if exists is not None:
        return None
    account = session.scalar(select(Account).where(Account.idnp == subject_idnp))
    if reason == "birth" and already_claimed(session, account, benefit, params.get("child_idnp", "")):
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
        notify(session, account, "benefit_offer", {"benefit": benefit, "offer_ref": offer.ref,
                                                   "child_name": params.get("child_name", "")})
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
