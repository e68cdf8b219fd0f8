"""Registry change events (MConnect Events, CloudEvents v1): the simulator's feed, and eSocial consuming it
once, updating open applications, telling the case worker and offering what a family newly qualifies for."""
from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from devstack.demo_people import by_idnp
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import db, session_scope
from portal.notifications.models import Notification
from portal.notifications.services import render
from portal.registries import events
from portal.registries.models import BenefitOffer, DataAccess, EventCursor, ReceivedEvent, RegistryNotice
from registry_helpers import CLIENT_ID, application, apply, csrf, in_english, person, point_portal_at, unpoint_portal

pytest_plugins = ["registry_fixtures"]

ION = by_idnp("2005001000017")
NATALIA = by_idnp("2005001000028")  # Soroca, single mother
MARIA = by_idnp("2005001000039")  # Chișinău, pensioner alone


@pytest.fixture
def sim(app, changing_registry):
    changing_registry.reset()
    requests.delete(f"{changing_registry.base_url}/_events", timeout=5)
    point_portal_at(app, changing_registry)
    with app.app_context(), session_scope() as s:  # start reading after what earlier tests published
        s.merge(EventCursor(feed=events.FEED, last_id=str(last_id(changing_registry))))
    yield changing_registry
    unpoint_portal(app)


def last_id(sim) -> int:
    response = requests.get(f"{sim.base_url}/events", params={"after": 10**9},
                            headers={"X-Road-Client": CLIENT_ID}, timeout=5)
    return int(response.headers["X-Events-Last-Id"])


def poll(app, **kw) -> dict:
    with app.app_context():
        return events.poll(app, wait=0, **kw)


def received(app) -> list[ReceivedEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(ReceivedEvent).order_by(ReceivedEvent.id)))
        db.session.expunge_all()
        return rows


def offers(app, idnp) -> list[BenefitOffer]:
    with app.app_context():
        rows = list(db.session.scalars(select(BenefitOffer).where(BenefitOffer.subject_idnp == idnp)))
        db.session.expunge_all()
        return rows


# --- the feed ----------------------------------------------------------------------------------------------------

def test_the_feed_serves_cloudevents_by_long_polling(sim):
    start = last_id(sim)
    response = requests.get(f"{sim.base_url}/events", params={"after": start},
                            headers={"X-Road-Client": CLIENT_ID}, timeout=5)
    assert response.status_code == 200 and response.json() == []
    assert response.headers["Content-Type"].startswith("application/cloudevents-batch+json")

    def later():
        time.sleep(0.3)
        sim.event(type="unemployment", idnp=MARIA.idnp)

    threading.Thread(target=later).start()
    began = time.perf_counter()
    # Asked to wait up to 30 s, the feed answers when the event comes: a client giving up after 10 s would fail.
    response = requests.get(f"{sim.base_url}/events", params={"after": start, "wait": 30},
                            headers={"X-Road-Client": CLIENT_ID}, timeout=10)
    assert time.perf_counter() - began >= 0.25  # it waited for the event, which came 0.3 s later
    batch = response.json()
    (event,) = batch
    assert event["specversion"] == "1.0" and event["id"] == str(start + 1)
    assert event["type"] == "md.gov.anofm.unemployment.registered" and event["source"] == "/MD/GOV/ANOFM/EMPLOYMENT"
    assert event["subject"] == event["partitionkey"] == MARIA.idnp
    assert event["time"].endswith("Z") and event["datacontenttype"] == "application/json"
    assert event["data"]["somer_inregistrat"] if "somer_inregistrat" in event["data"] else event["data"]["idnp"]
    # The registry serves the change the event announced.
    answer = requests.get(f"{sim.base_url}/r1/MD/GOV/ANOFM/EMPLOYMENT/unemployment/{MARIA.idnp}",
                          headers={"X-Road-Client": CLIENT_ID}, timeout=5).json()
    assert answer["somer_inregistrat"] is True
    assert sim.events(after=start + 1) == []


def test_the_feed_keeps_events_five_days_and_checks_its_input(sim):
    start = last_id(sim)
    sim.event(type="raw", event={"specversion": "1.0", "type": "x", "source": "/x", "time": "2020-01-01T00:00:00Z"})
    assert sim.events(after=start) == []  # older than the retention: gone
    for params in ({"after": "x"}, {"wait": "99"}, {"limit": "0"}):
        assert requests.get(f"{sim.base_url}/events", params=params, headers={"X-Road-Client": CLIENT_ID},
                            timeout=5).status_code == 400
    assert requests.get(f"{sim.base_url}/events", timeout=5).status_code == 400  # who asks?
    assert requests.post(f"{sim.base_url}/_events", json={"type": "birth", "parent": "123"},
                         timeout=5).status_code == 400
    assert requests.post(f"{sim.base_url}/_events", json={"type": "comet"}, timeout=5).status_code == 400


# --- consuming ---------------------------------------------------------------------------------------------------

def test_a_registered_birth_updates_the_open_application_and_offers_the_birth_allowance(
        app, client, make_account, login, sim, population):
    natalia = person(make_account, NATALIA)
    login(client, natalia)
    in_english(client)
    ref = apply(client, ["social_aid"])
    before = {e.item: e.payload for e in application(app, ref).evidence}

    event = sim.event(type="birth", parent=NATALIA.idnp, first_name="Sofia")
    child = event["subject"]
    counts = poll(app)
    assert counts.get("applied") == 1

    a = application(app, ref)
    household = {e.item: e for e in a.evidence}["household"].payload
    assert len(household["members"]) == len(before["household"]["members"]) + 1
    assert child in {m["idnp"] for m in household["members"]}
    (history,) = [e for e in a.events if e.to_status == "registry_event"]
    assert "Sofia" in history.note
    (notice,) = [n for n in a.registry_notices if n.kind == "registry_event"]
    assert notice.params["event"] == "birth" and notice.params["idnp"] == child

    (offer,) = [o for o in offers(app, NATALIA.idnp) if o.benefit_code == "birth_allowance"]
    assert (offer.key, offer.status, offer.answers, offer.reason) == (child, "offered", {"child_idnp": child}, "birth")
    assert "social_aid" not in {o.benefit_code for o in offers(app, NATALIA.idnp)}  # she already asked for it
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.account_id == natalia.id,
                                                            Notification.template == "benefit_offer",
                                                            Notification.channel == "email",
                                                            Notification.params["benefit"].as_string()
                                                            == "birth_allowance"))
        rendered = render(note)
    assert rendered.link.endswith(f"/offers/{offer.ref}") and "Sofia" in rendered.text
    assert "Sofia" in rendered.subject or "birth allowance" in rendered.subject.lower()

    # Consumed once: polling again, replaying the feed from the start, or a second poller change nothing.
    made = len(offers(app, NATALIA.idnp))
    assert poll(app) == {"stuck_retried": 0}
    with app.app_context(), session_scope() as s:
        s.get(EventCursor, events.FEED).last_id = str(int(event["id"]) - 1)
    assert poll(app).get("duplicate") == 1
    assert len(offers(app, NATALIA.idnp)) == made
    assert len([e for e in application(app, ref).events if e.to_status == "registry_event"]) == 1

    # The link starts an application already filled in, the child chosen.
    page = client.get(f"/offers/{offer.ref}").get_data(as_text=True)
    assert "Sofia" in page and "Start the application" in page
    started = client.post(f"/offers/{offer.ref}/accept", data={"csrf_token": csrf(page)})
    assert started.status_code == 303 and "/steps/" in started.headers["Location"]
    new_ref = started.headers["Location"].split("/")[2]
    new = application(app, new_ref)
    assert new.benefits == ["birth_allowance"] and new.answers["child_idnp"] == child
    births = {e.item: e for e in new.evidence}["births"].payload["children"]
    assert child in {c["idnp"] for c in births}
    assert {o.ref: o.status for o in offers(app, NATALIA.idnp)}[offer.ref] == "accepted"
    again = client.post(f"/offers/{offer.ref}/accept", data={"csrf_token": csrf(page)})  # a double click
    assert again.headers["Location"].split("/")[2] == new_ref
    with app.app_context():
        assert db.session.scalar(select(func.count(Application.id)).where(
            Application.applicant_id == natalia.id)) == 2


def test_two_pollers_at_once_handle_each_event_once(app, sim, make_account):
    make_account(idnp=MARIA.idnp, first_name="Maria", last_name="Lungu")
    sim.event(type="disability", idnp=MARIA.idnp, degree="severe")
    results = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        results.append(poll(app))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handled = sum(r.get("applied", 0) + r.get("no_application", 0) for r in results)
    assert handled == 1
    assert len([r for r in received(app) if r.type == "md.gov.cnddcm.disability.decided"]) == 1


def test_an_invalid_event_is_rejected_recorded_and_passed_over(app, sim):
    good = {"specversion": "1.0", "type": "md.gov.asp.rsp.death.registered", "source": "/MD/GOV/ASP/RSP",
            "subject": MARIA.idnp, "time": "2099-01-01T00:00:00Z",
            "data": {"idnp": MARIA.idnp, "nume": "Lungu", "prenume": "Maria", "data_decesului": "2099-01-01"}}
    broken = [
        {**good, "source": "/MD/GOV/ANOFM/EMPLOYMENT"},  # a registry publishing what is not its own
        {**good, "specversion": "0.3"},
        {**good, "subject": "123"},
        {**good, "time": "yesterday"},
        {**good, "type": "md.gov.something.else"},
        {**good, "data": {**good["data"], "idnp": NATALIA.idnp}},  # data about someone else
        {**good, "data": {"idnp": MARIA.idnp}},  # missing fields
    ]
    for event in broken:
        sim.event(type="raw", event=event)
    counts = poll(app)
    assert counts.get("rejected") == len(broken)
    rows = received(app)[-len(broken):]
    assert all(r.outcome == "rejected" and r.note for r in rows)
    with app.app_context():
        assert db.session.get(EventCursor, events.FEED).last_id == str(last_id(sim))
        assert db.session.scalar(select(func.count(RegistryNotice.id))) == 0


def test_a_feed_that_does_not_answer_moves_nothing(app, sim):
    sim.fault("events", "down")
    with app.app_context():
        before = db.session.get(EventCursor, events.FEED).last_id
    assert poll(app) == {"feed_unavailable": 1}
    with app.app_context():
        assert db.session.get(EventCursor, events.FEED).last_id == before
    sim.fault("events", "ok")


KINDS = ["death", "address", "disability", "unemployment"]
CANDIDATES: dict[int, list] = {}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_event_updates_the_open_application_and_tells_the_case_worker(
        app, client, make_account, login, sim, population, kind):
    # A household of several people in the simulator's own population, applying for social aid.
    pop = sim.state.population
    if id(pop) not in CANDIDATES:  # chosen once: the events change the households
        CANDIDATES[id(pop)] = [h for h in pop.households.values()
                               if len(h.member_idnps) >= 3 and not h.address.abroad and h.raion_code == "soroca"]
    household = CANDIDATES[id(pop)][KINDS.index(kind)]  # a household of its own per kind
    h_applicant = pop.person(household.applicant_idnp)
    account = make_account(idnp=h_applicant.idnp, first_name=h_applicant.first_name,
                           last_name=h_applicant.last_name)
    login(client, account)
    in_english(client)
    ref = apply(client, ["social_aid"])
    member = next(m for m in household.member_idnps if m != h_applicant.idnp)
    body = {"death": {"type": "death", "idnp": member},
            "address": {"type": "address", "idnp": h_applicant.idnp, "raion": "drochia", "locality": "Pelinia"},
            "disability": {"type": "disability", "idnp": member, "degree": "medium"},
            "unemployment": {"type": "unemployment", "idnp": member}}[kind]
    sim.event(**body)
    assert poll(app).get("applied") == 1
    a = application(app, ref)
    evidence = {e.item: e for e in a.evidence}
    if kind == "death":
        assert member not in {m["idnp"] for m in evidence["household"].payload["members"]}
    elif kind == "address":
        assert evidence["address"].payload["raion_code"] == "drochia" and a.raion_code == "drochia"
    elif kind == "disability":
        assert {m["idnp"]: m["degree"] for m in evidence["disability"].payload["members"]}[member] == "medium"
    else:
        assert member in {m["idnp"] for m in evidence["unemployment"].payload["members"]}
    assert [n.params["event"] for n in a.registry_notices if n.kind == "registry_event"] == [kind]
    assert any(e.to_status == "registry_event" for e in a.events)
    # the case worker of the agency sees it on the case page
    worker = make_account(first_name="Sergiu", last_name="Bodiu")
    from portal.accounts.models import RoleAssignment

    with app.app_context():
        db.session.add(RoleAssignment(idnp=worker.idnp, role="case_worker", agency_code="ATAS-NORD-EST"))
        db.session.commit()
    desk = app.test_client()
    login(desk, worker)
    in_english(desk)
    queue = desk.get("/backoffice/").get_data(as_text=True)
    case = desk.get(re.search(r'href="(/backoffice/cases/[^"]+)"', queue).group(1)).get_data(as_text=True)
    assert "What changed in the registry data" in case
    # the applicant already asked for social aid: it is never offered
    assert "social_aid" not in {o.benefit_code for o in offers(app, h_applicant.idnp)}


def test_an_event_about_nobody_we_know_is_recorded_and_nothing_else(app, sim, population):
    stranger = next(p for p in sim.state.population if p.alive and p.relation == "applicant"
                    and p.idnp not in {d.idnp for d in (ION, NATALIA, MARIA)} and not p.unemployed_since)
    sim.event(type="unemployment", idnp=stranger.idnp)
    assert poll(app).get("no_application") == 1
    assert received(app)[-1].outcome == "no_application"


# --- proactive offers after every kind of event: the eligibility rules decide -----------------------------------

USED: set[str] = set()  # households taken by a test of this module (the events change them)


def household_where(sim, test, *, size=(1, 99)):
    """A household of the simulator's own population outside Soroca (the test above takes Soroca's), living in
    Moldova, that ``test(members)`` accepts; taken once."""
    pop = sim.state.population
    for h in pop.households.values():
        members = [pop.person(m) for m in h.member_idnps]
        if (h.id in USED or h.address.abroad or h.raion_code == "soroca" or not size[0] <= len(members) <= size[1]
                or not test(members)):
            continue
        USED.add(h.id)
        return h, members
    pytest.skip("no such household in the synthetic population")


def adult(p, pop) -> bool:
    return p.age_on(pop.today) >= 18


def no_income(members) -> bool:
    return all(not p.incomes and p.insurance.pension is None for p in members)


def rich(members) -> bool:
    """Well above every means test, no one disabled, no young child: nothing to offer."""
    from portal.registries.prefill import income_period

    start, end = income_period(clock.today())
    monthly = sum(i.amount for p in members for i in p.incomes if start <= i.month <= end) / 3
    return monthly > 30000 and all(p.disability is None and p.unemployed_since is None for p in members)


def account_for(make_account, p, **extra):
    return make_account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name, email="x@example.md",
                        language="en", **extra)


def offer_notice(app, account, benefit):
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.account_id == account.id,
                                                            Notification.template == "benefit_offer",
                                                            Notification.channel == "email",
                                                            Notification.params["benefit"].as_string() == benefit))
        return render(note)


def test_a_disability_decision_offers_the_state_social_allowance(app, sim, make_account):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: all(adult(p, pop) and p.disability is None
                                                     and p.insurance.pension is None for p in ms), size=(1, 2))
    person = members[0]
    account = account_for(make_account, person)
    sim.event(type="disability", idnp=person.idnp, degree="accentuated")
    assert poll(app).get("applied") == 1
    made = {o.benefit_code: o for o in offers(app, person.idnp)}
    offer = made["disability_allowance"]
    assert (offer.key, offer.reason, offer.answers, offer.params["person_name"]) == (
        person.idnp, "disability", {}, person.name)
    rendered = offer_notice(app, account, "disability_allowance")
    assert f"decision on the disability of {person.name}" in rendered.text
    assert rendered.link.endswith(f"/offers/{offer.ref}")
    # Asked on the person's behalf, for this purpose, and only what the rules read.
    with app.app_context():
        rows = db.session.scalars(select(DataAccess).where(DataAccess.purpose == "proactive_offer")).all()
    assert rows and {r.on_behalf_of_idnp for r in rows} == {person.idnp}
    assert {r.service for r in rows} <= {"identity", "address", "household", "births", "income", "insurance",
                                         "disability", "unemployment"}


def test_a_disability_decision_for_a_child_offers_the_allowance_to_the_parents(app, sim, make_account):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: any(not adult(p, pop) and p.relation == "child" for p in ms)
                                 and all(p.disability is None and p.insurance.pension is None for p in ms))
    child = next(p for p in members if not adult(p, pop) and p.relation == "child")
    head = pop.person(h.applicant_idnp)
    sim.event(type="disability", idnp=child.idnp, degree="severe")
    assert poll(app).get("applied") == 1
    assert offers(app, child.idnp) == []  # a child is not offered anything; their parents are
    offer = {o.benefit_code: o for o in offers(app, head.idnp)}["disability_allowance"]
    assert (offer.key, offer.reason) == (child.idnp, "disability")


def test_an_unemployment_registration_offers_social_aid_when_the_rules_say_likely(app, sim, make_account):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: no_income(ms) and all(p.unemployed_since is None for p in ms)
                                 and adult(ms[0], pop))
    person = pop.person(h.applicant_idnp)
    account = account_for(make_account, person)
    sim.event(type="unemployment", idnp=person.idnp)
    assert poll(app).get("applied") == 1
    made = {o.benefit_code: o for o in offers(app, person.idnp)}
    assert made["social_aid"].key == "household" and made["social_aid"].reason == "unemployment"
    rendered = offer_notice(app, account, "social_aid")
    assert f"registered {person.name} as unemployed" in rendered.text
    # A second event of the household offers nothing again.
    sim.event(type="address", idnp=person.idnp, raion=h.raion_code, locality="Nouă")
    poll(app)
    assert {o.benefit_code for o in offers(app, person.idnp)} == set(made)


def test_an_address_change_offers_what_the_household_qualifies_for_and_has_not_claimed(
        app, client, sim, make_account, login):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: no_income(ms) and adult(ms[0], pop), size=(2, 6))
    person = pop.person(h.applicant_idnp)
    account = account_for(make_account, person)
    login(client, account)
    in_english(client)
    apply(client, ["social_aid"])  # asked already: never offered
    sim.event(type="address", idnp=person.idnp, raion="drochia", locality="Pelinia")
    assert poll(app).get("applied") == 1
    made = {o.benefit_code: o for o in offers(app, person.idnp)}
    assert "social_aid" not in made and made, made
    assert all(o.reason == "address" for o in made.values())
    code = next(iter(made))
    assert "recorded a new address" in offer_notice(app, account, code).text


def test_a_death_in_the_household_offers_the_survivors_what_they_now_qualify_for(
        app, client, sim, make_account, login):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: no_income(ms) and adult(ms[0], pop) and len(
        [p for p in ms if adult(p, pop)]) >= 2, size=(2, 6))
    head = pop.person(h.applicant_idnp)
    other = next(p for p in members if p.idnp != head.idnp and adult(p, pop))
    account = account_for(make_account, head)
    login(client, account)
    in_english(client)
    apply(client, ["social_aid"])
    sim.event(type="death", idnp=other.idnp)
    assert poll(app).get("applied") == 1
    made = {o.benefit_code: o for o in offers(app, head.idnp)}
    assert made and "social_aid" not in made and all(o.reason == "death" for o in made.values())
    assert f"death of {other.name}" in offer_notice(app, account, next(iter(made))).text


def test_when_the_rules_say_no_nothing_is_offered(app, sim, make_account):
    pop = sim.state.population
    h, members = household_where(sim, lambda ms: rich(ms) and all(adult(p, pop) for p in ms))
    person = pop.person(h.applicant_idnp)
    account_for(make_account, person)
    sim.event(type="unemployment", idnp=person.idnp)
    assert poll(app).get("no_application") == 1
    assert received(app)[-1].note == "0 application(s) updated, 0 offer(s) made"
    assert offers(app, person.idnp) == []
