"""Compensația pentru vulnerabilitate energetică ("Ajutor la contor"): Law 241/2022, season by season.

Since the 2024–25 season the compensation is computed per household (no categories).  The
published inputs are income, household size, members' status and the main heating source; the
formula itself is not published, so eSocial uses this one, with every figure a parameter
marked as an EXAMPLE until confirmed::

    energy cost     = cost for the heating source + cost per further member × (members − 1)
    can afford      = affordable share × the household's monthly income
    need            = energy cost − can afford                 (vulnerable when > 0)
    compensation    = need × (1 + priority bonus × priority members), between the minimum and the cap

Priority members: children, people with a severe disability, age pensioners and the registered
unemployed.  Households heating with wood or coal receive a fixed amount once per season
instead.  Not for households whose bank interest last year exceeded the limit.
"""
from __future__ import annotations

from portal.eligibility.benefits._common import answered, household_income, money_answered, need, resident
from portal.eligibility.inputs import Inputs, Member
from portal.eligibility.model import ONCE, SEASON_MONTHLY, Fact, Judgement, Result, money
from portal.eligibility.parameters import ParameterView

CODE = "energy_compensation"
FREQUENCY = SEASON_MONTHLY
SOLID_FUEL = "solid_fuel"


def priority(m: Member, on) -> bool:
    return (m.is_child(on) or m.disabled_on(on) == "severe" or m.pension_type == "age" or bool(m.unemployed))


def evaluate(x: Inputs, j: Judgement) -> Result:
    on, p = j.on, j.p
    resident(j, x)
    ready = need(j, x, "household", "disability", "unemployment", "insurance")
    heating = answered(j, x, "heating_source")
    interest = money_answered(j, x, "bank_interest")
    limit = p.optional("energy_compensation.max_bank_interest")
    if limit is not None:
        j.check("bank_interest_within_limit", None if interest is None else interest <= limit,
                Fact("bank_interest", interest, "lei", "answer"), Fact("limit", limit, "lei", "parameter"))
    income, income_facts = household_income(j, x)
    costs = p("energy_compensation.base_cost")
    per_member = p("energy_compensation.cost_per_further_member")
    share = p("energy_compensation.affordable_share")
    if ready and income is None and x.has("income") and x.household_income is not None:
        # Not answered yet, but the registered income alone already pays the dearest heating: not vulnerable.
        dearest = (costs[heating] if heating in costs else max(costs.values())) + per_member * (len(x.members) - 1)
        if dearest - x.household_income * share <= 0:
            j.check("energy_vulnerable", False, Fact("energy_cost", dearest, "lei"),
                    Fact("affordable", money(x.household_income * share), "lei"))
            return j.result(None, FREQUENCY)
    if not ready or heating is None or income is None:
        j.check("energy_vulnerable", None, *income_facts)
        return j.result(None, FREQUENCY)

    n = len(x.members)
    cost = j.line("energy_cost", costs[heating] + per_member * (n - 1),
                  Fact("heating_source", heating, "code", "answer"),
                  Fact("base_cost", costs[heating], "lei", "parameter"),
                  Fact("members", n, "count", x.source("household")),
                  Fact("per_member", per_member, "lei", "parameter"))
    affordable = j.line("affordable_cost", income * share, *income_facts, Fact("share", share, "share", "parameter"))
    need_ = cost - affordable
    vulnerable = j.check("energy_vulnerable", need_ > 0, Fact("energy_cost", cost, "lei"),
                         Fact("affordable", affordable, "lei"))
    if not vulnerable:
        return j.result(None, FREQUENCY)
    if heating == SOLID_FUEL:
        fixed = p("energy_compensation.solid_fuel_amount")
        amount = j.line("solid_fuel_payment", fixed, Fact("amount", fixed, "lei", "parameter"))
        return j.result(amount, ONCE)
    bonus = p("energy_compensation.priority_bonus")
    count = sum(1 for m in x.members if priority(m, on))
    raw = j.line("need_with_priority", need_ * (1 + bonus * count), Fact("need", need_, "lei"),
                 Fact("priority_members", count, "count", x.source("household")),
                 Fact("bonus", bonus, "share", "parameter"))
    cap, floor = p("energy_compensation.monthly_cap"), p("energy_compensation.minimum")
    amount = j.line("within_cap_and_minimum", min(max(raw, floor), cap), Fact("minimum", floor, "lei", "parameter"),
                    Fact("cap", cap, "lei", "parameter"))
    return j.result(amount, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    """One compensation per household."""
    return [("member", m.idnp) for m in x.members]
