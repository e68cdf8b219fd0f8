"""Cross-checks: one test per check, as pure rules, then through submit() and the recheck sweep on the database."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from eligibility_helpers import couple_with_two_children
from portal import jobs
from portal.accounts.models import Account
from portal.applications import queries as application_queries
from portal.applications import services as applications
from portal.applications.models import Application, Claim, Evidence
from portal.assessment import services as assessment
from portal.assessment.models import ClaimAssessment, ClaimKey, RiskFlag
from portal.core import clock
from portal.eligibility import Child, Inputs, Member, evaluate
from portal.eligibility.checks import HIGH, MEDIUM, Match, cross_check, digest, keys_for, risk_level

ON = dt.date(2025, 12, 1)


def codes(flags) -> dict[str, str]:
    return {f.code: f.severity for f in flags}


def results(x: Inputs, *benefits):
    return {b: evaluate(b, x, ON) for b in benefits}


# --- the checks as pure rules ---------------------------------------------------------------------------------

def test_incompatible_benefits_in_one_application():
    x = couple_with_two_children(answers={"heating_source": "solid_fuel", "bank_interest": "0"})
    flags = cross_check(x, results(x, "cold_season_aid", "energy_compensation"), ON)
    incompatible = [f for f in flags if f.code == "incompatible_in_application"]
    assert {(f.benefit, f.params["other_benefit"]) for f in incompatible} == {
        ("cold_season_aid", "energy_compensation"), ("energy_compensation", "cold_season_aid")}
    assert all(f.severity == MEDIUM for f in incompatible)


def test_incompatible_benefit_claimed_by_another_household_member():
    x = couple_with_two_children()
    spouse = x.members[1]
    match = Match("energy_compensation", "ES-2025-0000009", spouse.idnp, spouse.idnp, "submitted")
    flags = cross_check(x, results(x, "cold_season_aid"), ON, matches=[match])
    (flag,) = [f for f in flags if f.code == "incompatible_in_household"]
    assert flag.params == {"number": "ES-2025-0000009", "person": "Ana Rusu", "other_benefit": "energy_compensation"}


def test_duplicate_application_by_the_same_applicant():
    x = couple_with_two_children()
    match = Match("social_aid", "ES-2025-0000001", x.applicant_idnp, x.members[2].idnp, "in_review")
    assert codes(cross_check(x, results(x, "social_aid"), ON, matches=[match])) == {"duplicate_application": MEDIUM}


def test_the_same_child_claimed_by_another_applicant():
    baby = Child("2025000000055", "Tatiana Rusu", dt.date(2025, 11, 1), "AN-1")
    x = Inputs(**{**couple_with_two_children().__dict__, "births": (baby,), "answers": {"child_idnp": baby.idnp}})
    other_parent = x.members[1].idnp
    match = Match("birth_allowance", "ES-2025-0000002", other_parent, baby.idnp, "submitted")
    flags = cross_check(x, results(x, "birth_allowance"), ON, matches=[match])
    assert codes(flags) == {"claimed_by_another": HIGH}
    assert flags[0].params["person"] == "Tatiana Rusu"


def test_a_benefit_cnas_already_pays():
    x = couple_with_two_children()
    paid = Member("2000000000022", "Ana Rusu", "spouse", dt.date(1990, 8, 22), paid_benefits=("child_care_allowance",))
    x = Inputs(**{**x.__dict__, "members": (x.members[0], paid) + x.members[2:]})
    flags = cross_check(x, results(x, "childcare_allowance"), ON)
    assert codes(flags) == {"already_paid": HIGH} and flags[0].params == {"person": "Ana Rusu",
                                                                          "paid": "child_care_allowance"}


def test_declared_data_contradicting_a_registry():
    x = Inputs(**{**couple_with_two_children().__dict__, "disputed": {"household": "Fiul nu mai locuiește cu noi."}})
    flags = cross_check(x, results(x, "social_aid"), ON)
    assert codes(flags) == {"declared_contradicts_registry": MEDIUM}
    assert flags[0].params == {"item": "household", "source": "rsp", "note": "Fiul nu mai locuiește cu noi."}
    # and a child chosen who is not among the births the civil register records
    x = Inputs(**{**couple_with_two_children().__dict__, "answers": {"child_idnp": "2999999999999"}})
    assert codes(cross_check(x, results(x, "birth_allowance"), ON)) == {"child_not_in_register": HIGH}


def test_a_deceased_applicant_or_member():
    x = couple_with_two_children()
    dead = Member("2000000000011", "Ion Rusu", "applicant", dt.date(1988, 3, 14), deceased_on=dt.date(2025, 11, 2))
    gone = Member("2000000000022", "Ana Rusu", "spouse", dt.date(1990, 8, 22), deceased_on=dt.date(2025, 10, 1))
    assert codes(cross_check(Inputs(**{**x.__dict__, "members": (dead,) + x.members[1:]}),
                             results(x, "social_aid"), ON)) == {"deceased_applicant": HIGH}
    flags = cross_check(Inputs(**{**x.__dict__, "members": (x.members[0], gone) + x.members[2:]}),
                        results(x, "social_aid"), ON)
    assert codes(flags) == {"deceased_member": HIGH} and flags[0].params == {"person": "Ana Rusu",
                                                                             "date": "2025-10-01"}


def test_income_above_the_threshold():
    x = couple_with_two_children(income="9000")
    flags = cross_check(x, results(x, "social_aid"), ON)
    assert codes(flags) == {"income_above_threshold": MEDIUM}
    assert flags[0].params == {"income": "9000", "threshold": "4320.00"}


@pytest.mark.parametrize("kind, count, flagged", [
    ("address", 4, False), ("address", 5, True), ("account", 2, False), ("account", 3, True)])
def test_the_same_address_or_bank_account_used_by_too_many_applicants(kind, count, flagged):
    x = couple_with_two_children()
    counts = {"address_applicants": count} if kind == "address" else {"account_applicants": count}
    flags = cross_check(x, results(x, "social_aid"), ON, **counts)
    assert (f"shared_{kind}" in codes(flags)) is flagged


def test_a_clean_household_raises_nothing_and_keys_are_stable():
    x = Inputs(**{**couple_with_two_children().__dict__, "address_key": "ialoveni|ialoveni|str. mare 1",
                  "answers": {"remittances": "0", "payment_account": "md24 ag00 0225 1000 1310 4168"}})
    assert cross_check(x, results(x, "social_aid"), ON) == []
    keys = keys_for("social_aid", x, ON)
    assert [k for k, _ in keys].count("member") == 4
    assert ("account", "MD24AG000225100013104168") in keys
    assert digest("member", "2000000000022") == digest("child", "2000000000022")  # one person, one key
    assert risk_level([MEDIUM, HIGH]) == 3 and risk_level([]) == 0


# --- through submit() and the recheck sweep ----------------------------------------------------------------

IALOVENI = {"raion_code": "ialoveni", "locality": "Ialoveni", "street": "Str. Mare 1", "country": "MD",
            "abroad": False, "foreign_address": None}


def payloads_for(applicant, members, *, income=2100.0, address=IALOVENI, births=(), deceased_on=None):
    first, last = applicant.first_name, applicant.last_name
    people = [{"idnp": applicant.idnp, "first_name": first, "last_name": last, "birth_date": "1988-03-14",
               "relation": "applicant"}] + [
        {"idnp": idnp, "first_name": name, "last_name": last, "birth_date": born, "relation": rel}
        for idnp, name, born, rel in members]
    return {
        "identity": {"idnp": applicant.idnp, "first_name": first, "last_name": last, "birth_date": "1988-03-14",
                     "sex": "M", "citizenship": "MD", "deceased_on": deceased_on},
        "address": dict(address),
        "household": {"members": people},
        "income": {"period_from": "2025-08-01", "period_to": "2025-10-31", "household_monthly_average": income,
                   "members": [{"idnp": applicant.idnp, "name": f"{first} {last}", "monthly_average": income,
                                "sources": []}]},
        "insurance": {"members": [{"idnp": p["idnp"], "name": p["first_name"], "insured_months_last_24": 0,
                                   "average_insured_income": 0.0, "pension": None, "benefits": []} for p in people]},
        "disability": {"members": []},
        "unemployment": {"members": []},
        "property": {"members": []},
        "births": {"children": [{"idnp": c[0], "first_name": c[1], "last_name": last, "birth_date": c[2],
                                 "record_number": "AN-2025-000001"} for c in births]},
    }


def send(session, account, benefits, payloads, answers=None):
    """An application filled from ``payloads`` (every item confirmed), sent through the real submit()."""
    account = session.merge(account)
    application = applications.start(session, actor=account, applicant=account, benefits=benefits, language="ro")
    for item, registry in applications.catalogue().items_for(benefits).items():
        session.add(Evidence(application=application, item=item, source=registry, status="fetched",
                             payload=payloads[item], fetched_at=clock.now(), confirmed=True))
    application.raion_code = payloads["address"]["raion_code"]
    base = {"remittances": "0", "heating_source": "gas", "bank_interest": "0", "childcare_option": "until_3"}
    applications.save_answers(session, application, {**base, **(answers or {})})
    session.flush()
    session.refresh(application)
    applications.submit(session, application, actor=account)
    session.commit()
    return application


def flags_of(session, application) -> dict[str, tuple[str, str]]:
    return {f.code: (f.severity, f.status) for f in session.scalars(
        select(RiskFlag).where(RiskFlag.application_id == application.id))}


def test_submit_keeps_the_result_and_raises_no_flag_for_a_clean_application(session, make_account):
    ion = make_account(first_name="Ion", last_name="Rusu")
    application = send(session, ion, ["social_aid"], payloads_for(ion, [("2000000000022", "Ana", "1990-08-22",
                                                                          "spouse")]))
    (claim,) = application.claims
    kept = session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))
    # 1,600 × 1.7 = 2,720 − 2,100 = 620 (the parameters in force on the day it was sent)
    assert kept.submitted_result["status"] == "eligible" and kept.submitted_result["amount"] == "620.00"
    assert kept.judged_on == application.submitted_at.date()
    assert flags_of(session, application) == {} and claim.risk_level == 0
    kinds = sorted(k.kind for k in session.scalars(select(ClaimKey).where(ClaimKey.claim_id == claim.id)))
    assert kinds == ["address", "member", "member"]


def test_two_parents_claiming_the_birth_allowance_for_the_same_child(session, make_account):
    mother = make_account(first_name="Natalia", last_name="Ceban")
    father = make_account(first_name="Petru", last_name="Ceban")
    child = ("2025000000066", "Sofia", (clock.today() - dt.timedelta(days=20)).isoformat())
    first = send(session, mother, ["birth_allowance"], payloads_for(mother, [], births=[child]),
                 {"child_idnp": child[0]})
    assert flags_of(session, first) == {}
    second = send(session, father, ["birth_allowance"], payloads_for(father, [], births=[child]),
                  {"child_idnp": child[0]})
    assert flags_of(session, second) == {"claimed_by_another": (HIGH, "open")}
    # the first application is flagged too, so both case workers see it
    session.expire_all()
    assert flags_of(session, first) == {"claimed_by_another": (HIGH, "open")}
    assert {c.risk_level for c in first.claims + second.claims} == {3}


def test_the_same_person_applying_twice(session, make_account):
    ion = make_account(first_name="Ion", last_name="Rusu")
    payloads = payloads_for(ion, [], income=500.0)
    send(session, ion, ["social_aid"], payloads)
    again = send(session, ion, ["social_aid"], payloads)
    assert flags_of(session, again) == {"duplicate_application": (MEDIUM, "open")}


def test_incompatible_benefits_across_household_members(session, make_account):
    ion = make_account(first_name="Ion", last_name="Rusu")
    ana = make_account(first_name="Ana", last_name="Rusu")
    send(session, ion, ["cold_season_aid"], payloads_for(ion, [(ana.idnp, "Ana", "1990-08-22", "spouse")]))
    hers = send(session, ana, ["energy_compensation"], payloads_for(ana, [(ion.idnp, "Ion", "1988-03-14", "spouse")]))
    assert flags_of(session, hers)["incompatible_in_household"] == (MEDIUM, "open")


def test_many_applicants_at_one_address_and_one_bank_account(session, make_account):
    account = "MD24AG000225100013104168"
    sent = []
    for i in range(5):
        person = make_account(first_name=f"Persoana{i}", last_name="Test")
        sent.append(send(session, person, ["social_aid"], payloads_for(person, []), {"payment_account": account}))
    assert "shared_account" not in flags_of(session, sent[1])  # two applicants: plausible (a couple)
    assert flags_of(session, sent[2])["shared_account"] == (HIGH, "open")  # a third: more than 2
    assert "shared_address" not in flags_of(session, sent[3])  # four households in one building: plausible
    assert flags_of(session, sent[4])["shared_address"] == (MEDIUM, "open")
    flag = session.scalar(select(RiskFlag).where(RiskFlag.application_id == sent[4].id,
                                                 RiskFlag.code == "shared_address"))
    assert flag.params == {"count": 5, "limit": "4"}


def test_income_above_the_threshold_at_submission(session, make_account):
    ion = make_account(first_name="Ion", last_name="Rusu")
    application = send(session, ion, ["social_aid"], payloads_for(ion, [], income=9000.0))
    assert flags_of(session, application) == {"income_above_threshold": (MEDIUM, "open")}


def test_the_sweep_rechecks_when_registry_data_changes(app, session, make_account):
    ion = make_account(first_name="Ion", last_name="Rusu")
    application = send(session, ion, ["social_aid"], payloads_for(ion, [], income=9000.0))
    assert flags_of(session, application) == {"income_above_threshold": (MEDIUM, "open")}
    assert jobs.run_once(app, "eligibility.recheck") == 0  # nothing new arrived
    application = session.get(Application, application.id)  # the sweep's app context ended the test's session

    # The population register now records the applicant's death, and the tax service a lower income.
    later = clock.now()
    for e in application.evidence:
        if e.item == "identity":
            e.payload = {**e.payload, "deceased_on": "2025-11-20"}
            e.fetched_at = later
        if e.item == "income":
            e.payload = {**e.payload, "household_monthly_average": 500.0}
            e.fetched_at = later
    session.commit()
    assert jobs.run_once(app, "eligibility.recheck") == 1
    assert jobs.run_once(app, "eligibility.recheck") == 0  # done once

    application = session.get(Application, application.id)
    assert flags_of(session, application) == {"deceased_applicant": (HIGH, "open"),
                                              "income_above_threshold": (MEDIUM, "resolved")}
    (claim,) = application.claims
    assert claim.risk_level == 3
    kept = session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))
    assert kept.submitted_result["status"] == "not_eligible"  # what the citizen saw stays
    assert kept.current_result["status"] == "eligible" and Decimal(kept.current_result["amount"]) == Decimal("1100.00")


def test_the_agency_queue_puts_the_riskiest_claims_first(session, make_account):
    clean = make_account(first_name="Ion", last_name="Curat")
    risky = make_account(first_name="Ion", last_name="Riscant")
    first = send(session, clean, ["social_aid"], payloads_for(clean, [], income=500.0))
    second = send(session, risky, ["social_aid"], payloads_for(risky, [], income=9000.0))
    queue = application_queries.agency_queue(session, {"ATAS-CENTRU"})
    assert [c.application_id for c in queue] == [second.id, first.id]


def test_clearing_a_flag_needs_a_reason_and_the_agency(app, session, make_account, grant_role):
    from portal.core.errors import DomainError, NotAllowed

    ion = make_account(first_name="Ion", last_name="Rusu")
    worker = make_account(first_name="Elena", last_name="Vasilache")
    stranger = make_account(first_name="Sergiu", last_name="Bodiu")
    grant_role(worker.idnp, "case_worker", "ATAS-CENTRU")
    grant_role(stranger.idnp, "case_worker", "ATAS-NORD-EST")
    application = send(session, ion, ["social_aid"], payloads_for(ion, [], income=9000.0))
    flag = session.scalar(select(RiskFlag).where(RiskFlag.application_id == application.id))
    worker, stranger = (session.scalar(select(Account).where(Account.idnp == a.idnp)) for a in (worker, stranger))
    with app.test_request_context(), pytest.raises(NotAllowed):  # the refusal's message is translated
        assessment.clear_flag(session, flag, actor=stranger, reason="nu e treaba mea")
    with app.test_request_context(), pytest.raises(DomainError):
        assessment.clear_flag(session, flag, actor=worker, reason="  ")
    assessment.clear_flag(session, flag, actor=worker, reason="Venit unic din vânzarea unei mașini.")
    session.commit()
    assert flag.status == "cleared" and session.get(Claim, flag.claim_id).risk_level == 0
    # A cleared flag stays cleared when the checks run again and find the same thing.
    income = next(e for e in application.evidence if e.item == "income")
    income.payload = {**income.payload, "household_monthly_average": 9100.0}
    assert assessment.recheck(session, session.get(Application, application.id))
    assert flag.status == "cleared" and flag.params["income"] == "9100.0"
