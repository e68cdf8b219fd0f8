"""The rules of each benefit, table-driven, with figures computed by hand from config/parameters.

No Flask, no database: households are built as plain inputs.  Dates are chosen on both sides of
parameter changes (VLMG on 1 April 2024, disability supplements on 1 October 2022, the birth
allowance on 1 January 2024/2025/2026, the uninsured childcare allowance on 1 October 2022, the
energy compensation season on 1 November 2025).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.eligibility import ELIGIBLE, NOT_ELIGIBLE, PENDING, RULES, Child, Inputs, Member, Result, evaluate, offers
from portal.eligibility.inputs import add_months, inputs_from_payloads, months_between

D = dt.date
ALL_ITEMS = frozenset({"identity", "address", "household", "income", "insurance", "disability", "unemployment",
                       "births"})
SOURCES = {"identity": "rsp", "address": "rsp", "household": "rsp", "income": "sfs", "insurance": "cnas",
           "disability": "cnddcm", "unemployment": "anofm", "births": "civil"}
_ids = iter(range(10_000, 99_999))


def member(relation="applicant", born=D(1985, 1, 1), **kw) -> Member:
    idnp = kw.pop("idnp", f"20000000{next(_ids):05d}")
    return Member(idnp=idnp, name=kw.pop("name", f"{relation} {idnp[-3:]}"), relation=relation, birth_date=born,
                  **kw)


def adult(relation="spouse", **kw) -> Member:
    return member(relation, kw.pop("born", D(1987, 6, 1)), **kw)


def child(born=D(2018, 5, 1), **kw) -> Member:
    return member("child", born, **kw)


def household(*members: Member, income="0", remittances="0", abroad=False, births=(), answers=None,
              available=ALL_ITEMS, documents=()) -> Inputs:
    members = members or (member(),)
    ans = {"remittances": remittances, **(answers or {})}
    if remittances is None:
        ans.pop("remittances")
    return Inputs(applicant_idnp=members[0].idnp, members=tuple(members), births=tuple(births), answers=ans,
                  available=frozenset(available), sources=SOURCES,
                  household_income=None if income is None else Decimal(income), abroad=abroad,
                  documents=frozenset(documents))


def judge(benefit, x, on) -> Result:
    return evaluate(benefit, x, on)


def outcome(result: Result) -> tuple:
    return result.status, result.amount


COUPLE_TWO_CHILDREN = (member(), adult(), child(D(2017, 1, 9)), child(D(2025, 4, 1)))

# --- social aid: VLMG × (1 + 0.7 per other adult + 0.5 per child + supplements) − income ---------------------

SOCIAL_AID = [
    # 1,600 × 2.7 = 4,320; − 2,100 = 2,220
    ("couple, two children, 2025", household(*COUPLE_TWO_CHILDREN, income="2100"), D(2025, 5, 1),
     (ELIGIBLE, Decimal("2220.00"))),
    # the day before the VLMG changed: 1,107 × 2.7 = 2,988.90; − 2,100 = 888.90
    ("same household, old VLMG", household(*COUPLE_TWO_CHILDREN, income="2100"), D(2024, 3, 31),
     (ELIGIBLE, Decimal("888.90"))),
    ("same household, new VLMG", household(*COUPLE_TWO_CHILDREN, income="2100"), D(2024, 4, 1),
     (ELIGIBLE, Decimal("2220.00"))),
    ("one person, no income", household(member(), income="0"), D(2025, 5, 1), (ELIGIBLE, Decimal("1600.00"))),
    # single mother: 1 + 0.5 + 0.1 = 1.6 × 1,600 = 2,560; income 1,500 + 300 remittances = 1,800 → 760
    ("single mother, remittances count", household(member(), child(), income="1500", remittances="300"),
     D(2025, 5, 1), (ELIGIBLE, Decimal("760.00"))),
    # spouse with a severe disability, before the supplements were differentiated: 1 + 0.7 + 0.3 = 2.0 × 1,107
    ("severe disability, before 1 Oct 2022", household(member(), adult(disability="severe"), income="1000"),
     D(2022, 9, 30), (ELIGIBLE, Decimal("1214.00"))),
    # and from 1 October 2022 (EXAMPLE +50%): 2.2 × 1,107 = 2,435.40 − 1,000
    ("severe disability, from 1 Oct 2022", household(member(), adult(disability="severe"), income="1000"),
     D(2022, 10, 1), (ELIGIBLE, Decimal("1435.40"))),
    # a certificate past its term adds nothing: 1.7 × 1,107 = 1,881.90 − 1,000
    ("expired certificate", household(member(), adult(disability="severe", disability_valid_until=D(2022, 1, 1)),
                                      income="1000"), D(2022, 10, 1), (ELIGIBLE, Decimal("881.90"))),
    # 1 + 0.5 + 0.5 (child, accentuated) + 0.1 = 2.1 × 1,600 = 3,360 < 4,000
    ("income above the minimum", household(member(), child(disability="accentuated"), income="4000"),
     D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("income equal to the minimum", household(member(), income="1600"), D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("lives abroad", household(member(), income="0", abroad=True), D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("remittances not answered", household(member(), income="0", remittances=None), D(2025, 5, 1), (PENDING, None)),
    ("income not received", household(member(), income=None, available=ALL_ITEMS - {"income"}), D(2025, 5, 1),
     (PENDING, None)),
]


@pytest.mark.parametrize("name, x, on, expected", SOCIAL_AID, ids=[c[0] for c in SOCIAL_AID])
def test_social_aid(name, x, on, expected):
    assert outcome(judge("social_aid", x, on)) == expected


def test_social_aid_explains_the_income_test_with_its_figures_and_sources():
    r = judge("social_aid", household(*COUPLE_TWO_CHILDREN, income="2100", remittances="150"), D(2025, 5, 1))
    income = next(c for c in r.conditions if c.code == "income_below_family_minimum")
    figures = {f.name: (f.value, f.source) for f in income.facts}
    assert figures["household_income"] == (Decimal("2100"), "sfs")
    assert figures["remittances"] == (Decimal("150"), "answer")
    assert figures["family_minimum"][0] == Decimal("4320.00")
    assert [s.code for s in r.calculation] == ["family_minimum", "social_aid_amount"]
    assert r.amount == Decimal("2070.00")
    vlmg = next(u for u in r.parameters if u.name == "social_aid.vlmg")
    assert (vlmg.value, vlmg.valid_from, vlmg.confirmed) == (Decimal("1600"), D(2024, 4, 1), False)


def test_pending_names_what_is_missing():
    r = judge("social_aid", household(member(), income="0", remittances=None), D(2025, 5, 1))
    assert r.missing == ("answer:remittances",) and r.likely
    r = judge("social_aid", household(member(), income=None, available=ALL_ITEMS - {"income"}), D(2025, 5, 1))
    assert "income" in r.missing and not r.likely


def test_an_income_the_registries_show_above_the_limit_needs_no_answer_to_say_no():
    """Remittances not answered yet can only add: registered income already over the limit is a "no" (so
    nobody is offered a means-tested benefit their registered income already rules out)."""
    rich = household(member(), income="30000", remittances=None, answers={"heating_source": "gas",
                                                                          "bank_interest": None})
    for code, on in (("social_aid", D(2025, 5, 1)), ("cold_season_aid", D(2025, 12, 1)),
                     ("energy_compensation", D(2025, 12, 1))):
        r = judge(code, rich, on)
        assert r.status == NOT_ELIGIBLE and not r.likely, code
    rich_no_heating = household(member(), income="30000", remittances=None)
    assert judge("energy_compensation", rich_no_heating, D(2025, 12, 1)).status == NOT_ELIGIBLE
    poor = household(member(), income="100", remittances=None)
    assert judge("social_aid", poor, D(2025, 5, 1)).likely  # still only waiting for the answer


# --- cold-season aid: income below VLMG for the family × 2.5 (EXAMPLE) → 350 lei a month ------------------

COLD = [
    # 4,320 × 2.5 = 10,800
    ("couple, two children", household(*COUPLE_TWO_CHILDREN, income="2100"), D(2025, 12, 1),
     (ELIGIBLE, Decimal("350.00"))),
    ("income at the limit", household(*COUPLE_TWO_CHILDREN, income="10800"), D(2025, 12, 1), (NOT_ELIGIBLE, None)),
    ("one person just under 4,000", household(member(), income="3999.99"), D(2025, 12, 1),
     (ELIGIBLE, Decimal("350.00"))),
    ("before the multiplier existed", household(member(), income="0"), D(2023, 3, 1), (PENDING, None)),
]


@pytest.mark.parametrize("name, x, on, expected", COLD, ids=[c[0] for c in COLD])
def test_cold_season_aid(name, x, on, expected):
    assert outcome(judge("cold_season_aid", x, on)) == expected


def test_a_date_with_no_parameters_says_so():
    r = judge("cold_season_aid", household(member(), income="0"), D(2023, 3, 1))
    condition = next(c for c in r.conditions if c.code == "parameters_in_force")
    assert condition.outcome == "unknown" and condition.fact("parameter") == "cold_season_aid.income_multiplier"


# --- one-off birth allowance: the amount in force on the child's birth date -------------------------------

def baby(born, **kw) -> Child:
    return Child(idnp=kw.pop("idnp", f"20260000{next(_ids):05d}"), name=kw.pop("name", "Baby"), birth_date=born,
                 record_number="AN-1", **kw)


def births_of(*children, chosen=None, **kw) -> Inputs:
    answers = {"child_idnp": chosen.idnp} if chosen else {}
    return household(member(), births=children, answers=answers, **kw)


B_2024 = baby(D(2024, 6, 1))
B_2023 = baby(D(2023, 12, 31))
B_2025 = baby(D(2025, 3, 1))
LATE = baby(D(2024, 1, 15))
TWIN_A, TWIN_B = baby(D(2025, 5, 5)), baby(D(2025, 5, 5))

BIRTH = [
    ("born in 2024", births_of(B_2024, chosen=B_2024), D(2024, 7, 1), (ELIGIBLE, Decimal("20000.00"))),
    ("born the day before 2024", births_of(B_2023, chosen=B_2023), D(2024, 2, 1), (ELIGIBLE, Decimal("10932.00"))),
    ("born in 2025, claimed in 2026", births_of(B_2025, chosen=B_2025), D(2026, 2, 1), (ELIGIBLE, Decimal("21350.00"))),
    ("claimed a day after 12 months", births_of(LATE, chosen=LATE), D(2025, 1, 16), (NOT_ELIGIBLE, None)),
    ("claimed on the last day", births_of(LATE, chosen=LATE), D(2025, 1, 15), (ELIGIBLE, Decimal("20000.00"))),
    ("twins, none chosen: both", births_of(TWIN_A, TWIN_B), D(2025, 6, 1), (ELIGIBLE, Decimal("42700.00"))),
    ("no birth registered", births_of(), D(2025, 6, 1), (NOT_ELIGIBLE, None)),
    ("born abroad, certificate uploaded", births_of(documents={"foreign_birth_certificate"}), D(2025, 6, 1),
     (PENDING, None)),
    ("register not answered", births_of(available=ALL_ITEMS - {"births"}), D(2025, 6, 1), (PENDING, None)),
]


@pytest.mark.parametrize("name, x, on, expected", BIRTH, ids=[c[0] for c in BIRTH])
def test_birth_allowance(name, x, on, expected):
    assert outcome(judge("birth_allowance", x, on)) == expected


def test_birth_allowance_refuses_a_child_not_in_the_register():
    x = household(member(), births=(B_2024,), answers={"child_idnp": "2999999999999"})
    r = judge("birth_allowance", x, D(2024, 7, 1))
    assert r.status == NOT_ELIGIBLE and r.failed()[0].code == "chosen_child_in_register"


# --- childcare allowance: 30% of the insured income (at least 740), or a flat amount if uninsured ------------

def parents(applicant_income="5000", spouse=None, months=20, **kw):
    out = [member(insured_months_last_24=months, average_insured_income=Decimal(applicant_income), **kw)]
    if spouse is not None:
        out.append(adult(insured_months_last_24=spouse[0], average_insured_income=Decimal(spouse[1])))
    return out


def with_child(people, born, *more_births, option=None):
    kids = (baby(born),) + more_births
    answers = {"childcare_option": option} if option else {}
    return household(*people, births=kids, answers=answers)


CHILDCARE = [
    ("insured, 30% of 5,000", with_child(parents("5000"), D(2025, 4, 1)), D(2025, 5, 1), (ELIGIBLE, Decimal("1500.00"))),
    ("insured, low income: the minimum", with_child(parents("2000"), D(2025, 4, 1)), D(2025, 5, 1),
     (ELIGIBLE, Decimal("740.00"))),
    ("12-month option: 90% (EXAMPLE)", with_child(parents("5000"), D(2025, 4, 1), option="months_12"), D(2025, 5, 1),
     (ELIGIBLE, Decimal("4500.00"))),
    ("12-month option, child 13 months", with_child(parents("5000"), D(2024, 4, 1), option="months_12"),
     D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    # before 2024 the applicant's own income counts: 30% × 3,000; from 2024 the larger parent's: 30% × 6,000
    ("two insured parents, 2023", with_child(parents("3000", spouse=(15, "6000")), D(2023, 11, 1)), D(2023, 12, 31),
     (ELIGIBLE, Decimal("900.00"))),
    ("two insured parents, 2024", with_child(parents("3000", spouse=(15, "6000")), D(2023, 11, 1)), D(2024, 1, 1),
     (ELIGIBLE, Decimal("1800.00"))),
    ("the 24-month option did not exist in 2023", with_child(parents("5000"), D(2023, 11, 1), option="months_24"),
     D(2023, 12, 1), (NOT_ELIGIBLE, None)),
    # uninsured (5 months < 9): 740 until 30 Sep 2022, 1,000 (EXAMPLE) from 1 Oct 2022
    ("uninsured, Sep 2022", with_child(parents("0", months=5), D(2021, 12, 1)), D(2022, 9, 30),
     (ELIGIBLE, Decimal("740.00"))),
    ("uninsured, Oct 2022", with_child(parents("0", months=5), D(2021, 12, 1)), D(2022, 10, 1),
     (ELIGIBLE, Decimal("1000.00"))),
    ("uninsured, child past 2 years", with_child(parents("0", months=5), D(2023, 3, 1)), D(2025, 5, 1),
     (NOT_ELIGIBLE, None)),
    # twins: 1,500 + 500 (EXAMPLE) for the second child
    ("twins", with_child(parents("5000"), D(2025, 4, 1), baby(D(2025, 4, 1))), D(2025, 5, 1),
     (ELIGIBLE, Decimal("2000.00"))),
    ("already paid by CNAS", with_child(parents("5000", paid_benefits=("child_raising_allowance",)), D(2025, 4, 1)),
     D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("no child", household(*parents("5000")), D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("insurance not received", household(*parents("5000"), births=(baby(D(2025, 4, 1)),),
                                         available=ALL_ITEMS - {"insurance"}), D(2025, 5, 1), (PENDING, None)),
]


@pytest.mark.parametrize("name, x, on, expected", CHILDCARE, ids=[c[0] for c in CHILDCARE])
def test_childcare_allowance(name, x, on, expected):
    assert outcome(judge("childcare_allowance", x, on)) == expected


# --- state social allowance for persons with disabilities (EXAMPLE amounts from 1 April 2024) ---------------

DISABILITY = [
    ("adult, severe", household(member(disability="severe")), D(2025, 5, 1), (ELIGIBLE, Decimal("1500.00"))),
    ("adult, medium", household(member(disability="medium", disability_valid_until=D(2026, 1, 1))), D(2025, 5, 1),
     (ELIGIBLE, Decimal("900.00"))),
    ("adult with an age pension", household(member(disability="accentuated", pension=Decimal("2600"),
                                                   pension_type="age")), D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("certificate expired", household(member(disability="medium", disability_valid_until=D(2025, 1, 1))),
     D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("parent for a disabled child", household(member(), child(D(2015, 1, 1), disability="severe")), D(2025, 5, 1),
     (ELIGIBLE, Decimal("1900.00"))),
    ("lives abroad", household(member(disability="severe"), abroad=True), D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("already paid", household(member(disability="severe", paid_benefits=("state_social_allowance",))),
     D(2025, 5, 1), (NOT_ELIGIBLE, None)),
    ("before the amounts were set", household(member(disability="severe")), D(2024, 3, 31), (PENDING, None)),
]


@pytest.mark.parametrize("name, x, on, expected", DISABILITY, ids=[c[0] for c in DISABILITY])
def test_disability_allowance(name, x, on, expected):
    assert outcome(judge("disability_allowance", x, on)) == expected


# --- energy vulnerability compensation (individual formula, EXAMPLE figures; cap 1,400 → 1,000 on 1 Nov 2025) ---

def energy(*people, income, heating="gas", interest="0"):
    return household(*people, income=income, answers={"heating_source": heating, "bank_interest": interest})


ENERGY = [
    # cost 1,800 + 3 × 250 = 2,550; can pay 25% × 2,100 = 525; need 2,025 × (1 + 0.1 × 2 children) = 2,430 → cap
    ("family of four, 2025–26", energy(*COUPLE_TWO_CHILDREN, income="2100"), D(2025, 12, 1),
     (ELIGIBLE, Decimal("1000.00"))),
    ("family of four, 2024–25 cap", energy(*COUPLE_TWO_CHILDREN, income="2100"), D(2025, 10, 31),
     (ELIGIBLE, Decimal("1400.00"))),
    # pensioner alone, electricity: 1,400 − 650 = 750 × 1.1 = 825
    ("pensioner alone", energy(member(pension=Decimal("2600"), pension_type="age"), income="2600",
                               heating="electricity"), D(2025, 12, 1), (ELIGIBLE, Decimal("825.00"))),
    # couple: 2,050 − 1,700 = 350; raised to the 500 minimum in 2025–26, not in 2024–25 (no minimum)
    ("small need, 2025–26 minimum", energy(member(), adult(), income="6800"), D(2025, 12, 1),
     (ELIGIBLE, Decimal("500.00"))),
    ("small need, 2024–25", energy(member(), adult(), income="6800"), D(2025, 10, 31), (ELIGIBLE, Decimal("350.00"))),
    ("can pay its energy", energy(member(), adult(), income="9000"), D(2025, 12, 1), (NOT_ELIGIBLE, None)),
    ("wood or coal: once a season", energy(member(), income="2000", heating="solid_fuel"), D(2025, 12, 1),
     (ELIGIBLE, Decimal("800.00"))),
    ("bank interest over the limit", energy(member(), income="2000", interest="5000"), D(2025, 12, 1),
     (NOT_ELIGIBLE, None)),
    ("no interest limit in 2024–25", energy(member(), income="2000", interest="5000"), D(2025, 10, 31),
     (ELIGIBLE, Decimal("1300.00"))),
]


@pytest.mark.parametrize("name, x, on, expected", ENERGY, ids=[c[0] for c in ENERGY])
def test_energy_compensation(name, x, on, expected):
    assert outcome(judge("energy_compensation", x, on)) == expected


def test_energy_compensation_waits_for_the_heating_source_but_is_still_likely():
    r = judge("energy_compensation", household(*COUPLE_TWO_CHILDREN, income="2100", answers={"bank_interest": "0"}),
              D(2025, 12, 1))
    assert r.status == PENDING and r.missing == ("answer:heating_source",) and r.likely


# --- offers, adapters, results kept ---------------------------------------------------------------------------

def test_offers_are_what_the_household_likely_gets_minus_what_is_asked_and_what_is_incompatible():
    x = energy(*COUPLE_TWO_CHILDREN, income="2100")
    x = Inputs(**{**x.__dict__, "births": (baby(D(2025, 11, 1)),)})
    offered = {r.benefit for r in offers(x, D(2025, 12, 1), exclude={"social_aid"})}
    assert {"cold_season_aid", "birth_allowance", "childcare_allowance", "energy_compensation"} <= offered
    assert "social_aid" not in offered and "disability_allowance" not in offered
    # energy compensation replaces cold-season aid: asking for one never offers the other
    offered = {r.benefit for r in offers(x, D(2025, 12, 1), exclude={"energy_compensation"})}
    assert "cold_season_aid" not in offered


def test_results_survive_the_database_unchanged():
    for benefit in RULES:
        r = judge(benefit, energy(*COUPLE_TWO_CHILDREN, income="2100"), D(2025, 12, 1))
        assert Result.from_dict(r.to_dict()).to_dict() == r.to_dict()
        assert Result.from_dict(r.to_dict()).same_outcome(r)


def test_inputs_from_the_registries_payloads():
    payloads = {
        "identity": {"idnp": "2005001000017", "first_name": "Ion", "last_name": "Rusu", "birth_date": "1988-03-14",
                     "deceased_on": None},
        "address": {"raion_code": "ialoveni", "locality": "Ialoveni", "street": "Str.  Mare 1", "country": "MD",
                    "abroad": False, "foreign_address": None},
        "household": {"members": [
            {"idnp": "2005001000017", "first_name": "Ion", "last_name": "Rusu", "birth_date": "1988-03-14",
             "relation": "applicant"},
            {"idnp": "0997117000019", "first_name": "Ana", "last_name": "Rusu", "birth_date": "1990-08-22",
             "relation": "spouse"}]},
        "income": {"period_from": "2025-02-01", "period_to": "2025-04-30", "household_monthly_average": 2100.0,
                   "members": [{"idnp": "2005001000017", "name": "Ion Rusu", "monthly_average": 2100.0,
                                "sources": []}]},
        "insurance": {"members": [{"idnp": "0997117000019", "name": "Ana Rusu", "insured_months_last_24": 12,
                                   "average_insured_income": 4000.0, "pension": None,
                                   "benefits": [{"code": "child_care_allowance", "monthly": 1000.0}]}]},
        "disability": {"members": [{"idnp": "0997117000019", "name": "Ana Rusu", "degree": "medium",
                                    "valid_until": "2026-01-01"}]},
        "unemployment": {"members": []},
        "births": {"children": []},
    }
    x = inputs_from_payloads("2005001000017", payloads, sources=SOURCES, answers={"remittances": "100"})
    ion, ana = x.members
    assert (ion.relation, ion.monthly_income, ion.unemployed, ion.disability) == ("applicant", Decimal("2100.0"),
                                                                                 False, None)
    assert (ana.monthly_income, ana.insured_months_last_24, ana.paid_benefits) == (Decimal(0), 12,
                                                                                   ("child_care_allowance",))
    assert ana.disabled_on(D(2025, 12, 31)) == "medium" and ana.disabled_on(D(2026, 1, 2)) is None
    assert x.household_income == Decimal("2100.0") and x.money_answer("remittances") == Decimal("100")
    assert x.address_key == "ialoveni|ialoveni|str. mare 1" and x.abroad is False
    assert x.has("income", "births") and x.source("income") == "sfs"


def test_calendar_helpers():
    assert months_between(D(2025, 5, 15), D(2025, 6, 14)) == 0
    assert months_between(D(2025, 5, 15), D(2025, 6, 15)) == 1
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
