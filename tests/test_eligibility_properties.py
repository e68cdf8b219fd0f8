"""Properties of the rules, checked on many generated households (hypothesis)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.eligibility import ELIGIBLE, Inputs, Member, evaluate
from eligibility_helpers import ALL_ITEMS, SOURCES

DEGREES = st.sampled_from([None, None, None, "medium", "accentuated", "severe"])
DAYS = st.dates(min_value=dt.date(2020, 4, 1), max_value=dt.date(2027, 12, 31))
MONEY = st.decimals(min_value=0, max_value=60_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def households(draw):
    on = draw(DAYS)
    n_adults = draw(st.integers(1, 4))
    n_children = draw(st.integers(0, 5))
    people = []
    for i in range(n_adults):
        born = on.replace(day=1) - dt.timedelta(days=365 * draw(st.integers(19, 85)))
        people.append(Member(f"20000000{i:05d}", f"Adult {i}", "applicant" if i == 0 else "spouse" if i == 1
                             else "other", born, disability=draw(DEGREES),
                             pension=Decimal(2600) if draw(st.booleans()) else None, pension_type="age"))
    for i in range(n_children):
        born = on - dt.timedelta(days=draw(st.integers(0, 365 * 17)))
        people.append(Member(f"20100000{i:05d}", f"Child {i}", "child", born, disability=draw(DEGREES)))
    answers = {"remittances": str(draw(MONEY)), "heating_source": draw(st.sampled_from(
        ["gas", "central", "electricity", "solid_fuel"])), "bank_interest": "0"}
    x = Inputs(applicant_idnp=people[0].idnp, members=tuple(people), answers=answers, available=ALL_ITEMS,
               sources=SOURCES, household_income=draw(MONEY), abroad=False)
    return x, on


def amount(benefit: str, x: Inputs, on: dt.date) -> Decimal:
    r = evaluate(benefit, x, on)
    return r.amount if r.status == ELIGIBLE else Decimal(0)


def with_income(x: Inputs, income: Decimal) -> Inputs:
    return Inputs(**{**x.__dict__, "household_income": income})


def with_child(x: Inputs, on: dt.date, age_days: int) -> Inputs:
    kid = Member("2019999999999", "New child", "child", on - dt.timedelta(days=age_days))
    return Inputs(**{**x.__dict__, "members": x.members + (kid,)})


@settings(max_examples=150, deadline=None)
@given(households(), MONEY)
def test_more_income_never_increases_social_aid(case, extra):
    x, on = case
    assert amount("social_aid", with_income(x, x.household_income + extra), on) <= amount("social_aid", x, on)


@settings(max_examples=150, deadline=None)
@given(households(), st.integers(0, 365 * 17))
def test_adding_a_dependent_child_never_lowers_social_aid(case, age_days):
    x, on = case
    assert amount("social_aid", with_child(x, on, age_days), on) >= amount("social_aid", x, on)


@settings(max_examples=100, deadline=None)
@given(households(), MONEY)
def test_more_income_never_makes_a_household_eligible_for_cold_season_aid(case, extra):
    x, on = case
    richer = evaluate("cold_season_aid", with_income(x, x.household_income + extra), on)
    if richer.status == ELIGIBLE:
        assert evaluate("cold_season_aid", x, on).status == ELIGIBLE


@settings(max_examples=100, deadline=None)
@given(households(), MONEY)
def test_energy_compensation_stays_between_the_minimum_and_the_cap_and_falls_with_income(case, extra):
    x, on = case
    on = max(on, dt.date(2025, 11, 1))  # the 2025–26 season: minimum 500, cap 1,000
    r = evaluate("energy_compensation", x, on)
    if r.status == ELIGIBLE and r.frequency != "once":
        assert Decimal(500) <= r.amount <= Decimal(1000)
    assert amount("energy_compensation", with_income(x, x.household_income + extra), on) <= amount(
        "energy_compensation", x, on) or x.answers["heating_source"] == "solid_fuel"


@settings(max_examples=100, deadline=None)
@given(households())
def test_every_result_is_explained(case):
    x, on = case
    for benefit in ("social_aid", "cold_season_aid", "energy_compensation", "disability_allowance"):
        r = evaluate(benefit, x, on)
        assert r.conditions, benefit
        if r.status == ELIGIBLE:
            assert r.amount is not None and r.amount > 0 and r.calculation
        else:
            assert r.amount is None
