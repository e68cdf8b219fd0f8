"""Agency cases: grouping claims per agency, taking, assigning, transferring, pausing and escalating.

Every function takes the session and, where a person acts, the acting
account; they flush and write history, audit and notifications with the
change, and never commit.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Account, RoleAssignment
from portal.applications import status as st
from portal.applications.models import Application, Claim, StatusEvent
from portal.audit import services as audit
from portal.backoffice import calendar
from portal.backoffice.models import CLOSED, OPEN, WAITING, AgencyCase, CaseTransfer
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.notifications.services import notify

CASE_ROLES = ("case_worker", "supervisor")
TRANSFERRED = "transferred"
# Claims the agency still has to decide.
UNDECIDED = frozenset({st.SUBMITTED, st.IN_REVIEW, st.INFO_REQUESTED, st.INFO_PROVIDED, "appealed"})


def _catalogue():
    from portal.applications.services import catalogue

    return catalogue()


# --- deadlines ------------------------------------------------------------------------------------------------

def start_date(application: Application) -> dt.date:
    return (application.submitted_at or application.created_at or clock.now()).date()


def claim_due(claim: Claim, case: AgencyCase) -> dt.date:
    """The legal deadline of one claim: its benefit's working days after submission, plus the time paused."""
    if claim.status == "appealed" and case.due_on is not None:
        return case.due_on
    days = _catalogue().get(claim.benefit_code).processing_days
    return calendar.deadline(start_date(case.application), days, case.paused_days or 0)


def refresh_due(case: AgencyCase) -> None:
    """The case's deadline is the earliest of its undecided claims'; none once all are decided."""
    open_claims = [c for c in case.claims if c.status in UNDECIDED and c.status != "appealed"]
    if open_claims:
        case.due_on = min(claim_due(c, case) for c in open_claims)
    elif not any(c.status == "appealed" for c in case.claims):
        case.due_on = None


def priority():
    """ORDER BY of a queue: highest risk first (the worst of the case's claims), then the nearest deadline, then age.

    ``ix_agency_case_risk_queue (agency_code, status, risk_level DESC, due_on, created_at, id)`` returns one
    agency's cases of one status in exactly this order.
    """
    return [AgencyCase.risk_level.desc(), AgencyCase.due_on.asc().nulls_last(), AgencyCase.created_at.asc(),
            AgencyCase.id.asc()]


# --- opening cases when an application is sent ----------------------------------------------------------------

def open_cases(session: Session, application: Application) -> list[AgencyCase]:
    """One case per responsible agency; claims that go to the same agency share it.

    Idempotent: only claims with an agency and no case yet are placed, in the agency's open case
    of this application if there is one.  Claims still waiting for the data that routes them
    (no agency yet) are placed when they get one (see :func:`attach_unplaced`).
    """
    session.flush()
    touched: dict[int, AgencyCase] = {}
    for claim in application.claims:
        if claim.case_id is not None or not claim.agency_code or claim.status not in UNDECIDED:
            continue
        case = session.scalar(select(AgencyCase).where(AgencyCase.application_id == application.id,
                                                       AgencyCase.agency_code == claim.agency_code,
                                                       AgencyCase.status != CLOSED))
        if case is None:
            case = AgencyCase(application=application, agency_code=claim.agency_code, status=OPEN)
            session.add(case)
            session.flush()
        claim.case_id = case.id
        session.flush()
        touched[case.id] = case
    for case in touched.values():
        session.refresh(case, ["claims"])
        refresh_due(case)
    return list(touched.values())


def attach_unplaced(session: Session, limit: int = 200) -> int:
    """Give a case to claims that were routed after submission (their address came later)."""
    ids = session.scalars(select(Claim.application_id).where(Claim.case_id.is_(None), Claim.agency_code != "",
                                                             Claim.status.in_(UNDECIDED)).distinct().limit(limit)).all()
    placed = 0
    for application_id in ids:
        placed += len(open_cases(session, session.get(Application, application_id)))
    return placed


def case_of(session: Session, claim: Claim) -> AgencyCase | None:
    return session.get(AgencyCase, claim.case_id) if claim.case_id else None


# --- the status of the claims moves the case ------------------------------------------------------------------

def on_info_requested(session: Session, claim: Claim) -> None:
    """Waiting for the citizen pauses the deadline."""
    case = case_of(session, claim)
    if case is not None and case.paused_at is None:
        case.paused_at = clock.now()
        case.status = WAITING


def on_info_provided(session: Session, claim: Claim) -> None:
    """The citizen answered: the deadline moves by the working days spent waiting, and the case is back."""
    case = case_of(session, claim)
    if case is None:
        return
    if case.paused_at is not None:
        waited = calendar.rules().calendar.working_days_between(case.paused_at.date(), clock.today())
        case.paused_days = (case.paused_days or 0) + waited
        case.paused_at = None
    if not any(c.status == st.INFO_REQUESTED for c in case.claims):
        case.status = OPEN
    session.refresh(case, ["claims"])
    refresh_due(case)


def on_decided(session: Session, claim: Claim) -> None:
    case = case_of(session, claim)
    if case is None:
        return
    session.refresh(case, ["claims"])
    if all(c.status in st.FINAL for c in case.claims):
        case.status = CLOSED
        case.closed_at = clock.now()
        case.excluded_worker_id = None
    refresh_due(case)


# --- who works on a case ---------------------------------------------------------------------------------------

def staff_of(session: Session, agency: str, roles=CASE_ROLES) -> list[Account]:
    """Accounts holding one of ``roles`` in ``agency`` (people who have logged in at least once)."""
    return list(session.scalars(
        select(Account).join(RoleAssignment, RoleAssignment.idnp == Account.idnp)
        .where(RoleAssignment.agency_code == agency, RoleAssignment.role.in_(roles),
               RoleAssignment.revoked_at.is_(None))
        .distinct().order_by(Account.last_name, Account.first_name)))


def _require_case_role(case: AgencyCase, actor: Account) -> None:
    if case.agency_code not in actor.agencies_for(*CASE_ROLES):
        raise NotAllowed(_l("This application is handled by another agency."))


def _require_supervisor(case: AgencyCase, actor: Account) -> None:
    if not actor.has_role("supervisor", case.agency_code):
        raise NotAllowed(_l("Only a supervisor of the agency can do this."))


def start_review(session: Session, case: AgencyCase, actor: Account) -> None:
    """The claims waiting for the agency go under review."""
    from portal.applications import services

    for claim in case.claims:
        if claim.status in (st.SUBMITTED, st.INFO_PROVIDED):
            claim.assigned_to_id = case.assigned_to_id or actor.id
            services.open_case(session, claim, actor=actor)


def take(session: Session, case: AgencyCase, *, actor: Account) -> bool:
    """Take one given case if nobody has it (compare-and-set). Returns whether this worker got it."""
    _require_case_role(case, actor)
    if case.excluded_worker_id == actor.id:
        raise NotAllowed(_l("You made the decision under appeal: another worker reviews it."))
    result = session.execute(
        update(AgencyCase).where(AgencyCase.id == case.id, AgencyCase.assigned_to_id.is_(None),
                                 AgencyCase.status != CLOSED)
        .values(assigned_to_id=actor.id, assigned_at=clock.now()).execution_options(synchronize_session=False))
    session.refresh(case)
    if result.rowcount != 1:
        return case.assigned_to_id == actor.id
    audit.record(session, "case_taken", actor_idnp=actor.idnp, subject_idnp=case.application.applicant.idnp,
                 object_type="case", object_id=case.ref, agency=case.agency_code)
    start_review(session, case, actor)
    return True


def take_next(session: Session, *, actor: Account, agencies: set[str] | None = None) -> AgencyCase | None:
    """Assign the most urgent unassigned case of the actor's agencies to the actor; ``None`` if there is none.

    On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``,
    so workers pressing at once each get a different case without waiting on
    each other; on every engine the assignment is a compare-and-set, so a case
    can never go to two workers.
    """
    agencies = set(agencies or actor.agencies_for(*CASE_ROLES)) & actor.agencies_for(*CASE_ROLES)
    if not agencies:
        return None
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(10):
        query = (select(AgencyCase.id)
                 .where(AgencyCase.agency_code.in_(agencies), AgencyCase.status == OPEN,
                        AgencyCase.assigned_to_id.is_(None),
                        or_(AgencyCase.excluded_worker_id.is_(None), AgencyCase.excluded_worker_id != actor.id))
                 .order_by(*priority()).limit(1))
        if postgres:
            query = query.with_for_update(skip_locked=True, of=AgencyCase)
        case_id = session.scalar(query)
        if case_id is None:
            return None
        result = session.execute(
            update(AgencyCase).where(AgencyCase.id == case_id, AgencyCase.assigned_to_id.is_(None))
            .values(assigned_to_id=actor.id, assigned_at=clock.now()).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            case = session.get(AgencyCase, case_id)
            session.refresh(case)
            audit.record(session, "case_taken", actor_idnp=actor.idnp, subject_idnp=case.application.applicant.idnp,
                         object_type="case", object_id=case.ref, agency=case.agency_code, next=True)
            start_review(session, case, actor)
            return case
    return None


def assign(session: Session, case: AgencyCase, worker: Account | None, *, actor: Account) -> None:
    """A supervisor gives the case to ``worker`` of the same agency (or back to the queue with ``None``)."""
    _require_supervisor(case, actor)
    if worker is not None:
        if case.agency_code not in worker.agencies_for(*CASE_ROLES):
            raise DomainError(_l("This person does not work on this agency's cases."))
        if worker.id == case.excluded_worker_id:
            raise DomainError(_l("This person made the decision under appeal: choose someone else."))
    previous = case.assigned_to_id
    case.assigned_to_id = worker.id if worker else None
    case.assigned_at = clock.now() if worker else None
    for claim in case.claims:
        if claim.status not in st.FINAL:
            claim.assigned_to_id = case.assigned_to_id
    audit.record(session, "case_assigned", actor_idnp=actor.idnp, subject_idnp=case.application.applicant.idnp,
                 object_type="case", object_id=case.ref, agency=case.agency_code,
                 previous=previous, assigned_to=worker.idnp if worker else None)
    session.flush()


def transfer(session: Session, case: AgencyCase, to_agency: str, *, actor: Account, reason: str) -> AgencyCase:
    """Send the case to another agency, with the reason; the citizen is told who handles it now.

    If the other agency already has a case on the same application, the claims join it.
    """
    from portal.routing.reference import territory

    _require_case_role(case, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why the case goes to another agency."))
    terr = territory()
    if to_agency not in terr.agencies:
        raise DomainError(_l("Choose an agency."))
    if to_agency == case.agency_code:
        raise DomainError(_l("The case is already at this agency."))
    if case.status == CLOSED:
        raise DomainError(_l("Every benefit of this case is decided: it cannot be transferred."))
    from_agency = case.agency_code
    target = session.scalar(select(AgencyCase).where(AgencyCase.application_id == case.application_id,
                                                     AgencyCase.agency_code == to_agency,
                                                     AgencyCase.status != CLOSED))
    moved = [c for c in case.claims if c.status not in st.FINAL]
    if target is None:
        target = case
        case.agency_code = to_agency
    for claim in moved:
        claim.agency_code = to_agency
        claim.case_id = target.id
        claim.assigned_to_id = None
    target.assigned_to_id = None
    target.assigned_at = None
    target.escalated_at = None
    session.add(CaseTransfer(case=case, from_agency=from_agency, to_agency=to_agency, reason=reason[:4000],
                             actor_id=actor.id))
    session.flush()
    for c in {case.id: case, target.id: target}.values():
        session.refresh(c, ["claims"])
        if not c.claims or all(x.status in st.FINAL for x in c.claims):
            c.status = CLOSED
            c.closed_at = clock.now()
        refresh_due(c)
    application = case.application
    for claim in moved:
        session.add(StatusEvent(application=application, claim=claim, from_status=claim.status,
                                to_status=TRANSFERRED, actor=actor, note=reason[:4000]))
    application.touch()
    audit.record(session, "case_transferred", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="case", object_id=case.ref, from_agency=from_agency, to_agency=to_agency)
    for claim in moved:
        notify(session, application.applicant, "case_transferred",
               {"number": application.number, "benefit": claim.benefit_code, "agency": to_agency,
                "reason": reason[:1000]}, application=application)
    return target


# --- deadlines: escalation --------------------------------------------------------------------------------------

def overdue(session: Session, today: dt.date, agencies: set[str] | None = None) -> list[AgencyCase]:
    query = select(AgencyCase).where(AgencyCase.status == OPEN, AgencyCase.due_on < today)
    if agencies is not None:
        query = query.where(AgencyCase.agency_code.in_(agencies))
    return list(session.scalars(query.order_by(AgencyCase.due_on)))


def escalate_overdue(session: Session, today: dt.date | None = None) -> list[AgencyCase]:
    """Tell each agency's supervisors about every case whose deadline passed (once per case)."""
    today = today or clock.today()
    done = []
    for case in session.scalars(select(AgencyCase).where(AgencyCase.status == OPEN, AgencyCase.due_on < today,
                                                         AgencyCase.escalated_at.is_(None))).all():
        result = session.execute(update(AgencyCase).where(AgencyCase.id == case.id,
                                                          AgencyCase.escalated_at.is_(None))
                                 .values(escalated_at=clock.now()).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        session.refresh(case)
        benefits = [c.benefit_code for c in case.claims if c.status in UNDECIDED]
        for supervisor in staff_of(session, case.agency_code, roles=("supervisor",)):
            notify(session, supervisor, "case_overdue",
                   {"number": case.application.number, "benefits": benefits, "agency": case.agency_code,
                    "due_on": case.due_on.isoformat(), "case_ref": case.ref})
        audit.record(session, "case_escalated", object_type="case", object_id=case.ref, agency=case.agency_code,
                     due_on=case.due_on.isoformat())
        done.append(case)
    session.flush()
    return done
