"""Read-only queries of the back office. A worker reaches only their own agencies' cases."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications.models import Application, Claim
from portal.backoffice.cases import priority
from portal.backoffice.models import CLOSED, OPEN, WAITING, AgencyCase
from portal.decisions.models import Appeal, Decision


def _load():
    return (selectinload(AgencyCase.application).selectinload(Application.applicant),
            selectinload(AgencyCase.claims), selectinload(AgencyCase.assigned_to))


def queue(session: Session, agencies: set[str]) -> list[AgencyCase]:
    """Open and waiting cases of ``agencies``, most urgent first."""
    if not agencies:
        return []
    return list(session.scalars(
        select(AgencyCase).where(AgencyCase.agency_code.in_(agencies), AgencyCase.status.in_((OPEN, WAITING)))
        .options(*_load()).order_by(*priority())))


def closed_recently(session: Session, agencies: set[str], limit: int = 20) -> list[AgencyCase]:
    if not agencies:
        return []
    return list(session.scalars(
        select(AgencyCase).where(AgencyCase.agency_code.in_(agencies), AgencyCase.status == CLOSED)
        .options(*_load()).order_by(AgencyCase.closed_at.desc().nulls_last()).limit(limit)))


@dataclass
class Found:
    case: AgencyCase
    claim: Claim | None  # the benefit named by the address, when it names a claim


def case_for_staff(session: Session, ref: str, agencies: set[str]) -> Found:
    """The case ``ref`` (or the case of claim ``ref``) if one of ``agencies`` handles it; 404 otherwise.

    A case of another agency answers exactly as a case that does not exist.
    """
    case = session.scalar(select(AgencyCase).where(AgencyCase.ref == ref))
    claim = None
    if case is None:
        claim = session.scalar(select(Claim).where(Claim.ref == ref))
        case = session.get(AgencyCase, claim.case_id) if claim is not None and claim.case_id else None
    if case is None or case.agency_code not in agencies:
        abort(404)
    return Found(case, claim)


def decisions_of_case(session: Session, case: AgencyCase) -> dict[int, list[Decision]]:
    ids = [c.id for c in case.claims]
    out: dict[int, list[Decision]] = {i: [] for i in ids}
    if ids:
        for d in session.scalars(select(Decision).where(Decision.claim_id.in_(ids)).order_by(Decision.id.desc())):
            out[d.claim_id].append(d)
    return out


def appeals_of_case(session: Session, case: AgencyCase) -> dict[int, Appeal]:
    ids = [c.id for c in case.claims]
    if not ids:
        return {}
    return {a.claim_id: a for a in session.scalars(select(Appeal).where(Appeal.claim_id.in_(ids),
                                                                        Appeal.status == "submitted"))}


def decision_of_case(session: Session, case: AgencyCase, ref: str) -> Decision:
    decision = session.scalar(select(Decision).where(Decision.ref == ref))
    if decision is None or decision.claim_id not in {c.id for c in case.claims}:
        abort(404)
    return decision


def account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


# --- figures (no person in them) --------------------------------------------------------------------------------

@dataclass
class AgencyFigures:
    agency: str
    open: int
    waiting: int
    overdue: int
    closed: int
    approved: int
    rejected: int
    appeals: int
    transfers_in: int
    median_days: float | None


def figures(session: Session, today: dt.date) -> list[AgencyFigures]:
    """Counts per agency for the ministry: no name, no IDNP, no case reference."""
    from portal.backoffice.models import CaseTransfer

    def count_by(query):
        return dict(session.execute(query).all())

    by_status = session.execute(select(AgencyCase.agency_code, AgencyCase.status, func.count())
                                .group_by(AgencyCase.agency_code, AgencyCase.status)).all()
    overdue = count_by(select(AgencyCase.agency_code, func.count()).where(AgencyCase.status == OPEN,
                                                                          AgencyCase.due_on < today)
                       .group_by(AgencyCase.agency_code))
    outcomes = session.execute(select(Claim.agency_code, Claim.status, func.count())
                               .where(Claim.status.in_(st.FINAL)).group_by(Claim.agency_code, Claim.status)).all()
    appeals = count_by(select(Decision.agency_code, func.count()).join(Appeal, Appeal.decision_id == Decision.id)
                       .group_by(Decision.agency_code))
    transfers = count_by(select(CaseTransfer.to_agency, func.count()).group_by(CaseTransfer.to_agency))
    durations: dict[str, list[float]] = {}
    for agency, submitted, decided in session.execute(
            select(Claim.agency_code, Application.submitted_at, Claim.decided_at).join(Claim.application)
            .where(Claim.decided_at.is_not(None))):
        if submitted and decided:
            durations.setdefault(agency, []).append((decided - submitted).total_seconds() / 86400)
    agencies = sorted({a for a, _, _ in by_status} | {a for a, _, _ in outcomes})
    out = []
    for a in agencies:
        statuses = {s: n for ag, s, n in by_status if ag == a}
        decided = {s: n for ag, s, n in outcomes if ag == a}
        days = sorted(durations.get(a, []))
        median = days[len(days) // 2] if days else None
        out.append(AgencyFigures(a, statuses.get(OPEN, 0), statuses.get(WAITING, 0), overdue.get(a, 0),
                                 statuses.get(CLOSED, 0), decided.get(st.APPROVED, 0), decided.get(st.REJECTED, 0),
                                 appeals.get(a, 0), transfers.get(a, 0),
                                 round(median, 1) if median is not None else None))
    return out
