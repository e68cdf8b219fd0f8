"""When a registry is down the citizen still applies; nothing is lost: a sweep fetches the pending data
later, routes the claims that waited for the address, and the case worker sees it arrive."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from devstack.demo_people import by_idnp
from portal import jobs
from portal.applications import status as st
from portal.core import clock
from portal.core.db import db
from portal.registries import pending
from portal.registries.models import DataAccess, PendingFetch
from registry_helpers import (answer_every_step, application, apply, csrf, in_english, person, point_portal_at, start,
                              submit)

pytest_plugins = ["registry_fixtures"]

ION = by_idnp("2005001000017")  # Ialoveni → ATAS Centru
ELENA = by_idnp("2005001000051")


def rows(app, ref) -> dict[str, PendingFetch]:
    with app.app_context():
        found = {p.item: p for p in db.session.scalars(select(PendingFetch).join(PendingFetch.application)
                                                       .where(PendingFetch.application.has(ref=ref)))}
        db.session.expunge_all()
        return found


def later(minutes: float) -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=minutes)


def sweep(app, now=None):
    with app.app_context():
        return pending.complete_due(app, now=now)


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def breaker_time(app, portal_registries):
    """The portal's gateway with a clock of ours for its circuit breakers: tests wait out a cool-down at once."""
    from portal.applications.prefill import client as gateway
    from portal.registries.resilience import Breakers

    fake = FakeTime()
    with app.app_context():
        g = gateway()
        g.breakers = Breakers(g.breakers.failures, g.breakers.cooldown, monotonic=fake)
    return fake


@pytest.fixture
def ion(app, client, make_account, login):
    account = person(make_account, ION)
    login(client, account)
    in_english(client)
    return account


def test_population_register_down_the_citizen_still_applies_and_the_sweep_completes_it(
        app, client, ion, portal_registries, breaker_time, make_account, login, grant_role):
    portal_registries.fault("rsp", "down")
    ref = apply(client, ["social_aid", "birth_allowance"])
    a = application(app, ref)
    claims = {c.benefit_code: c for c in a.claims}
    # The birth allowance goes to CNAS wherever one lives; social aid waits for the raion of record.
    assert (claims["birth_allowance"].status, claims["birth_allowance"].agency_code) == ("submitted", "CNAS")
    assert (claims["social_aid"].status, claims["social_aid"].agency_code) == (st.AWAITING_DATA, "")
    waiting = rows(app, ref)
    assert {"identity", "address", "household", "income", "insurance", "property"} <= set(waiting)
    assert all(p.status == "waiting" for p in waiting.values())
    assert "births" not in waiting  # the civil register answered
    page = client.get(f"/applications/{ref}").get_data(as_text=True)
    assert "We are still waiting for some data from the state registries" in page
    assert "as soon as the population register gives your address" in page

    # Still down: nothing changes but the next attempt, later.
    # (Asked again, or not at all while the population register's breaker is open: the benefit choice page
    # already asked it ahead; and while the household is to come, nobody's income is asked.)
    assert sweep(app) == 0
    again = rows(app, ref)
    assert all(p.status == "waiting" and (p.attempts == 1 and p.next_attempt_at > clock.now() or p.attempts == 0)
               for p in again.values())
    assert application(app, ref).status == "submitted"

    # Back: the sweep gets everything, routes social aid, and the case worker sees what arrived.
    portal_registries.fault("rsp", "ok")
    assert jobs.run_once(app, "registries.pending_data") == 0  # not due yet: backoff
    breaker_time.now += 60  # and the population register's breaker, opened by the failures, cools down
    arrived = sweep(app, now=later(5))
    assert arrived == len(waiting)
    assert all(p.status == "done" for p in rows(app, ref).values())
    a = application(app, ref)
    claims = {c.benefit_code: c for c in a.claims}
    assert (claims["social_aid"].status, claims["social_aid"].agency_code) == ("submitted", "ATAS-CENTRU")
    assert a.raion_code == "ialoveni"
    evidence = {e.item: e for e in a.evidence}
    assert evidence["address"].status == "fetched" and evidence["income"].payload["members"]
    assert len(evidence["income"].payload["members"]) == 4  # the whole household, once it was known
    kinds = [e.to_status for e in a.events]
    assert kinds.count("data_received") == len(waiting)
    assert any(e.to_status == "submitted" and e.from_status == st.AWAITING_DATA for e in a.events)
    assert {n.kind for n in a.registry_notices} >= {"data_received", "routed"}
    with app.app_context():
        sweep_queries = db.session.scalars(select(DataAccess).where(DataAccess.purpose == "pending_data")).all()
        assert sweep_queries and all(q.actor_role == "system" and q.on_behalf_of_idnp == ION.idnp
                                     and q.application_ref == ref for q in sweep_queries)

    elena = person(make_account, ELENA)
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, elena)
    in_english(worker)
    queue = worker.get("/backoffice/").get_data(as_text=True)
    assert a.number in queue and "registry data changed" in queue
    import re

    case = worker.get(re.search(r'href="(/backoffice/cases/[^"]+)"', queue).group(1)).get_data(as_text=True)
    assert "What changed in the registry data" in case and "arrived from" in case
    seen = worker.post(f"/backoffice/applications/{ref}/registry-notices/seen",
                       data={"csrf_token": csrf(case), "next": "/backoffice/"})
    assert seen.status_code == 303
    assert all(n.seen_at is not None for n in application(app, ref).registry_notices)
    assert "registry data changed" not in worker.get("/backoffice/").get_data(as_text=True)


def test_a_registry_down_for_some_items_holds_nothing_back_but_those(app, client, ion, portal_registries,
                                                                    breaker_time):
    portal_registries.fault("sfs", "error")
    ref = apply(client, ["social_aid"])
    a = application(app, ref)
    assert [c.status for c in a.claims] == ["submitted"] and a.claims[0].agency_code == "ATAS-CENTRU"
    assert set(rows(app, ref)) == {"income"}
    portal_registries.fault("sfs", "ok")
    assert sweep(app) == 0  # the breaker opened on the household's failed queries: not asked yet
    assert rows(app, ref)["income"].attempts == 0
    breaker_time.now += 30
    assert sweep(app) == 1
    assert {e.item: e.status for e in application(app, ref).evidence}["income"] == "fetched"


def test_the_sweep_does_not_ask_a_registry_whose_breaker_is_open(app, client, ion, portal_registries):
    portal_registries.fault("cnas", "error")
    ref = apply(client, ["birth_allowance"])
    assert set(rows(app, ref)) == {"insurance"}
    with app.app_context():
        from portal.applications.prefill import client as gateway

        breaker = gateway().breakers["cnas"]
        for _ in range(breaker.threshold):
            breaker.failure()
    asked = len(portal_registries.queries(registry="cnas"))
    assert sweep(app) == 0
    assert len(portal_registries.queries(registry="cnas")) == asked
    assert rows(app, ref)["insurance"].attempts == 0  # not even claimed


def test_a_registry_that_keeps_answering_nonsense_is_given_up_on_and_nothing_is_kept(app, client, ion,
                                                                                     portal_registries):
    portal_registries.fault("cnas", "down")
    ref = apply(client, ["birth_allowance"])
    portal_registries.fault("cnas", "malformed", variant="wrong_person")
    now = clock.now()
    for n in range(pending.MAX_MALFORMED):
        sweep(app, now=now)
        now += pending.backoff(n + 1) + dt.timedelta(seconds=1)
    row = rows(app, ref)["insurance"]
    assert (row.status, row.last_error, row.attempts) == ("failed", "malformed", pending.MAX_MALFORMED)
    a = application(app, ref)
    insurance = {e.item: e for e in a.evidence}["insurance"]
    assert insurance.status == "failed" and insurance.payload is None
    assert any(e.to_status == "data_failed" for e in a.events)
    assert a.claims[0].status == "submitted"


def test_two_sweeps_never_work_on_the_same_item(app, client, ion, portal_registries):
    portal_registries.fault("anofm", "down")
    ref = apply(client, ["social_aid"])
    portal_registries.fault("anofm", "ok")
    with app.app_context():
        from portal.core.db import session_scope

        with session_scope() as s:
            application_id = s.scalar(select(PendingFetch.application_id))
            first = pending._claim(s, application_id, clock.now(), None)
        with session_scope() as s:
            second = pending._claim(s, application_id, clock.now(), None)
    assert first and second == []
    assert rows(app, ref)["unemployment"].status == "fetching"
    assert sweep(app) == 0  # claimed by the other: left alone until its lease ends
    assert sweep(app, now=later(3)) == 1


@pytest.mark.parametrize("mode,variant", [("down", None), ("error", None), ("slow", None),
                                          ("malformed", "schema"), ("malformed", "truncated"),
                                          ("malformed", "wrong_person")])
@pytest.mark.parametrize("registry_code", ["rsp", "sfs"])
def test_every_fault_leaves_the_application_intact(app, client, ion, portal_registries, breaker_time, mode, variant,
                                                   registry_code):
    if mode == "slow":
        point_portal_at(app, portal_registries, timeout=0.3)
    portal_registries.fault(registry_code, mode, latency_ms=900 if mode == "slow" else None, variant=variant)
    location = start(client, ["social_aid"])
    ref = location.split("/")[2]
    a = application(app, ref)
    assert a.status == "draft" and a.benefits == ["social_aid"]
    evidence = {e.item: e for e in a.evidence}
    items = {"rsp": ("identity", "address", "household"), "sfs": ("income",)}[registry_code]
    expected = "failed" if mode == "malformed" else "pending"
    for item in items:
        assert evidence[item].status == expected and evidence[item].payload is None, item
    assert all(e.status == "fetched" for item, e in evidence.items()
               if item not in items and not (registry_code == "rsp" and item in pending_on_household()))
    page = client.get(location).get_data(as_text=True)
    assert page.count("<h2") >= 1 and ("did not answer" in page or "could not be used" in page
                                       or "Confirm" in page or "correct" in page)
    # The fault passes: asking again fills in the draft; nothing wrong was kept meanwhile.
    portal_registries.fault(registry_code, "ok")
    if mode == "slow":
        point_portal_at(app, portal_registries)
    breaker_time.now += 60  # whatever breaker the fault opened has cooled down
    refreshed = client.post(f"/applications/{ref}/refresh", data={"csrf_token": csrf(page), "next": location})
    assert refreshed.status_code == 303
    after = {e.item: e for e in application(app, ref).evidence}
    assert all(e.status == "fetched" for e in after.values())
    check = answer_every_step(client, location)
    assert submit(client, check).status_code == 303
    assert application(app, ref).status == "submitted"


def pending_on_household() -> tuple[str, ...]:
    return ("income", "insurance", "disability", "unemployment", "property")
