"""Reminders: unanswered requests, decision deadlines, renewals; one per due event, whoever runs the sweep."""
import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.applications.models import Application, Claim, StatusEvent
from portal.core import clock
from portal.core.db import session_scope
from portal.notifications import reminders
from portal.notifications.models import Notification, Reminder
from portal.notifications.reminders import add_months, add_working_days, decision_due, subtract_working_days

UTC = dt.timezone.utc


@pytest.fixture
def at():
    """Set the clock: ``at(datetime)``."""
    def set_to(moment):
        clock.set_clock(lambda: moment)
    yield set_to
    clock.set_clock(None)


@pytest.fixture
def people(make_account, grant_role):
    applicant = make_account(first_name="Ion", email="ion@example.md", phone="+37369000001", language="ru")
    worker = make_account(first_name="Elena", email="elena@atas.md", phone=None)
    supervisor = make_account(first_name="Victor", email="victor@atas.md", phone=None)
    grant_role(worker.idnp, "case_worker", "ATAS-CENTRU")
    grant_role(supervisor.idnp, "supervisor", "ATAS-CENTRU")
    return dataclasses.make_dataclass("People", ["applicant", "worker", "supervisor"])(applicant, worker, supervisor)


def make_claim(applicant, *, benefit="social_aid", status="submitted", submitted=None, decided=None,
               assigned=None, number="ES-2025-0000001") -> int:
    with session_scope() as s:
        application = Application(applicant_id=applicant.id, created_by_id=applicant.id, number=number,
                                   status="submitted", benefits=[benefit],
                                   submitted_at=submitted or dt.datetime(2025, 3, 3, 8, tzinfo=UTC))
        s.add(application)
        s.flush()
        claim = Claim(application_id=application.id, benefit_code=benefit, agency_code="ATAS-CENTRU", status=status,
                      decided_at=decided, assigned_to_id=assigned,
                      created_at=submitted or dt.datetime(2025, 3, 3, 8, tzinfo=UTC))
        s.add(claim)
        s.flush()
        return claim.id


def ask(claim_id, when, question="Send the income certificate of your spouse."):
    with session_scope() as s:
        claim = s.get(Claim, claim_id)
        claim.status = "info_requested"
        s.add(StatusEvent(application_id=claim.application_id, claim_id=claim.id, from_status="in_review",
                          to_status="info_requested", note=question, created_at=when))


def notices(template=None):
    with session_scope() as s:
        q = select(Notification).order_by(Notification.id)
        if template:
            q = q.where(Notification.template == template)
        return list(s.scalars(q))


def run(settings):
    return reminders.run(settings)


# --- dates ----------------------------------------------------------------------------------------------------------

def test_working_days_skip_weekends():
    friday = dt.date(2025, 3, 7)
    assert add_working_days(friday, 1) == dt.date(2025, 3, 10)
    assert add_working_days(friday, 5) == dt.date(2025, 3, 14)
    assert subtract_working_days(dt.date(2025, 3, 10), 1) == friday
    assert decision_due(dt.date(2025, 3, 3), 40) == dt.date(2025, 4, 28)  # eight whole weeks
    assert decision_due(dt.date(2025, 3, 3), 10) == dt.date(2025, 3, 17)


def test_months_keep_the_day_or_take_the_last_one():
    assert add_months(dt.date(2025, 1, 15), 24) == dt.date(2027, 1, 15)
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2023, 12, 31), 2) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 11, 30), 12) == dt.date(2026, 11, 30)


def test_renewal_periods_come_from_the_catalogue():
    from portal.catalogue import load_catalogue

    cat = load_catalogue()
    assert cat.get("social_aid").renewal_months == 24
    assert cat.get("birth_allowance").renewal_months == 0  # one-off: nothing to renew


# --- a request for information left unanswered ---------------------------------------------------------------------

def test_an_unanswered_request_is_reminded_once_after_n_days(app, settings, people, at):
    asked = dt.datetime(2025, 3, 10, 9, tzinfo=UTC)
    claim_id = make_claim(people.applicant, status="in_review")
    ask(claim_id, asked)

    at(asked + dt.timedelta(days=settings.reminder_info_days) - dt.timedelta(minutes=1))
    assert run(settings)["info_unanswered"] == 0
    at(asked + dt.timedelta(days=settings.reminder_info_days))
    assert run(settings)["info_unanswered"] == 1
    assert run(settings)["info_unanswered"] == 0  # once per request
    at(asked + dt.timedelta(days=30))
    assert run(settings)["info_unanswered"] == 0

    sent = notices("info_reminder")
    assert sorted(n.channel for n in sent) == ["email", "portal", "sms"]
    assert {n.account_id for n in sent} == {people.applicant.id}
    assert sent[0].params["question"] == "Send the income certificate of your spouse."
    assert sent[0].params["asked_on"] == "2025-03-10" and sent[0].language == "ru"
    assert sent[0].application_id is not None

    # The agency asks again later: that is a new request, with its own reminder.
    ask(claim_id, asked + dt.timedelta(days=31), question="And the certificate from the school.")
    at(asked + dt.timedelta(days=40))
    assert run(settings)["info_unanswered"] == 1


def test_an_answered_request_is_not_reminded(app, settings, people, at):
    asked = dt.datetime(2025, 3, 10, 9, tzinfo=UTC)
    claim_id = make_claim(people.applicant, status="in_review")
    ask(claim_id, asked)
    with session_scope() as s:
        s.get(Claim, claim_id).status = "info_provided"
    at(asked + dt.timedelta(days=20))
    assert run(settings)["info_unanswered"] == 0


# --- the agency's legal deadline ---------------------------------------------------------------------------------

def test_deadline_near_goes_to_the_assigned_worker_then_passed_to_the_supervisor_too(app, settings, people, at):
    make_claim(people.applicant, status="in_review", assigned=people.worker.id)  # due 28 April 2025
    at(dt.datetime(2025, 4, 22, 12, tzinfo=UTC))  # four working days before
    assert run(settings) == {"info_unanswered": 0, "deadline_near": 0, "deadline_passed": 0, "renewal_due": 0}
    at(dt.datetime(2025, 4, 23, 12, tzinfo=UTC))  # three working days before
    assert run(settings)["deadline_near"] == 1
    assert run(settings)["deadline_near"] == 0
    near = notices("deadline_near")
    assert {n.account_id for n in near} == {people.worker.id}
    assert near[0].params["due_on"] == "2025-04-28"

    at(dt.datetime(2025, 4, 28, 20, tzinfo=UTC))  # the last day (already 29 April in UTC+3): not passed yet
    assert run(settings)["deadline_passed"] == 0
    at(dt.datetime(2025, 4, 29, 21, tzinfo=UTC))
    assert run(settings)["deadline_passed"] == 1
    assert run(settings)["deadline_passed"] == 0
    passed = notices("deadline_passed")
    assert {n.account_id for n in passed} == {people.worker.id, people.supervisor.id}


def test_an_unassigned_case_near_its_deadline_goes_to_the_supervisors(app, settings, people, at):
    make_claim(people.applicant, status="submitted")
    at(dt.datetime(2025, 4, 24, 12, tzinfo=UTC))
    assert run(settings)["deadline_near"] == 1
    assert {n.account_id for n in notices("deadline_near")} == {people.supervisor.id}


def test_decided_claims_and_claims_waiting_for_the_citizen_have_no_deadline_reminder(app, settings, people, at):
    make_claim(people.applicant, status="approved", decided=dt.datetime(2025, 4, 1, tzinfo=UTC))
    make_claim(people.applicant, status="info_requested", number="ES-2025-0000002")
    at(dt.datetime(2025, 5, 30, 12, tzinfo=UTC))
    written = run(settings)
    assert written["deadline_near"] == written["deadline_passed"] == 0


def test_staff_notices_link_to_the_back_office(app, settings, people, at):
    from portal.notifications.services import render

    make_claim(people.applicant, status="in_review", assigned=people.worker.id)
    at(dt.datetime(2025, 4, 29, 21, tzinfo=UTC))
    run(settings)
    [n] = [n for n in notices("deadline_passed") if n.channel == "email" and n.account_id == people.worker.id]
    with app.app_context():
        r = render(n)
    assert r.link == f"{settings.base_url}/backoffice/"
    assert "ES-2025-0000001" in r.subject


# --- renewals -----------------------------------------------------------------------------------------------------

def test_a_benefit_to_renew_is_reminded_once_within_the_notice_period(app, settings, people, at):
    decided = dt.datetime(2025, 1, 15, 10, tzinfo=UTC)
    make_claim(people.applicant, status="approved", decided=decided)  # social aid: 24 months → 15 January 2027
    make_claim(people.applicant, benefit="birth_allowance", status="approved", decided=decided,
               number="ES-2025-0000002")  # one-off: never
    at(dt.datetime(2026, 12, 15, 12, tzinfo=UTC))  # 31 days before
    assert run(settings)["renewal_due"] == 0
    at(dt.datetime(2026, 12, 16, 12, tzinfo=UTC))  # 30 days before
    assert run(settings)["renewal_due"] == 1
    at(dt.datetime(2027, 1, 10, 12, tzinfo=UTC))
    assert run(settings)["renewal_due"] == 0
    [n] = [n for n in notices("renewal_due") if n.channel == "portal"]
    assert n.params["renew_by"] == "2027-01-15" and n.params["benefit"] == "social_aid"
    with app.app_context():
        from portal.notifications.services import render

        assert render(n, language="en").link == f"{settings.base_url}/apply?benefit=social_aid"


def test_no_renewal_reminder_once_the_person_applied_again(app, settings, people, at):
    decided = dt.datetime(2025, 1, 15, 10, tzinfo=UTC)
    make_claim(people.applicant, status="approved", decided=decided)
    make_claim(people.applicant, status="submitted", submitted=dt.datetime(2026, 12, 1, tzinfo=UTC),
               number="ES-2026-0000009")
    at(dt.datetime(2026, 12, 20, 12, tzinfo=UTC))
    assert run(settings)["renewal_due"] == 0


# --- once per due event, whoever runs the sweep -----------------------------------------------------------------

def test_a_due_event_written_twice_is_written_once(app, settings, people, at):
    claim_id = make_claim(people.applicant, status="in_review")
    ask(claim_id, dt.datetime(2025, 3, 10, 9, tzinfo=UTC))
    at(dt.datetime(2025, 3, 20, 9, tzinfo=UTC))
    with session_scope() as s:
        [due] = reminders.due_reminders(s, settings)
    assert reminders.write(due) is True
    assert reminders.write(due) is False  # the unique key refuses it, and its notices with it
    assert len(notices("info_reminder")) == 3


def test_two_sweeps_at_once_remind_once(app, settings, people, at):
    for i in range(5):
        claim_id = make_claim(people.applicant, status="in_review", number=f"ES-2025-000010{i}")
        ask(claim_id, dt.datetime(2025, 3, 10, 9, tzinfo=UTC))
    at(dt.datetime(2025, 3, 20, 9, tzinfo=UTC))
    with session_scope() as s:
        due = reminders.due_reminders(s, settings)
    assert len(due) == 5
    start = threading.Barrier(2)
    results = []

    def sweep():
        start.wait()
        results.append(sum(reminders.write(d) for d in due))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(results) == 5
    with session_scope() as s:
        assert s.scalar(select(func.count(Reminder.id))) == 5
        assert s.scalar(select(func.count(Notification.id)).where(Notification.channel == "portal")) == 5


def test_the_sweep_is_registered_with_the_jobs(app, settings, people, at, monkeypatch):
    import importlib

    import portal.notifications.tasks as tasks

    assert "portal.notifications.tasks" in jobs.TASK_MODULES
    monkeypatch.setattr(jobs, "REGISTRY", {})  # other tests swap the registry: register into a fresh one
    importlib.reload(tasks)
    assert jobs.load_tasks()["notifications.reminders"].fn is tasks.send_reminders
    claim_id = make_claim(people.applicant, status="in_review")
    ask(claim_id, dt.datetime(2025, 3, 10, 9, tzinfo=UTC))
    at(dt.datetime(2025, 3, 20, 9, tzinfo=UTC))
    assert jobs.run_once(app, "notifications.reminders")["info_unanswered"] == 1
