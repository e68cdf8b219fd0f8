"""Back office rules and services: working days, routing versions, cases per agency, taking, transfers,
deadlines and escalation, decisions with letters, appeals, household case files."""
from __future__ import annotations

import datetime as dt
import io
import os
import threading
from decimal import Decimal

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from backoffice_helpers import in_request, person, staff, submitted, today  # noqa: F401 (fixtures)
from portal.applications import services as app_services
from portal.applications import status as st
from portal.audit.models import AuditEvent
from portal.backoffice import calendar, cases
from portal.backoffice.models import AgencyCase
from portal.casefiles import services as casefiles
from portal.core import clock
from portal.core.db import db
from portal.core.errors import DomainError, NotAllowed
from portal.decisions import services as decisions
from portal.notifications.models import Notification
from portal.notifications.services import render
from portal.routing import rules as routing_rules
from portal.routing import services as routing
from portal.routing.models import RoutingRuleVersion
from portal.routing.reference import load_territory


@pytest.fixture(autouse=True)
def _request(in_request):
    yield


# --- working days ------------------------------------------------------------------------------------------------

def _orthodox_easter(year: int) -> dt.date:
    """Meeus' Julian computus, moved to the Gregorian calendar."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    return dt.date(year, month, day + 1) + dt.timedelta(days=13)


def test_listed_easter_holidays_are_orthodox_easter_its_monday_and_memorial_easter():
    rules = calendar.load_rules()
    assert len(rules.calendar.easter) >= 5
    for sunday, monday, memorial in rules.calendar.easter:
        assert sunday == _orthodox_easter(sunday.year)
        assert monday == sunday + dt.timedelta(days=1) and memorial == sunday + dt.timedelta(days=8)


def test_working_days_skip_weekends_and_public_holidays():
    cal = calendar.load_rules().calendar
    assert not cal.is_working_day(dt.date(2026, 3, 7))  # Saturday
    assert cal.is_working_day(dt.date(2026, 3, 9))  # an ordinary Monday
    assert not cal.is_working_day(dt.date(2026, 8, 27))  # Independence Day
    assert not cal.is_working_day(dt.date(2026, 4, 13))  # Easter Monday
    # Friday 24 April 2026 + 2 working days: Monday 27 (Memorial Easter is Monday 20), Tuesday 28.
    assert cal.add_working_days(dt.date(2026, 4, 24), 2) == dt.date(2026, 4, 28)
    # Thursday 30 April + 1: Friday 1 May is a holiday, so Monday 4 May.
    assert cal.add_working_days(dt.date(2026, 4, 30), 1) == dt.date(2026, 5, 4)
    # 40 working days from Monday 2 March 2026: 8 weeks, minus 8 March (a Sunday: no effect), 13 and 20 April.
    assert calendar.deadline(dt.date(2026, 3, 2), 40) == dt.date(2026, 4, 29)
    assert cal.working_days_between(dt.date(2026, 4, 24), dt.date(2026, 4, 28)) == 2


def test_days_left_counts_working_days_and_overdue_in_calendar_days():
    assert calendar.days_left(dt.date(2026, 3, 10), dt.date(2026, 3, 6)) == 2  # Mon 9, Tue 10
    assert calendar.days_left(dt.date(2026, 3, 4), dt.date(2026, 3, 6)) == -2


# --- routing as versioned data ----------------------------------------------------------------------------------

def test_route_is_pure_and_conditions_are_more_specific():
    terr = load_territory()
    rule_set = routing_rules.load_rules() + (routing_rules.rule_from_dict(
        {"benefits": ["social_aid"], "raions": ["*"], "agency": "ANOFM", "conditions": {"channel": "cups|assisted"}}),)
    assert routing_rules.route("social_aid", "ialoveni", rule_set, terr, facts={"channel": "online"}) == "ATAS-CENTRU"
    assert routing_rules.route("social_aid", "ialoveni", rule_set, terr, facts={"channel": "cups"}) == "ANOFM"
    # A rule naming the raion still wins over a wildcard with conditions.
    local = rule_set + (routing_rules.rule_from_dict({"benefits": ["social_aid"], "raions": ["ialoveni"],
                                                      "agency": "CNAS"}),)
    assert routing_rules.route("social_aid", "ialoveni", local, terr, facts={"channel": "cups"}) == "CNAS"
    with pytest.raises(ValueError):
        routing_rules.rule_from_dict({"benefits": ["x"], "raions": ["*"], "agency": "CNAS", "conditions": {"shoe": "1"}})


def test_rule_sets_round_trip_as_data():
    seed = routing_rules.load_rules()
    assert routing_rules.rules_from_data(routing_rules.rules_as_data(seed)) == seed


def test_versions_keep_who_when_why_and_only_admins_change_them(session, today):
    worker = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    admin = staff(session, "Ana", "C", ("sysadmin", None))  # the new rule sends work to another agency
    first = routing.seed(session)
    assert first.version == 1 and routing.current(session) == routing_rules.load_rules()
    new = routing.current(session) + (routing_rules.rule_from_dict(
        {"benefits": ["birth_allowance"], "raions": ["soroca"], "agency": "ATAS-NORD-EST"}),)
    benefits = app_services.catalogue().benefits
    with pytest.raises(DomainError):
        routing.save_version(session, new, actor=worker, reason="x", benefits=benefits)
    with pytest.raises(DomainError):
        routing.save_version(session, new, actor=admin, reason=" ", benefits=benefits)
    with pytest.raises(DomainError):
        routing.save_version(session, routing.current(session), actor=admin, reason="nothing", benefits=benefits)
    bad = new + (routing_rules.rule_from_dict({"benefits": ["social_aid"], "raions": ["atlantis"], "agency": "CNAS"}),)
    with pytest.raises(DomainError, match="atlantis"):
        routing.save_version(session, bad, actor=admin, reason="typo", benefits=benefits)
    second = routing.save_version(session, new, actor=admin, reason="Pilot in Soroca", benefits=benefits)
    assert (second.version, second.created_by_idnp, second.reason) == (2, admin.idnp, "Pilot in Soroca")
    assert routing.current(session) == new
    assert [v.version for v in routing.versions(session)] == [2, 1]
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "routing_rules_changed")).details["previous"] == 1


def _with(*extra):
    return routing_rules.load_rules() + tuple(routing_rules.rule_from_dict(r) for r in extra)


def test_an_agency_administrator_changes_only_rules_that_route_to_their_agency(session, today):
    irina = staff(session, "Irina", "P", ("agency_admin", "ATAS-CENTRU"))
    sysadmin = staff(session, "Ana", "C", ("sysadmin", None))
    benefits = app_services.catalogue().benefits
    routing.seed(session)

    def refused(rule_set, *words):
        with pytest.raises(DomainError) as refusal:
            routing.save_version(session, rule_set, actor=irina, reason="Change", benefits=benefits)
        with force_locale("en"):
            text = str(refusal.value)
        for word in ("Only a system administrator", *words):
            assert word in text, text

    # A rule sending applications to another agency, explicitly or as "the territorial agency" of its raions.
    refused(_with({"benefits": ["social_aid"], "raions": ["ialoveni"], "agency": "ATAS-CENTRU-EST"}),
            "rule 5", "Centru-Est (Orhei)")
    refused(_with({"benefits": ["social_aid"], "raions": ["soroca"], "agency_kind": "territorial",
                   "conditions": {"abroad": "yes"}}), "Nord-Est (Soroca)")
    # Deleting or editing a rule that also routes to other agencies (the national one for all raions).
    refused(routing_rules.load_rules()[1:], "Nord-Est (Soroca)")
    # A rule of her own agency that would take another agency's applications, even only some of them.
    refused(_with({"benefits": ["social_aid"], "raions": ["soroca"], "agency": "ATAS-CENTRU",
                   "conditions": {"channel": "cups"}}), "from Soroca", "instead of", "Nord-Est (Soroca)")
    refused(_with({"benefits": ["birth_allowance"], "raions": ["ialoveni"], "agency": "ATAS-CENTRU"}),
            "Ialoveni", "instead of")
    assert routing.latest(session).version == 1  # nothing was saved

    # What stays within her agency is hers to change: a rule of her own for applications made at a CUPS centre.
    own = _with({"benefits": ["social_aid", "cold_season_aid"], "raions": ["ialoveni", "criuleni"],
                 "agency": "ATAS-CENTRU", "conditions": {"channel": "cups"}})
    assert routing.save_version(session, own, actor=irina, reason="CUPS desk", benefits=benefits).version == 2
    # ... and to delete again (applications fall back to the territorial rule: her agency too).
    assert routing.save_version(session, routing_rules.load_rules(), actor=irina, reason="Undo",
                                benefits=benefits).version == 3
    # A system administrator keeps full control, and his rules for other agencies stay out of her reach.
    elsewhere = _with({"benefits": ["birth_allowance"], "raions": ["ialoveni"], "agency": "ATAS-CENTRU"})
    assert routing.save_version(session, elsewhere, actor=sysadmin, reason="Pilot", benefits=benefits).version == 4
    refused(routing_rules.load_rules(), "instead of")  # undoing it sends Ialoveni's births back to CNAS
    assert routing.latest(session).version == 4


def test_moved_routes_tries_every_condition_the_rules_name():
    terr = load_territory()
    old = routing_rules.load_rules()
    new = _with({"benefits": ["social_aid"], "raions": ["soroca"], "agency": "CNAS",
                 "conditions": {"channel": "cups|assisted", "language": "ru"}})
    moves = routing.moved_routes(old, new, ["social_aid", "birth_allowance"], terr)
    assert {(m.benefit, m.raion, m.facts, m.before, m.after) for m in moves} == {
        ("social_aid", "soroca", (("channel", "assisted"), ("language", "ru")), "ATAS-NORD-EST", "CNAS"),
        ("social_aid", "soroca", (("channel", "cups"), ("language", "ru")), "ATAS-NORD-EST", "CNAS"),
    }
    assert routing.moved_routes(old, old, ["social_aid"], terr) == []


def test_dry_run_shows_where_new_and_recent_applications_would_go(session, today):
    terr = load_territory()
    ion = person(session)
    submitted(session, ion, ["birth_allowance"], raion="soroca")
    new = routing.current(session) + (routing_rules.rule_from_dict(
        {"benefits": ["birth_allowance"], "raions": ["soroca", "drochia"], "agency": "ATAS-NORD-EST"}),)
    changes = routing.matrix_changes(routing.current(session), new, app_services.catalogue().benefits, terr)
    assert {(c.benefit, c.raion, c.before, c.after) for c in changes} == {
        ("birth_allowance", "soroca", "CNAS", "ATAS-NORD-EST"), ("birth_allowance", "drochia", "CNAS", "ATAS-NORD-EST")}
    recent = [r for r in routing.recent_applications_under(session, new, terr) if r.before != r.after]
    assert [(r.benefit, r.before, r.after) for r in recent] == [("birth_allowance", "CNAS", "ATAS-NORD-EST")]
    # A dry run changes nothing.
    assert session.scalar(select(func.count()).select_from(RoutingRuleVersion)) == 1


# --- one case per agency ----------------------------------------------------------------------------------------

def test_benefits_going_to_the_same_agency_share_one_case(session, today):
    ion = person(session)
    application = submitted(session, ion, ["social_aid", "cold_season_aid", "birth_allowance"])
    by_agency = {c.agency_code: sorted(x.benefit_code for x in c.claims)
                 for c in session.scalars(select(AgencyCase).where(AgencyCase.application_id == application.id))}
    assert by_agency == {"ATAS-CENTRU": ["cold_season_aid", "social_aid"], "CNAS": ["birth_allowance"]}
    cnas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "CNAS"))
    # Birth allowance: 10 working days from Tuesday 3 March 2026 (8 March is a Sunday).
    assert cnas.due_on == dt.date(2026, 3, 17)
    atas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU"))
    assert atas.due_on == calendar.deadline(dt.date(2026, 3, 3), 40)


def test_waiting_for_the_citizen_pauses_the_deadline(session, today):
    ion = person(session)
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    application = submitted(session, ion, ["social_aid"])
    case = application.claims[0]
    agency_case = session.get(AgencyCase, case.case_id)
    due = agency_case.due_on
    app_services.request_information(session, case, actor=elena, question="Contract?")
    assert agency_case.status == "waiting" and agency_case.paused_at is not None
    # The citizen answers a week later (5 working days).
    clock.set_clock(lambda: dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone.utc))
    app_services.answer_information(session, application, actor=ion, answer="Nu am.")
    assert agency_case.status == "open" and agency_case.paused_days == 5
    assert agency_case.due_on == calendar.rules().calendar.add_working_days(due, 5)


def _queue_of(n, session, agency_raion="ialoveni", benefits=("social_aid",)):
    out = []
    for i in range(n):
        applicant = person(session, first=f"P{i}")
        out.append(submitted(session, applicant, list(benefits), raion=agency_raion,
                             submitted_at=clock.now() - dt.timedelta(days=n - i)))
    return out


def test_take_next_gives_the_most_urgent_case_and_never_one_taken(session, today):
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    ana = staff(session, "Ana", "M", ("case_worker", "ATAS-CENTRU"))
    sergiu = staff(session, "Sergiu", "B", ("case_worker", "ATAS-NORD-EST"))
    apps = _queue_of(3, session)
    first = cases.take_next(session, actor=elena)
    assert first.application_id == apps[0].id and first.assigned_to_id == elena.id
    assert {c.status for c in first.claims} == {st.IN_REVIEW}
    second = cases.take_next(session, actor=ana)
    assert second.application_id == apps[1].id
    assert cases.take_next(session, actor=sergiu) is None  # another agency's queue is not his
    assert cases.take_next(session, actor=elena).application_id == apps[2].id
    assert cases.take_next(session, actor=ana) is None


def test_a_riskier_case_comes_before_an_older_one(session, today):
    from portal.applications.models import Claim

    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    older, newer = _queue_of(2, session)
    if not hasattr(Claim, "risk_level"):
        pytest.skip("the eligibility checks put no risk level on claims")
    newer.claims[0].risk_level = 3 if isinstance(Claim.risk_level.type, type(Claim.id.type)) else "high"
    session.flush()
    assert cases.take_next(session, actor=elena).application_id == newer.id
    assert cases.take_next(session, actor=elena).application_id == older.id


def test_a_case_keeps_the_worst_risk_of_its_claims_as_they_change_and_move(session, today):
    from portal.assessment import services as eligibility
    from portal.assessment.models import RiskFlag

    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    application = submitted(session, person(session), ["social_aid", "birth_allowance"])
    atas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU"))
    cnas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "CNAS"))
    aid = next(c for c in application.claims if c.benefit_code == "social_aid")
    assert (atas.risk_level, cnas.risk_level) == (0, 0)
    # The cross-checks find something on the social aid: its case rises, the other does not.
    flag = RiskFlag(claim_id=aid.id, application_id=application.id, code="shared_address", severity="high",
                    key="address:x", params={}, status="open", raised_at=clock.now())
    session.add(flag)
    session.flush()
    eligibility._set_risk(session, application.claims, [flag])
    session.flush()
    assert aid.risk_level == 3 and (atas.risk_level, cnas.risk_level) == (3, 0)
    assert session.scalar(select(AgencyCase.risk_level).where(AgencyCase.id == atas.id)) == 3
    # The claim moves to the CNAS case: the risk goes with it, the emptied case has none.
    cases.transfer(session, atas, "CNAS", actor=elena, reason="CNAS pays both.")
    assert (atas.risk_level, cnas.risk_level) == (0, 3)
    # A worker clears the flag: the case falls back.
    olga = staff(session, "Olga", "T", ("case_worker", "CNAS"))
    eligibility.clear_flag(session, flag, actor=olga, reason="Same block of flats, different families.")
    session.flush()
    assert cnas.risk_level == 0
    assert session.scalar(select(AgencyCase.risk_level).where(AgencyCase.id == cnas.id)) == 0


def test_the_queue_pages_in_the_order_take_next_follows(session, today):
    from portal.backoffice import queries

    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    apps = _queue_of(7, session)
    apps[5].claims[0].risk_level = 2  # riskier: first, whatever its age
    apps[3].claims[0].risk_level = 1
    session.flush()
    waiting = session.get(AgencyCase, apps[1].claims[0].case_id)
    waiting.status = "waiting"  # waiting for the citizen: listed in the queue, never taken next
    session.flush()
    expected = [apps[i].claims[0].case_id for i in (5, 3, 0, 1, 2, 4, 6)]
    pages, token = [], None
    while True:
        page = queries.queue(session, {"ATAS-CENTRU"}, after=token, size=3)
        pages.append([c.id for c in page.cases])
        assert page.total == 7 and page.first == (token is None)
        if page.next is None:
            break
        token = page.next
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    # Back from the last page: the middle one, then the first.
    back = queries.queue(session, {"ATAS-CENTRU"}, before=page.previous, size=3)
    assert [c.id for c in back.cases] == expected[3:6] and not back.first and back.previous
    top = queries.queue(session, {"ATAS-CENTRU"}, before=back.previous, size=3)
    assert [c.id for c in top.cases] == expected[:3] and top.first and top.previous is None
    # A token from nowhere is the first page, not an error.
    assert [c.id for c in queries.queue(session, {"ATAS-CENTRU"}, after="x_y", size=3).cases] == expected[:3]
    # Take the next case follows the same order, skipping the waiting case.
    taken = [cases.take_next(session, actor=elena).id for _ in range(6)]
    assert taken == [i for i in expected if i != waiting.id]
    # A worker's own cases are listed apart and left out of the queue's pages.
    mine = queries.queue(session, {"ATAS-CENTRU"}, exclude_assigned_to=elena.id, size=3)
    assert [c.id for c in mine.cases] == [waiting.id] and mine.total == 1
    assert [c.id for c in queries.assigned_to(session, {"ATAS-CENTRU"}, elena.id)] == taken


def test_compare_and_set_lets_one_of_two_sessions_take_the_same_case(app, today):
    with app.app_context():
        s = db.session
        elena = staff(s, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
        ana = staff(s, "Ana", "M", ("case_worker", "ATAS-CENTRU"))
        (application,) = _queue_of(1, s)
        case_id = application.claims[0].case_id
        s.commit()
        ids = (elena.id, ana.id)
    results = []
    for account_id in ids:
        with app.app_context():
            s = db.new_session()
            try:
                case = s.get(AgencyCase, case_id)
                results.append(cases.take(s, case, actor=s.get(type(elena), account_id)))
                s.commit()
            finally:
                s.close()
    assert results == [True, False]


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("ESOCIAL_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="needs PostgreSQL (ESOCIAL_TEST_DATABASE_URL)")
def test_concurrent_take_next_assigns_each_case_to_exactly_one_worker(app):
    """Eight workers press "take the next case" at the same moment on five cases (FOR UPDATE SKIP LOCKED)."""
    workers, n_cases = 8, 5
    with app.app_context():
        s = db.session
        ids = [staff(s, f"W{i}", "Worker", ("case_worker", "ATAS-CENTRU")).id for i in range(workers)]
        _queue_of(n_cases, s)
        s.commit()
    barrier = threading.Barrier(workers)
    got: dict[int, int | None] = {}
    errors = []

    def press(account_id):
        with app.app_context():
            s = db.new_session()
            try:
                from portal.accounts.models import Account

                actor = s.get(Account, account_id)
                barrier.wait()
                case = cases.take_next(s, actor=actor)
                s.commit()
                got[account_id] = case.id if case else None
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                s.close()

    threads = [threading.Thread(target=press, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    taken = [c for c in got.values() if c is not None]
    assert len(taken) == n_cases and len(set(taken)) == n_cases  # every case once, nobody twice
    with app.app_context():
        rows = db.session.execute(select(AgencyCase.id, AgencyCase.assigned_to_id)).all()
        assert {case_id: worker for case_id, worker in rows} == {c: w for w, c in got.items() if c is not None}
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "case_taken")) == n_cases


def test_supervisor_assigns_and_reassigns_within_the_agency(session, today):
    victor = staff(session, "Victor", "G", ("supervisor", "ATAS-CENTRU"), ("case_worker", "ATAS-CENTRU"))
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    ana = staff(session, "Ana", "M", ("case_worker", "ATAS-CENTRU"))
    sergiu = staff(session, "Sergiu", "B", ("case_worker", "ATAS-NORD-EST"))
    (application,) = _queue_of(1, session)
    case = session.get(AgencyCase, application.claims[0].case_id)
    with pytest.raises(NotAllowed):
        cases.assign(session, case, ana, actor=elena)  # a worker cannot assign
    cases.assign(session, case, elena, actor=victor)
    assert case.assigned_to_id == elena.id
    cases.assign(session, case, ana, actor=victor)
    assert case.assigned_to_id == ana.id and application.claims[0].assigned_to_id == ana.id
    with pytest.raises(DomainError):
        cases.assign(session, case, sergiu, actor=victor)  # not of this agency
    assert cases.take_next(session, actor=elena) is None  # an assigned case is not in the pool


def test_transfer_moves_the_case_and_tells_the_citizen(session, today):
    ion = person(session, language="ru")
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    application = submitted(session, ion, ["social_aid", "birth_allowance"])
    atas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU"))
    with pytest.raises(DomainError):
        cases.transfer(session, atas, "ATAS-NORD-EST", actor=elena, reason=" ")
    cases.transfer(session, atas, "ATAS-NORD-EST", actor=elena, reason="The family lives in Soroca now.")
    claim = next(c for c in application.claims if c.benefit_code == "social_aid")
    assert atas.agency_code == claim.agency_code == "ATAS-NORD-EST" and atas.assigned_to_id is None
    events = [e for e in application.events if e.to_status == cases.TRANSFERRED]
    assert [(e.claim_id, e.note) for e in events] == [(claim.id, "The family lives in Soroca now.")]
    notice = session.scalar(select(Notification).where(Notification.template == "case_transferred",
                                                       Notification.channel == "email"))
    text = render(notice).text
    assert "ТАСП Северо-Восток (Сорока)" in text and "The family lives in Soroca now." in text
    # Elena no longer reaches it; the new agency's worker does.
    with pytest.raises(NotAllowed):
        cases.transfer(session, atas, "ATAS-CENTRU", actor=elena, reason="back")


def test_transfer_to_an_agency_already_holding_a_case_joins_it(session, today):
    ion = person(session)
    olga = staff(session, "Olga", "T", ("case_worker", "CNAS"))
    application = submitted(session, ion, ["social_aid", "birth_allowance"])
    cnas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "CNAS"))
    atas = session.scalar(select(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU"))
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    cases.transfer(session, atas, "CNAS", actor=elena, reason="CNAS pays both.")
    session.refresh(cnas, ["claims"])
    assert sorted(c.benefit_code for c in cnas.claims) == ["birth_allowance", "social_aid"]
    assert atas.status == "closed"
    assert cases.take_next(session, actor=olga).id == cnas.id
    assert len(application.claims) == 2


def test_overdue_cases_are_escalated_to_supervisors_once(app, session, today):
    from portal import jobs

    victor = staff(session, "Victor", "G", ("supervisor", "ATAS-CENTRU"))
    staff(session, "Nicolae", "C", ("supervisor", "ATAS-NORD-EST"))
    ion = person(session)
    application = submitted(session, ion, ["social_aid"], submitted_at=clock.now() - dt.timedelta(days=90))
    submitted(session, person(session), ["social_aid"])  # not due yet
    session.commit()
    assert jobs.run_once(app, "backoffice.escalate_overdue") == 1
    assert jobs.run_once(app, "backoffice.escalate_overdue") == 0  # idempotent
    session.expire_all()
    notes = session.scalars(select(Notification).where(Notification.template == "case_overdue",
                                                       Notification.channel == "portal")).all()
    assert [n.account_id for n in notes] == [victor.id]
    case = session.get(AgencyCase, application.claims[0].case_id)
    assert case.escalated_at is not None
    with app.test_request_context():
        assert f"/backoffice/cases/{case.ref}" in render(notes[0]).text


# --- decisions and letters --------------------------------------------------------------------------------------

def _pdf_text(data: bytes) -> str:
    # Lines wrap differently in each language: compare words, not line breaks.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


@pytest.mark.parametrize("language, words", [
    ("ro", ["Decizia nr.", "Temei legal"]),  # translated once the ro catalogue has the strings
    ("ru", ["Единовременное пособие при рождении ребёнка"]),
    ("en", ["Decision no.", "How to appeal", "One-off birth allowance"]),
])
def test_approval_letter_in_the_applicants_language(app, session, today, language, words):
    ion = person(session, first="Ștefan", last="Țurcanu", language=language)
    olga = staff(session, "Olga", "Țurcan", ("case_worker", "CNAS"))
    application = submitted(session, ion, ["birth_allowance"], language=language)
    claim = application.claims[0]
    case = session.get(AgencyCase, claim.case_id)
    with app.test_request_context():
        with pytest.raises(DomainError):
            decisions.decide(session, case, claim, actor=olga, outcome="approved")  # no amount, no rules
        decision = decisions.decide(session, case, claim, actor=olga, outcome="approved", amount="22500",
                                    period="one_off", start_date=dt.date(2026, 3, 10), text="Suma fixă stabilită prin HG.")
    assert claim.status == st.APPROVED and case.status == "closed" and case.due_on is None
    assert decision.amount == Decimal("22500.00") and decision.appeal_until == dt.date(2026, 4, 2)
    assert decision.letter_pdf.startswith(b"%PDF") and decision.letter_sha256
    text = _pdf_text(decision.letter_pdf)
    assert "Ștefan Țurcanu" in text and ion.idnp in text and decision.number in text
    assert "Legea nr. 289/2004" in text and "Codul administrativ" in text
    if language != "ro":
        for w in words:
            assert w in text, (w, text[:500])
    notice = session.scalar(select(Notification).where(Notification.template == "decision_made",
                                                       Notification.channel == "email"))
    assert notice.params["letter_path"] == f"/applications/{application.ref}/decisions/{decision.ref}/letter.pdf"
    with app.test_request_context():
        assert notice.params["letter_path"] in render(notice).text


def test_rejection_reason_from_a_template_in_the_citizens_language_plus_free_text(app, session, today):
    ion = person(session, language="ru")
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    application = submitted(session, ion, ["social_aid"], language="ru")
    claim = application.claims[0]
    case = session.get(AgencyCase, claim.case_id)
    with app.test_request_context():
        with pytest.raises(DomainError):
            decisions.decide(session, case, claim, actor=elena, outcome="rejected")
        with pytest.raises(DomainError):
            decisions.decide(session, case, claim, actor=elena, outcome="rejected", reason_code="nonsense")
        decision = decisions.decide(session, case, claim, actor=elena, outcome="rejected",
                                    reason_code="income_above_threshold", text="3 200 lei на человека.")
    expected = calendar.rules().rejection_reasons["income_above_threshold"].text["ru"]
    assert claim.decision_reason == f"{expected}\n3 200 lei на человека."
    assert expected in _pdf_text(decision.letter_pdf).replace("\n", " ")


# --- appeals ------------------------------------------------------------------------------------------------------

def _decided(app, session, outcome="rejected"):
    ion = person(session, language="en")
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    ana = staff(session, "Ana", "M", ("case_worker", "ATAS-CENTRU"))
    victor = staff(session, "Victor", "G", ("supervisor", "ATAS-CENTRU"))
    application = submitted(session, ion, ["social_aid"], language="en")
    claim = application.claims[0]
    case = session.get(AgencyCase, claim.case_id)
    with app.test_request_context():
        decision = decisions.decide(session, case, claim, actor=elena, outcome=outcome, reason_code="conditions_not_met",
                                    amount="1000" if outcome == "approved" else None)
    return ion, elena, ana, victor, application, claim, case, decision


def test_appeal_goes_to_another_worker_who_decides_again(app, session, today):
    ion, elena, ana, victor, application, claim, case, decision = _decided(app, session)
    assert decisions.can_appeal(session, decision)
    assert decisions.prefilled_grounds(decision, "en").startswith(f"I contest decision no. {decision.number}")
    with app.test_request_context():
        with pytest.raises(DomainError):
            decisions.appeal(session, decision, actor=ion, grounds="no")
        appeal = decisions.appeal(session, decision, actor=ion, grounds="My income fell in January; see the SFS data.")
    assert claim.status == st.APPEALED and case.status == "open"
    assert appeal.reviewer_id == ana.id and case.assigned_to_id == ana.id and case.excluded_worker_id == elena.id
    assert not decisions.can_appeal(session, decision)  # one appeal at a time
    reviewer_notice = session.scalar(select(Notification).where(Notification.template == "appeal_assigned"))
    assert reviewer_notice.account_id == ana.id
    with app.test_request_context():
        with pytest.raises(NotAllowed):
            decisions.decide(session, case, claim, actor=elena, outcome="approved", amount="900")
        with pytest.raises(NotAllowed):
            cases.assign(session, case, None, actor=elena)
        with pytest.raises(DomainError):
            cases.assign(session, case, elena, actor=victor)
        second = decisions.decide(session, case, claim, actor=ana, outcome="approved", amount="900.50",
                                  text="The January income is lower.")
    assert claim.status == st.APPROVED and appeal.status == "resolved" and second.on_appeal_id == appeal.id
    assert f"Decision on appeal no. {second.number}" in _pdf_text(second.letter_pdf)
    assert not decisions.can_appeal(session, second)  # after the appeal: the court


def test_appeal_without_another_worker_goes_to_the_supervisor(app, session, today):
    ion = person(session)
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    victor = staff(session, "Victor", "G", ("supervisor", "ATAS-CENTRU"))
    application = submitted(session, ion, ["social_aid"])
    claim = application.claims[0]
    case = session.get(AgencyCase, claim.case_id)
    with app.test_request_context():
        decision = decisions.decide(session, case, claim, actor=elena, outcome="rejected", reason_code="other",
                                    text="Declared income contradicts SFS.")
        appeal = decisions.appeal(session, decision, actor=ion, grounds="The SFS data is from last year.")
    assert appeal.reviewer_id == victor.id


def test_no_appeal_after_the_deadline(app, session, today):
    ion, *_, decision = _decided(app, session)
    clock.set_clock(lambda: dt.datetime(2026, 4, 3, 8, 0, tzinfo=dt.timezone.utc))  # 31 days later
    assert not decisions.can_appeal(session, decision)
    with app.test_request_context(), pytest.raises(DomainError):
        decisions.appeal(session, decision, actor=ion, grounds="Late, but please look again.")


# --- household case files -----------------------------------------------------------------------------------------

def test_one_case_file_per_household_with_plan_visits_notes_and_referrals(app, session, today):
    ion = person(session)
    wife = person(session, first="Ana", last="Rusu")
    elena = staff(session, "Elena", "V", ("case_worker", "ATAS-CENTRU"))
    olga = staff(session, "Olga", "T", ("case_worker", "CNAS"))
    sergiu = staff(session, "Sergiu", "B", ("case_worker", "ATAS-NORD-EST"))
    members = [{"idnp": ion.idnp, "first_name": "Ion", "last_name": "Rusu", "birth_date": "1988-03-14",
                "relation": "applicant"},
               {"idnp": wife.idnp, "first_name": "Ana", "last_name": "Rusu", "birth_date": "1990-01-01",
                "relation": "spouse"}]
    first = submitted(session, ion, ["social_aid"], members=members)
    case_file, created = casefiles.open_for_application(session, first, "ATAS-CENTRU", actor=elena)
    assert created and {m["idnp"] for m in case_file.members} == {ion.idnp, wife.idnp}
    # The spouse's own application later: the same household, the same file.
    second = submitted(session, wife, ["cold_season_aid"], members=[dict(members[1], relation="applicant"), members[0]])
    again, created = casefiles.open_for_application(session, second, "ATAS-CENTRU", actor=elena)
    assert again.id == case_file.id and not created
    with pytest.raises(NotAllowed):
        casefiles.open_for_application(session, first, "ATAS-CENTRU", actor=olga)

    casefiles.set_risk(session, case_file, "high", actor=elena, reason="Newborn, no income since January.")
    casefiles.assess(session, case_file, {"income": "serious", "children": "some"}, "Needs income support.",
                     actor=elena)
    casefiles.add_plan_item(session, case_file, actor=elena, kind="service", description="Social aid application",
                            responsible_agency="ATAS-CENTRU", due_on=dt.date(2026, 3, 20))
    casefiles.add_visit(session, case_file, actor=elena, visited_on=dt.date(2026, 3, 2), findings="Cold house.",
                        next_visit_on=dt.date(2026, 4, 2))
    with pytest.raises(DomainError):
        casefiles.add_visit(session, case_file, actor=elena, visited_on=dt.date(2026, 3, 9), findings="future",
                            next_visit_on=None)
    assert casefiles.file_for(session, case_file.ref, olga) is None  # not referred yet: invisible
    referral = casefiles.refer(session, case_file, "CNAS", "Birth allowance not claimed.", actor=elena)
    assert casefiles.file_for(session, case_file.ref, olga).id == case_file.id
    assert casefiles.file_for(session, case_file.ref, sergiu) is None
    with pytest.raises(NotAllowed):
        casefiles.set_risk(session, case_file, "low", actor=olga, reason="x")  # the referred agency does not keep the file
    casefiles.answer_referral(session, referral, True, "We contact the mother.", actor=olga)
    casefiles.add_note(session, case_file, "Called, appointment on Friday.", actor=olga)
    session.refresh(case_file)
    assert case_file.risk_level == "high" and case_file.assessments[0].areas["income"] == "serious"
    assert [p.description for p in case_file.plan] == ["Social aid application"]
    assert referral.status == "accepted" and len(case_file.notes) == 2 and len(case_file.visits) == 1
    casefiles.record_opening(session, case_file, actor=olga, purpose="referral")
    opened = session.scalar(select(AuditEvent).where(AuditEvent.action == "case_file_opened"))
    assert (opened.actor_idnp, opened.subject_idnp, opened.details["purpose"]) == (olga.idnp, ion.idnp, "referral")
    with pytest.raises(DomainError):
        casefiles.record_opening(session, case_file, actor=olga, purpose="curiosity")


# --- the demo and claims routed late -------------------------------------------------------------------------------

def test_demo_grants_every_back_office_role_and_seeds_the_rules(session):
    from devstack import demo
    from devstack.demo_people import STAFF
    from portal.accounts.models import RoleAssignment
    from portal.core.idnp import is_person_idnp

    demo.seed(session)
    roles = {r for (r,) in session.execute(select(RoleAssignment.role))}
    assert {"case_worker", "supervisor", "agency_admin", "analyst", "sysadmin"} <= roles
    assert all(is_person_idnp(p.idnp) for p in STAFF) and len({p.idnp for p in STAFF}) == len(STAFF)
    assert routing.latest(session).version == 1
    assert demo.seed(session) == 0  # idempotent


def test_a_claim_routed_after_submission_joins_its_agency_case(session, today):
    from portal.applications.models import Claim

    ion = person(session)
    application = submitted(session, ion, ["social_aid"])
    late = Claim(application=application, benefit_code="cold_season_aid", agency_code="", status="submitted")
    session.add(late)
    session.flush()
    assert cases.attach_unplaced(session) == 0  # no agency yet: nothing to place
    late.agency_code = "ATAS-CENTRU"
    session.flush()
    assert cases.attach_unplaced(session) == 1
    assert late.case_id == application.claims[0].case_id  # the same agency's case
    assert cases.attach_unplaced(session) == 0
