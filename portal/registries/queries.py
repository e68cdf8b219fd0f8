"""Read-only queries of the registry layer. Every query about a person takes that person as an argument:
nobody reads another person's log through these."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.registries.models import BenefitOffer, DataAccess, RectificationRequest

# Results that mean the person's data was obtained or read (the others are attempts that got nothing).
USED = ("ok", "cached", "read")


def accesses_to(session: Session, idnp: str, *, limit: int = 500, before_id: int | None = None) -> list[DataAccess]:
    """Accesses to ``idnp``'s data that obtained or read it, newest first."""
    q = select(DataAccess).where(DataAccess.subject_idnp == idnp, DataAccess.result.in_(USED))
    if before_id is not None:
        q = q.where(DataAccess.id < before_id)
    return list(session.scalars(q.order_by(DataAccess.occurred_at.desc(), DataAccess.id.desc()).limit(limit)))


def accounts_by_idnp(session: Session, idnps: set[str]) -> dict[str, Account]:
    if not idnps:
        return {}
    return {a.idnp: a for a in session.scalars(select(Account).where(Account.idnp.in_(idnps)))}


def applications_by_ref(session: Session, refs: set[str]) -> dict[str, Application]:
    if not refs:
        return {}
    return {a.ref: a for a in session.scalars(select(Application).where(Application.ref.in_(refs)))}


def rectifications_of(session: Session, idnp: str) -> list[RectificationRequest]:
    return list(session.scalars(select(RectificationRequest).where(RectificationRequest.subject_idnp == idnp)
                                .order_by(RectificationRequest.created_at.desc(), RectificationRequest.id.desc())))


def rectification_queue(session: Session, registries: set[str], *, include_closed: bool = False
                        ) -> list[RectificationRequest]:
    if not registries:
        return []
    q = select(RectificationRequest).where(RectificationRequest.registry_code.in_(registries))
    if not include_closed:
        q = q.where(RectificationRequest.status.in_(("open", "in_progress")))
    return list(session.scalars(q.order_by(RectificationRequest.created_at.asc(), RectificationRequest.id.asc())))


def rectification_for_staff(session: Session, ref: str, registries: set[str]) -> RectificationRequest:
    request = session.scalar(select(RectificationRequest).where(RectificationRequest.ref == ref))
    if request is None or request.registry_code not in registries:
        abort(404)
    return request


def application_for_agencies(session: Session, ref: str, agencies: set[str]) -> Application:
    """The application ``ref`` if one of ``agencies`` handles one of its claims; 404 otherwise."""
    application = session.scalar(select(Application).where(Application.ref == ref))
    if application is None or not any(c.agency_code in agencies for c in application.claims):
        abort(404)
    return application


def offers_for(session: Session, idnp: str, *, only_open: bool = True) -> list[BenefitOffer]:
    q = select(BenefitOffer).where(BenefitOffer.subject_idnp == idnp)
    if only_open:
        q = q.where(BenefitOffer.status == "offered")
    return list(session.scalars(q.order_by(BenefitOffer.created_at.desc(), BenefitOffer.id.desc())))


def offer_for(session: Session, ref: str, account: Account) -> BenefitOffer:
    """The offer ``ref`` if it was made to ``account``; 404 otherwise (no hint that it exists)."""
    offer = session.scalar(select(BenefitOffer).where(BenefitOffer.ref == ref))
    if offer is None or offer.subject_idnp != account.idnp:
        abort(404)
    return offer
