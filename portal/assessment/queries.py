"""Read-only queries of eligibility: what was kept for a claim or an application."""
from __future__ import annotations

from flask import abort
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from portal.applications.models import Application, Claim
from portal.assessment.models import OPEN, ClaimAssessment, RiskFlag
from portal.eligibility.checks import RISK


def assessment_of(session: Session, claim: Claim) -> ClaimAssessment | None:
    return session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))


def assessments_of(session: Session, application: Application) -> dict[int, ClaimAssessment]:
    ids = [c.id for c in application.claims]
    if not ids:
        return {}
    return {a.claim_id: a for a in session.scalars(select(ClaimAssessment).where(ClaimAssessment.claim_id.in_(ids)))}


def flags_of(session: Session, claim: Claim) -> list[RiskFlag]:
    """Open flags first, worst first; then the cleared and resolved ones."""
    worst = case(*((RiskFlag.severity == s, n) for s, n in RISK.items() if s), else_=0)
    return list(session.scalars(
        select(RiskFlag).where(RiskFlag.claim_id == claim.id)
        .order_by((RiskFlag.status == OPEN).desc(), worst.desc(), RiskFlag.id.asc())))


def flag_for_claim(session: Session, claim: Claim, flag_id: int) -> RiskFlag:
    """The flag ``flag_id`` of ``claim``; 404 otherwise."""
    flag = session.get(RiskFlag, flag_id)
    if flag is None or flag.claim_id != claim.id:
        abort(404)
    return flag


def claim_of_application(application: Application, claim_ref: str) -> Claim:
    claim = next((c for c in application.claims if c.ref == claim_ref), None)
    if claim is None:
        abort(404)
    return claim
