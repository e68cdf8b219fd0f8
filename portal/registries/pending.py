"""Nothing is lost when a registry is down: a sent application waits for its data, then gets it.

At submission (``portal.applications.services.submit``):

* every data item the application needs that no registry has given yet is recorded as a
  :class:`~portal.registries.models.PendingFetch` ("which data is pending");
* routing falls back: a benefit whose agency does not depend on where the applicant lives
  (the birth allowance → CNAS) is routed at once; one that does (social aid → the
  territorial agency of the raion) waits as ``awaiting_data`` until the population register
  gives the raion of record, and is routed then.

The sweep :func:`complete_due` asks again for what is due, with exponential backoff per
item (and never while the registry's circuit breaker is open), keeps what arrives as
evidence, writes it into the application's history, tells the case worker (a notice on the
case page) and routes the claims that were waiting for the address.  Each application is
claimed with a compare-and-set first, so two sweeps never work on the same one; the queries
run outside any database transaction.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal.applications import status as st
from portal.applications.models import Application, Claim, StatusEvent
from portal.core import clock
from portal.core.db import session_scope
from portal.notifications.services import notify
from portal.registries import accesslog
from portal.registries import services as reg
from portal.registries.models import PendingFetch
from portal.routing.rules import NoRoute

log = logging.getLogger("esocial.registries")

LEASE = dt.timedelta(minutes=2)  # a claimed row not finished by then is taken again
FIRST_RETRY = dt.timedelta(seconds=20)
MAX_RETRY = dt.timedelta(hours=1)
MAX_MALFORMED = 5  # a registry that keeps answering nonsense: give up after this many answers
BATCH = 20


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: 20 s, 40 s, 80 s… at most an hour."""
    return min(MAX_RETRY, FIRST_RETRY * (2 ** max(0, attempts - 1)))


# --- routing while the address is pending ---------------------------------------------------------------------

def _route(session: Session, application: Application, benefit: str) -> str:
    """The agency for one benefit, under the rules in force (the routing service's, when there is one)."""
    try:
        from portal.routing.services import current, facts_of
    except ImportError:  # the plain rules of routing.toml
        from portal.routing.rules import route

        return route(benefit, application.raion_code)
    from portal.routing.rules import route

    return route(benefit, application.raion_code, current(session), facts=facts_of(application))


def route_when_known(session: Session, application: Application) -> dict[str, str | None] | None:
    """benefit → agency, or ``None`` for a benefit that waits for the raion of record.

    Returns ``None`` altogether when waiting cannot help (the register answered that it does not
    know the person, or the address is there and still nothing routes).
    """
    if application.raion_code or not reg.address_usable_later(application):
        return None
    out: dict[str, str | None] = {}
    for benefit in application.benefits:
        try:
            out[benefit] = _route(session, application, benefit)
        except NoRoute:
            out[benefit] = None
    return out


def hold(session: Session, application: Application) -> None:
    """After submission: note which claims wait for data, and remember every pending item."""
    reg.record_pending(session, application)
    for claim in application.claims:
        if claim.status == st.AWAITING_DATA:
            session.add(StatusEvent(application=application, claim=claim, from_status=None,
                                    to_status=st.AWAITING_DATA, actor=None,
                                    note=reg.in_language(application, lambda lang: _l(
                                        "The agency will be chosen as soon as the population register "
                                        "gives the address."))))
    application.touch()


def route_waiting_claims(session: Session, application: Application) -> list[Claim]:
    """The address arrived: send each claim that waited for it to its agency (compare-and-set per claim)."""
    routed = []
    for claim in [c for c in application.claims if c.status == st.AWAITING_DATA]:
        try:
            agency = _route(session, application, claim.benefit_code)
        except NoRoute:
            log.warning("application %s: %s still has no route from %s", application.ref, claim.benefit_code,
                        application.raion_code)
            continue
        st.check(st.AWAITING_DATA, st.SUBMITTED, st.SYSTEM)
        done = session.execute(update(Claim).where(Claim.id == claim.id, Claim.status == st.AWAITING_DATA)
                               .values(status=st.SUBMITTED, agency_code=agency, updated_at=clock.now())
                               .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            continue
        session.refresh(claim)
        _move_to_agency_case(session, claim, agency)
        session.add(StatusEvent(application=application, claim=claim, from_status=st.AWAITING_DATA,
                                to_status=st.SUBMITTED, actor=None, note=reg.in_language(
                                    application, lambda lang, a=agency: _l(
                                        "Sent to %(agency)s now that the address is known.",
                                        agency=_agency_name(a, lang)))))
        reg.add_notice(session, application, "routed", agency=agency)
        notify(session, application.applicant, "status_changed",
               {"number": application.number, "benefit": claim.benefit_code, "status": st.SUBMITTED},
               application=application)
        routed.append(claim)
    if routed:
        application.touch()
    return routed


def _agency_name(code: str, lang: str) -> str:
    from portal.routing.reference import territory

    agency = territory().agencies.get(code)
    return agency.name_in(lang) if agency else code


def _move_to_agency_case(session: Session, claim: Claim, agency: str) -> None:
    """Keep the back office's grouping of claims into one case per agency (where it exists) in step.

    A claim held at submission sits in a case of no agency (``agency_code == ""``), invisible to
    every queue.  Routed, it joins the application's case of that agency, or that held case becomes
    the agency's case when it was the claim's alone, or a new case is opened.
    """
    try:
        from portal.backoffice import cases as agency_cases
        from portal.backoffice.models import CLOSED, AgencyCase
    except ImportError:
        return
    if not hasattr(claim, "case_id"):
        return
    held = session.get(AgencyCase, claim.case_id) if claim.case_id else None
    target = session.scalar(select(AgencyCase).where(AgencyCase.application_id == claim.application_id,
                                                     AgencyCase.agency_code == agency))
    if target is None and held is not None and not held.agency_code and [c.id for c in held.claims] == [claim.id]:
        held.agency_code = agency
        target = held
    if target is None:
        target = AgencyCase(application_id=claim.application_id, agency_code=agency)
        session.add(target)
        session.flush()
    claim.case_id = target.id
    session.flush()
    for case in {c for c in (held, target) if c is not None}:
        session.refresh(case, ["claims"])
        agency_cases.refresh_due(case)
    if held is not None and held is not target and not held.claims:
        held.status, held.closed_at = CLOSED, clock.now()


# --- the sweep -----------------------------------------------------------------------------------------------

def _due_applications(session: Session, now: dt.datetime, limit: int) -> list[int]:
    rows = session.execute(
        select(PendingFetch.application_id).where(or_(
            and_(PendingFetch.status == "waiting", PendingFetch.next_attempt_at <= now),
            and_(PendingFetch.status == "fetching", PendingFetch.claimed_until < now)))
        .group_by(PendingFetch.application_id).order_by(PendingFetch.application_id).limit(limit))
    return [r[0] for r in rows]


def _claim(session: Session, application_id: int, now: dt.datetime, breakers) -> list[PendingFetch]:
    """Take the due rows of one application (compare-and-set each); skip registries whose breaker is open."""
    taken = []
    rows = session.scalars(select(PendingFetch).where(PendingFetch.application_id == application_id, or_(
        and_(PendingFetch.status == "waiting", PendingFetch.next_attempt_at <= now),
        and_(PendingFetch.status == "fetching", PendingFetch.claimed_until < now)))).all()
    from portal.registries.prefill import MEMBER_ITEMS

    open_ = {r.id for r in rows if breakers is not None and breakers[r.registry_code].state == "open"}
    # Whose income, insurance… to ask is known only from the household: not while it is still to come.
    household_later = any(r.item == "household" and r.id in open_ for r in rows)
    for row in rows:
        if row.id in open_ or (household_later and row.item in MEMBER_ITEMS):
            continue
        result = session.execute(
            update(PendingFetch).where(PendingFetch.id == row.id, PendingFetch.status == row.status,
                                       PendingFetch.attempts == row.attempts)
            .values(status="fetching", claimed_until=now + LEASE, attempts=PendingFetch.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            taken.append(row.id)
    return taken


def complete_due(app, *, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Ask again for the pending data of sent applications that is due. Returns how many items arrived."""
    from portal.applications.prefill import client

    now = now or clock.now()
    gateway = client()
    with session_scope() as s:
        due = _due_applications(s, now, limit)
    arrived = 0
    for application_id in due:
        try:
            with accesslog.journal():
                arrived += _complete_one(application_id, now, gateway)
        except Exception:  # noqa: BLE001 - one application must not stop the others
            log.exception("completing pending data of application %s failed", application_id)
    return arrived


def _complete_one(application_id: int, now: dt.datetime, gateway) -> int:
    from portal.registries import prefill as registry_prefill

    # 1. claim (a transaction of its own)
    with session_scope() as s:
        ids = _claim(s, application_id, now, getattr(gateway, "breakers", None))
    if not ids:
        return 0
    # 2. ask, outside any transaction (no lock held while the registries answer)
    with session_scope() as s:
        application = s.get(Application, application_id)
        rows = s.scalars(select(PendingFetch).where(PendingFetch.id.in_(ids))).all()
        items = {r.item: r.registry_code for r in rows}
        household = reg.evidence_of(application, "household")
        known = household.payload if household is not None and household.status == "fetched" else None
        purpose = reg.system_purpose(application, reg.PENDING_DATA)
        applicant_idnp = application.applicant.idnp
    results = registry_prefill.prefill(gateway, items, applicant_idnp, purpose,
                                       household=known if "household" not in items else None)
    # 3. keep what arrived (a transaction of its own)
    with session_scope() as s:
        return apply_results(s, s.get(Application, application_id), results, ids, now)


def apply_results(session: Session, application: Application, results: dict, row_ids: list[int],
                  now: dt.datetime) -> int:
    from portal.applications import services as app_services

    rows = {r.item: r for r in session.scalars(select(PendingFetch).where(PendingFetch.id.in_(row_ids)))}
    fetched = {item: r for item, r in results.items() if r.ok}
    if fetched:
        app_services.store_prefill(session, application, fetched)
        reg.sync_subjects(session, application)
    arrived = 0
    for item, result in results.items():
        row = rows.get(item)
        if row is None:
            continue
        if result.ok:
            row.status, row.resolved_at, row.last_error, row.claimed_until = "done", now, None, None
            reg.history(session, application, "data_received", reg.in_language(application, lambda lang, i=item, r=row: _l(
                "%(item)s received from %(registry)s.", item=reg.data_title(i, lang),
                registry=reg.registry_name(r.registry_code, lang))))
            reg.add_notice(session, application, "data_received", registry=row.registry_code, item=item)
            arrived += 1
        elif result.status == "pending" or (result.error == "malformed" and row.attempts < MAX_MALFORMED):
            row.status, row.last_error, row.claimed_until = "waiting", result.error, None
            row.next_attempt_at = now + backoff(row.attempts)
        else:
            row.status, row.resolved_at, row.last_error, row.claimed_until = "failed", now, result.error, None
            app_services.store_prefill(session, application, {item: result})
            reg.history(session, application, "data_failed", reg.in_language(application, lambda lang, i=item, r=row: _l(
                "%(registry)s could not give %(item)s; the agency will check it with you.",
                item=reg.data_title(i, lang), registry=reg.registry_name(r.registry_code, lang))))
            reg.add_notice(session, application, "data_failed", registry=row.registry_code, item=item)
    if "address" in fetched and application.raion_code:
        route_waiting_claims(session, application)
    session.flush()
    return arrived
