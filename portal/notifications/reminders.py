"""Reminders: notices that nobody's action triggers, only the passing of time.

* ``info_unanswered`` — the agency asked the applicant for information
  ``reminder_info_days`` days ago and has no answer: remind the applicant.
* ``deadline_near`` / ``deadline_passed`` — a claim the agency must decide
  reaches (``reminder_deadline_days`` working days before) or passes its legal
  deadline (``processing_days`` of the catalogue, in working days from
  submission): tell the assigned case worker, or the agency's supervisors when
  nobody is assigned; a passed deadline goes to the supervisors as well.
* ``renewal_due`` — an approved benefit granted for ``renewal_months`` (the
  catalogue) ends within ``reminder_renewal_days``: ask the beneficiary to
  apply again, unless they already did.

Each due event has a key (the request's status event, the claim and its due
date); a :class:`~portal.notifications.models.Reminder` row with that key is
written in the same transaction as the notices, under a unique constraint.  So
a sweep run twice, or in two processes at once, reminds once per event.

Finding what is due is read-only (:func:`due_reminders`); writing is
:func:`write`, one transaction per event; :func:`run` does both, and is the
sweep registered in :mod:`portal.notifications.tasks`.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Account, RoleAssignment
from portal.applications import status as st
from portal.applications.models import Application, Claim, StatusEvent
from portal.catalogue import Catalogue
from portal.config import Settings
from portal.core import clock
from portal.core.db import session_scope
from portal.notifications.models import Reminder
from portal.notifications.services import _catalogue, notify

log = logging.getLogger(__name__)

INFO_UNANSWERED = "info_unanswered"
DEADLINE_NEAR = "deadline_near"
DEADLINE_PASSED = "deadline_passed"
RENEWAL_DUE = "renewal_due"
KINDS = (INFO_UNANSWERED, DEADLINE_NEAR, DEADLINE_PASSED, RENEWAL_DUE)

# A renewal whose date passed longer ago than this is not reminded any more (old data, first run).
RENEWAL_GRACE_DAYS = 30
STAFF_LINK = "/backoffice/"


# --- dates: pure rules ---------------------------------------------------------------------------------------------

def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day (Monday to Friday) after ``start``; ``start`` itself does not count."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def subtract_working_days(end: dt.date, days: int) -> dt.date:
    day = end
    while days > 0:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def decision_due(submitted: dt.date, processing_days: int) -> dt.date:
    """The legal deadline of a claim: ``processing_days`` working days after the day it was submitted."""
    return add_working_days(submitted, processing_days)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def renewal_date(decided: dt.date, renewal_months: int) -> dt.date | None:
    return add_months(decided, renewal_months) if renewal_months > 0 else None


# --- what is due -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    """One reminder to write: its identity (``kind`` + ``key``), whom it goes to and what it says."""

    kind: str
    key: str
    template: str
    params: dict
    recipient_ids: tuple[int, ...]
    claim_id: int | None = None
    due_on: dt.date | None = None
    application_id: int | None = None  # the notices link to the application when set
    extra: dict = field(default_factory=dict, compare=False)


def _local_date(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    return moment.astimezone(zone).date()


def staff_of(session: Session, agency: str, roles: tuple[str, ...]) -> list[Account]:
    """Accounts holding one of ``roles`` at ``agency`` (grants from the portal's own role table)."""
    return list(session.scalars(
        select(Account).join(RoleAssignment, RoleAssignment.idnp == Account.idnp)
        .where(RoleAssignment.role.in_(roles), RoleAssignment.agency_code == agency,
               RoleAssignment.revoked_at.is_(None))
        .order_by(Account.id).distinct()))


def unanswered_requests(session: Session, now: dt.datetime, days: int, zone: ZoneInfo) -> list[Due]:
    """Claims still waiting for the applicant ``days`` after the agency's latest request."""
    waiting = session.scalars(select(Claim).where(Claim.status == st.INFO_REQUESTED)
                              .options(selectinload(Claim.application))).all()
    if not waiting:
        return []
    latest: dict[int, StatusEvent] = {}
    for event in session.scalars(select(StatusEvent).where(StatusEvent.claim_id.in_([c.id for c in waiting]),
                                                           StatusEvent.to_status == st.INFO_REQUESTED)
                                 .order_by(StatusEvent.id)):
        latest[event.claim_id] = event
    out = []
    for claim in waiting:
        event = latest.get(claim.id)
        if event is None or now - event.created_at < dt.timedelta(days=days):
            continue
        application = claim.application
        out.append(Due(INFO_UNANSWERED, str(event.id), "info_reminder",
                       {"number": application.number or "", "benefit": claim.benefit_code,
                        "question": event.note or "", "asked_on": _local_date(event.created_at, zone).isoformat()},
                       (application.applicant_id,), claim_id=claim.id, application_id=application.id))
    return out


def agency_deadlines(session: Session, today: dt.date, near_days: int, catalogue: Catalogue,
                     zone: ZoneInfo) -> list[Due]:
    """Claims the agency must still decide whose legal deadline is near or passed."""
    open_statuses = sorted(st.OPEN_FOR_AGENCY)
    claims = session.scalars(
        select(Claim).join(Claim.application)
        .where(Claim.status.in_(open_statuses), Application.submitted_at.is_not(None))
        .options(selectinload(Claim.application))).all()
    out = []
    for claim in claims:
        benefit = catalogue.benefits.get(claim.benefit_code)
        if benefit is None:
            continue
        application = claim.application
        due = decision_due(_local_date(application.submitted_at, zone), benefit.processing_days)
        if today > due:
            kind, template = DEADLINE_PASSED, "deadline_passed"
        elif today >= subtract_working_days(due, near_days):
            kind, template = DEADLINE_NEAR, "deadline_near"
        else:
            continue
        assigned = [claim.assigned_to_id] if claim.assigned_to_id else []
        supervisors = [a.id for a in staff_of(session, claim.agency_code, ("supervisor",))]
        if kind == DEADLINE_NEAR:
            recipients = assigned or supervisors or [a.id for a in staff_of(session, claim.agency_code,
                                                                             ("case_worker",))]
        else:
            recipients = assigned + [i for i in supervisors if i not in assigned]
        if not recipients:
            log.warning("claim %s: deadline %s but nobody at %s to tell", claim.id, due, claim.agency_code)
            continue
        out.append(Due(kind, f"{claim.id}:{due.isoformat()}", template,
                       {"number": application.number or "", "benefit": claim.benefit_code,
                        "due_on": due.isoformat(), "path": STAFF_LINK},
                       tuple(recipients), claim_id=claim.id, due_on=due))
    return out


def renewals(session: Session, today: dt.date, notice_days: int, catalogue: Catalogue, zone: ZoneInfo) -> list[Due]:
    """Approved claims whose benefit must be renewed within ``notice_days``, not applied for again yet."""
    periodic = {code: b.renewal_months for code, b in catalogue.benefits.items() if b.renewal_months > 0}
    if not periodic:
        return []
    claims = session.scalars(
        select(Claim).where(Claim.status == st.APPROVED, Claim.decided_at.is_not(None),
                            Claim.benefit_code.in_(list(periodic)))
        .options(selectinload(Claim.application))).all()
    out = []
    for claim in claims:
        decided = _local_date(claim.decided_at, zone)
        renew_by = renewal_date(decided, periodic[claim.benefit_code])
        if not (today - dt.timedelta(days=RENEWAL_GRACE_DAYS) <= renew_by <= today + dt.timedelta(days=notice_days)):
            continue
        application = claim.application
        applied_again = session.scalar(
            select(Claim.id).join(Claim.application)
            .where(Application.applicant_id == application.applicant_id, Claim.benefit_code == claim.benefit_code,
                   Claim.id != claim.id, Claim.created_at > claim.decided_at).limit(1))
        if applied_again is not None:
            continue
        out.append(Due(RENEWAL_DUE, f"{claim.id}:{renew_by.isoformat()}", "renewal_due",
                       {"number": application.number or "", "benefit": claim.benefit_code,
                        "decided_on": decided.isoformat(), "renew_by": renew_by.isoformat(),
                        "path": f"/apply?benefit={claim.benefit_code}"},
                       (application.applicant_id,), claim_id=claim.id, due_on=renew_by))
    return out


def due_reminders(session: Session, settings: Settings, now: dt.datetime | None = None,
                  catalogue: Catalogue | None = None) -> list[Due]:
    """Every reminder due now that has not been written yet."""
    now = now or clock.now()
    zone = ZoneInfo(settings.default_timezone)
    today = _local_date(now, zone)
    catalogue = catalogue or _catalogue()
    found = (unanswered_requests(session, now, settings.reminder_info_days, zone)
             + agency_deadlines(session, today, settings.reminder_deadline_days, catalogue, zone)
             + renewals(session, today, settings.reminder_renewal_days, catalogue, zone))
    if not found:
        return []
    done = {(kind, key) for kind, key in session.execute(
        select(Reminder.kind, Reminder.key).where(Reminder.key.in_([d.key for d in found])))}
    return [d for d in found if (d.kind, d.key) not in done]


# --- writing, once per due event -------------------------------------------------------------------------------------

def write(due: Due) -> bool:
    """Write the reminder and its notices in one transaction; False if it was already written (by anyone)."""
    try:
        with session_scope() as s:
            s.add(Reminder(kind=due.kind, key=due.key, claim_id=due.claim_id, due_on=due.due_on,
                           account_id=due.recipient_ids[0] if len(due.recipient_ids) == 1 else None))
            s.flush()  # the unique (kind, key) decides here, before any notice is written
            application = s.get(Application, due.application_id) if due.application_id else None
            for account_id in due.recipient_ids:
                account = s.get(Account, account_id)
                if account is not None:
                    notify(s, account, due.template, dict(due.params), application=application)
    except IntegrityError:
        return False
    return True


def run(settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Write every due reminder; returns how many of each kind were written."""
    with session_scope() as s:
        due = due_reminders(s, settings, now)
    written = {kind: 0 for kind in KINDS}
    for item in due:
        if write(item):
            written[item.kind] += 1
    if any(written.values()):
        log.info("reminders written: %s", ", ".join(f"{k} {v}" for k, v in written.items() if v))
    return written
