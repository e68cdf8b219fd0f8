"""Read-only queries of the applications domain. Views read through these, never through the ORM directly."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications.models import Application, Claim, Document


def applications_of(session: Session, account: Account) -> list[Application]:
    return list(session.scalars(
        select(Application)
        .where(Application.applicant_id == account.id)
        .options(selectinload(Application.claims))
        .order_by(Application.created_at.desc())
    ))


def application_for_citizen(session: Session, ref: str, account: Account) -> Application:
    """The application ``ref`` if ``account`` may open it now; 404 otherwise (no hint it exists).

    Its applicant may, and whoever acts for the applicant right now (a parent, a guardian, a representative
    under a mandate in force, a CUPS specialist during the visit): :func:`portal.representation.context.may_open`.
    """
    from portal.representation.context import may_open

    application = session.scalar(select(Application).where(Application.ref == ref))
    if application is None or not may_open(account, application):
        abort(404)
    return application


def version_of(session: Session, application_id: int) -> int | None:
    return session.scalar(select(Application.version).where(Application.id == application_id))


def agency_queue(session: Session, agencies: set[str], *, include_waiting: bool = True) -> list[Claim]:
    statuses = set(st.OPEN_FOR_AGENCY) | ({st.INFO_REQUESTED} if include_waiting else set())
    if not agencies:
        return []
    return list(session.scalars(
        select(Claim)
        .join(Claim.application)
        .where(Claim.agency_code.in_(agencies), Claim.status.in_(statuses))
        .options(selectinload(Claim.application).selectinload(Application.applicant))
        .order_by(Claim.risk_level.desc(), Application.submitted_at.asc(), Claim.id.asc())  # riskiest first
    ))


def decided_recently(session: Session, agencies: set[str], limit: int = 20) -> list[Claim]:
    if not agencies:
        return []
    return list(session.scalars(
        select(Claim).where(Claim.agency_code.in_(agencies), Claim.status.in_(st.FINAL))
        .order_by(Claim.decided_at.desc()).limit(limit)
    ))


def claim_for_staff(session: Session, ref: str, agencies: set[str]) -> Claim:
    """The claim ``ref`` if one of ``agencies`` handles it; 404 otherwise, even if it exists elsewhere."""
    claim = session.scalar(select(Claim).where(Claim.ref == ref))
    if claim is None or claim.agency_code not in agencies:
        abort(404)
    return claim


def document_of(application: Application, ref: str) -> Document:
    document = next((d for d in application.documents if d.ref == ref), None)
    if document is None:
        abort(404)
    return document
