"""Read-only queries of the back office. A worker reaches only their own agencies' cases."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, func, or_, select, union_all
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


PAGE_SIZE = 50
STATUSES = (OPEN, WAITING)  # the queue: cases the agency has to work on, or waits on the citizen for


@dataclass(frozen=True)
class Cursor:
    """A case's place in the queue's order (see :func:`portal.backoffice.cases.priority`)."""

    risk: int
    due: dt.date | None
    created: dt.datetime
    id: int

    @classmethod
    def of(cls, case: AgencyCase) -> "Cursor":
        return cls(case.risk_level or 0, case.due_on, case.created_at, case.id)

    def token(self) -> str:
        return "_".join((str(self.risk), self.due.isoformat() if self.due else "-",
                         self.created.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%f"), str(self.id)))

    @classmethod
    def parse(cls, token: str | None) -> "Cursor | None":
        """The cursor of a ``token``; ``None`` for anything else (the queue then starts from the top)."""
        try:
            risk, due, created, ident = (token or "").split("_")
            return cls(int(risk), None if due == "-" else dt.date.fromisoformat(due),
                       dt.datetime.strptime(created, "%Y%m%dT%H%M%S.%f").replace(tzinfo=dt.timezone.utc), int(ident))
        except (ValueError, TypeError):
            return None


def _after(c: Cursor):
    """Cases after ``c`` in the queue's order. ``risk_level <= c.risk`` bounds the index scan."""
    tail = or_(AgencyCase.created_at > c.created, and_(AgencyCase.created_at == c.created, AgencyCase.id > c.id))
    if c.due is None:
        same_risk = and_(AgencyCase.due_on.is_(None), tail)
    else:
        same_risk = or_(AgencyCase.due_on.is_(None), AgencyCase.due_on > c.due,
                        and_(AgencyCase.due_on == c.due, tail))
    return and_(AgencyCase.risk_level <= c.risk,
                or_(AgencyCase.risk_level < c.risk, and_(AgencyCase.risk_level == c.risk, same_risk)))


def _before(c: Cursor):
    """Cases before ``c`` in the queue's order."""
    tail = or_(AgencyCase.created_at < c.created, and_(AgencyCase.created_at == c.created, AgencyCase.id < c.id))
    if c.due is None:
        same_risk = or_(AgencyCase.due_on.is_not(None), tail)
    else:
        same_risk = or_(AgencyCase.due_on < c.due, and_(AgencyCase.due_on == c.due, tail))
    return and_(AgencyCase.risk_level >= c.risk,
                or_(AgencyCase.risk_level > c.risk, and_(AgencyCase.risk_level == c.risk, same_risk)))


def _order(risk, due, created, ident, *, backwards: bool = False) -> list:
    """The queue's order on these columns (:func:`portal.backoffice.cases.priority`), or its reverse."""
    if backwards:
        return [risk.asc(), due.desc().nulls_first(), created.desc(), ident.desc()]
    return [risk.desc(), due.asc().nulls_last(), created.asc(), ident.asc()]


def _ids_in_order(session: Session, agencies, statuses, where, limit: int, *, backwards: bool = False) -> list[int]:
    """Ids of the first ``limit`` cases in the queue's order: one index range per agency and status, merged.

    Each (agency, status) pair is one range of ``ix_agency_case_risk_queue`` already in the queue's
    order, so each part reads at most ``limit`` entries and only the merged few are sorted.
    """
    columns = (AgencyCase.risk_level, AgencyCase.due_on, AgencyCase.created_at, AgencyCase.id)
    parts = []
    for agency in sorted(agencies):
        for status in statuses:
            inner = (select(*columns).where(AgencyCase.agency_code == agency, AgencyCase.status == status, *where)
                     .order_by(*_order(*columns, backwards=backwards)).limit(limit).subquery())
            parts.append(select(*inner.c))
    merged = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    m = merged.c
    return list(session.scalars(select(m.id).order_by(*_order(m.risk_level, m.due_on, m.created_at, m.id,
                                                               backwards=backwards)).limit(limit)))


def _load_in_order(session: Session, ids: list[int]) -> list[AgencyCase]:
    if not ids:
        return []
    found = {c.id: c for c in session.scalars(select(AgencyCase).where(AgencyCase.id.in_(ids)).options(*_load()))}
    return [found[i] for i in ids if i in found]


@dataclass
class QueuePage:
    """One page of an agency's queue: at most ``PAGE_SIZE`` cases in the queue's order."""

    cases: list[AgencyCase]
    total: int  # open and waiting cases of the agencies, on every page
    next: str | None  # token of the page after this one
    previous: str | None  # token of the page before; ``None`` on the first page
    first: bool


def queue(session: Session, agencies: set[str], *, after: str | None = None, before: str | None = None,
          exclude_assigned_to: int | None = None, size: int = PAGE_SIZE) -> QueuePage:
    """A page of the open and waiting cases of ``agencies``, most urgent first (keyset paging).

    ``after``/``before`` are tokens of the pages around (``QueuePage.next``/``previous``); an unreadable
    token gives the first page.  ``exclude_assigned_to`` leaves out one worker's own cases (listed apart).
    """
    if not agencies:
        return QueuePage([], 0, None, None, True)
    in_queue = (AgencyCase.agency_code.in_(agencies), AgencyCase.status.in_(STATUSES))
    where = []
    total = session.scalar(select(func.count()).select_from(AgencyCase).where(*in_queue)) or 0  # index only
    if exclude_assigned_to is not None:
        where.append(or_(AgencyCase.assigned_to_id.is_(None), AgencyCase.assigned_to_id != exclude_assigned_to))
        total -= session.scalar(select(func.count()).select_from(AgencyCase).where(
            *in_queue, AgencyCase.assigned_to_id == exclude_assigned_to)) or 0
    back = Cursor.parse(before)
    if back is not None:
        ids = _ids_in_order(session, agencies, STATUSES, [*where, _before(back)], size + 1, backwards=True)
        if len(ids) > size:  # more before these: a page in the middle
            cases = _load_in_order(session, list(reversed(ids[:size])))
            return QueuePage(cases, total, Cursor.of(cases[-1]).token() if cases else None,
                             Cursor.of(cases[0]).token(), False)
        after = None  # back at the top: the first page, full
    start = Cursor.parse(after)
    ids = _ids_in_order(session, agencies, STATUSES, [*where, _after(start)] if start else where, size + 1)
    cases = _load_in_order(session, ids[:size])
    return QueuePage(cases, total,
                     Cursor.of(cases[-1]).token() if len(ids) > size and cases else None,
                     Cursor.of(cases[0]).token() if start is not None and cases else None,
                     start is None)


def assigned_to(session: Session, agencies: set[str], account_id: int, limit: int = PAGE_SIZE) -> list[AgencyCase]:
    """A worker's own open and waiting cases, most urgent first."""
    if not agencies:
        return []
    return list(session.scalars(
        select(AgencyCase).where(AgencyCase.assigned_to_id == account_id, AgencyCase.agency_code.in_(agencies),
                                 AgencyCase.status.in_(STATUSES))
        .options(*_load()).order_by(*priority()).limit(limit)))


def overdue_count(session: Session, agencies: set[str], today: dt.date) -> int:
    """Open cases of ``agencies`` past their deadline (the waiting ones are paused)."""
    if not agencies:
        return 0
    return session.scalar(select(func.count()).select_from(AgencyCase).where(
        AgencyCase.agency_code.in_(agencies), AgencyCase.status == OPEN, AgencyCase.due_on < today)) or 0


def closed_recently(session: Session, agencies: set[str], limit: int = 20) -> list[AgencyCase]:
    """The newest closed cases of ``agencies`` (each agency read backwards through ``ix_agency_case_closed``)."""
    if not agencies:
        return []
    parts = []
    for agency in sorted(agencies):
        inner = (select(AgencyCase.id, AgencyCase.closed_at)
                 .where(AgencyCase.agency_code == agency, AgencyCase.status == CLOSED,
                        AgencyCase.closed_at.is_not(None))
                 .order_by(AgencyCase.closed_at.desc()).limit(limit).subquery())
        parts.append(select(inner.c.id, inner.c.closed_at))
    merged = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    ids = list(session.scalars(select(merged.c.id).order_by(merged.c.closed_at.desc(), merged.c.id.desc())
                               .limit(limit)))
    return _load_in_order(session, ids)


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
