"""Acting on behalf: a parent for a minor child, a guardian for a ward, a representative under a mandate.

Authority is checked when acting starts, on every page and again at every submission; acting for someone
is always on screen and recorded (actor, applicant, channel, audit events).
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from devstack.demo_people import by_idnp
from inclusion_helpers import registries  # noqa: F401 - a fixture
from inclusion_helpers import answer_every_step, csrf, in_english, person, post, start, submit, text
from portal.applications.models import Application
from portal.audit.models import AuditEvent
from portal.core import clock
from portal.core.db import db
from portal.representation import rules
from portal.representation.models import Mandate, OnBehalf

pytest_plugins = ["registry_fixtures"]

SVETLANA = by_idnp("2005001000615")  # mother of Gheorghe, 9, severe disability
ION = by_idnp("2005001000017")
ANDREI = by_idnp("2005001000040")
MARIA = by_idnp("2005001000039")


def act(client, basis: str, key: str):
    return post(client, "/representation/act", {"basis": basis, "key": key}, page="/representation/")


def test_a_parent_applies_for_their_minor_child(app, client, make_account, login, registries, population):
    svetlana = person(make_account, SVETLANA)
    login(client, svetlana)
    in_english(client)
    child = next(p for p, relation in population.members(SVETLANA.idnp) if relation == "child")
    page = text(client.get("/representation/"))
    assert f"Act for {child.first_name} {child.last_name}" in page

    assert act(client, "parent", child.idnp).status_code == 303
    listing = text(client.get("/applications"))
    assert f"You are acting for {child.first_name} {child.last_name}" in listing and "your child" in listing

    check = answer_every_step(client, start(client, ["disability_allowance"]), email=SVETLANA.email)
    sent, ref = submit(client, check)
    assert sent.status_code == 303
    shown = text(client.get(f"/applications/{ref}"))
    assert (f"Sent by Svetlana Botnari, parent, on behalf of {child.first_name} {child.last_name}" in shown), shown
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        assert application.applicant.idnp == child.idnp and application.created_by.idnp == SVETLANA.idnp
        assert application.channel == "representative"
        assert db.session.scalar(select(OnBehalf.submitted_basis).where(
            OnBehalf.application_id == application.id)) == "parent"
        events = {e.action for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.actor_idnp == SVETLANA.idnp, AuditEvent.subject_idnp == child.idnp))}
        assert {"acting_started", "application_started_on_behalf", "application_submitted_on_behalf"} <= events
    # The civil status register was asked at the start and again at the submission.
    births = [e for e in registries.log() if "births" in (e.get("path") or e.get("service") or "")
              and e.get("user_id") == SVETLANA.idnp]
    assert len(births) >= 2, registries.log()[:3]

    # Back to her own account: the child's application is not hers to open any more.
    post(client, "/representation/stop", {}, page="/representation/")
    assert "You are acting for" not in text(client.get("/applications"))
    assert client.get(f"/applications/{ref}").status_code == 404


def test_nobody_acts_for_a_child_who_is_not_theirs(app, client, make_account, login, registries, population):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    other = next(p for p, relation in population.members(SVETLANA.idnp) if relation == "child")
    assert act(client, "parent", other.idnp).status_code == 409
    assert "You are acting for" not in text(client.get("/applications"))


def test_a_mandate_is_checked_at_every_submission(app, make_account, login, registries):
    andrei, ion = person(make_account, ANDREI), person(make_account, ION)
    grantor, grantee = app.test_client(), app.test_client()
    login(grantor, andrei)
    login(grantee, ion)
    in_english(grantor)
    in_english(grantee)

    until = (clock.today() + dt.timedelta(days=90)).isoformat()
    given = post(grantor, "/representation/mandates/new", {
        "grantee_idnp": ION.idnp, "services": ["cold_season_aid"], "valid_until": until, "agree": "y"})
    assert given.status_code == 303, text(given)[:1500]
    assert "Ion Rusu" in text(grantor.get("/representation/mandates"))
    with app.app_context():
        mandate = db.session.scalar(select(Mandate))
        assert (mandate.grantee_name, mandate.services) == ("Ion Rusu", ["cold_season_aid"])

    assert "Act for Andrei Munteanu" in text(grantee.get("/representation/"))
    assert act(grantee, "mandate", mandate.ref).status_code == 303
    apply_page = text(grantee.get("/apply"))
    assert "You are acting for Andrei Munteanu" in apply_page and "by mandate" in apply_page
    assert "Social aid" not in apply_page  # the mandate covers cold-season aid only
    check = answer_every_step(grantee, start(grantee, ["cold_season_aid"]), email=ANDREI.email)

    # The grantor revokes it before the representative sends: the submission is refused.
    page = grantor.get("/representation/mandates").get_data(as_text=True)
    assert grantor.post(f"/representation/mandates/{mandate.ref}/revoke",
                        data={"csrf_token": csrf(page)}).status_code == 303
    with app.test_request_context():
        from portal.applications import services

        application = db.session.scalar(select(Application).where(Application.ref == check.split("/")[2]))
        with pytest.raises(services.NotAllowed):
            services.submit(db.session, application, actor=db.session.merge(ion))
        db.session.rollback()
    # And on the next page the representative is back on their own account, told why.
    after = text(grantee.get("/applications"))
    assert "You are no longer acting for another person" in after and "You are acting for" not in after
    assert grantee.get(check).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Application).where(Application.ref == check.split("/")[2])).status == "draft"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mandate_revoked")) is not None


def test_an_expired_mandate_and_a_mandate_for_other_services_do_not_count(app, make_account, login, registries):
    from portal.representation import authority

    andrei, ion = person(make_account, ANDREI), person(make_account, ION)
    with app.test_request_context():
        from portal.representation import services

        grantor = db.session.merge(andrei)
        services.grant_mandate(db.session, grantor, grantee_idnp=ION.idnp, services=["birth_allowance"],
                               valid_until=clock.today() + dt.timedelta(days=10), language="ro",
                               grantee_record={"first_name": "Ion", "last_name": "Rusu"})
        db.session.commit()
        grantee = db.session.merge(ion)
        today = clock.today()
        assert authority.find(db.session, grantee, grantor, benefits=["birth_allowance"], today=today).basis == "mandate"
        assert authority.find(db.session, grantee, grantor, benefits=["social_aid"], today=today) is None
        assert authority.find(db.session, grantee, grantor, benefits=["birth_allowance"],
                              today=today + dt.timedelta(days=11)) is None


def test_a_guardian_acts_for_the_person_in_their_care_while_the_guardianship_lasts(
        app, client, make_account, login, registries):
    from portal.representation import services

    ion = person(make_account, ION)
    with app.app_context():
        ward = services.register_guardianship(
            db.session, guardian_idnp=ION.idnp, ward_idnp=MARIA.idnp, ward_first_name="Maria", ward_last_name="Lungu",
            ward_birth_date=dt.date(1951, 11, 20), authority="Autoritatea tutelară Chișinău",
            decision_number="AT-2024-117", decided_on=dt.date(2024, 3, 1), valid_from=dt.date(2024, 3, 1),
            valid_until=clock.today() + dt.timedelta(days=30), kind="curatorship")
        db.session.commit()
        ward_ref = ward.ref
    login(client, ion)
    in_english(client)
    assert "Act for Maria Lungu" in text(client.get("/representation/"))
    assert act(client, "guardian", ward_ref).status_code == 303
    assert "a person in your care" in text(client.get("/applications"))
    check = answer_every_step(client, start(client, ["cold_season_aid"]))

    later = clock.now() + dt.timedelta(days=31)  # the guardianship ended yesterday
    clock.set_clock(lambda: later)
    try:
        with app.test_request_context():
            from portal.applications import services as app_services

            application = db.session.scalar(select(Application).where(Application.ref == check.split("/")[2]))
            with pytest.raises(app_services.NotAllowed):
                app_services.submit(db.session, application, actor=db.session.merge(ion))
            db.session.rollback()
    finally:
        clock.set_clock(None)
    sent, ref = submit(client, check)  # while it lasts, it goes through
    assert sent.status_code == 303
    assert "legal guardian, on behalf of Maria Lungu" in text(client.get(f"/applications/{ref}"))


def test_rules():
    today = dt.date(2026, 6, 1)
    assert rules.is_minor(dt.date(2008, 6, 2), today) and not rules.is_minor(dt.date(2008, 6, 1), today)
    assert not rules.is_minor(None, today)
    assert rules.minor_children({"children": [
        {"idnp": "1", "birth_date": "2020-01-01"}, {"idnp": "2", "birth_date": "2000-01-01"},
        {"idnp": "3", "birth_date": "bad"}]}, today) == [{"idnp": "1", "birth_date": dt.date(2020, 1, 1)}]
    assert rules.covers(["a", "b"], ["a"]) and not rules.covers(["a"], ["a", "b"]) and rules.covers(None, ["x"])
    assert rules.mandate_in_force(today, today, None, None, today)
    assert not rules.mandate_in_force(today, today, "revoked", None, today)
    assert rules.mandate_end_problem(today, today) == "past"
    assert rules.mandate_end_problem(dt.date(2029, 6, 2), today) == "too_far"
    assert rules.mandate_end_problem(dt.date(2029, 6, 1), today) is None
    assert rules.mandate_end_problem(dt.date(2025, 1, 1), dt.date(2024, 2, 29)) is None
