"""Ajutor pentru perioada rece a anului (cold-season aid): Law 133/2008, art. 3.

A fixed monthly payment for the cold months to families whose income is below the minimum for
the family (see :mod:`social_aid`) multiplied by a factor, raised in 2023 to widen coverage.
Since the 2023–24 season the money for solid fuel is paid by the energy vulnerability
compensation instead (the cross-checks flag a family claiming both).
"""
from __future__ import annotations


from portal.eligibility.benefits import social_aid
from portal.eligibility.benefits._common import at_least, household_income, resident
from portal.eligibility.inputs import Inputs
from portal.eligibility.model import SEASON_MONTHLY, Fact, Judgement, Result
from portal.eligibility.parameters import ParameterView

CODE = "cold_season_aid"
FREQUENCY = SEASON_MONTHLY


def evaluate(x: Inputs, j: Judgement) -> Result:
    resident(j, x)
    minimum = social_aid.family_minimum(j, x)
    multiplier = j.p("cold_season_aid.income_multiplier")
    threshold = j.line("income_threshold", minimum * multiplier, Fact("family_minimum", minimum, "lei"),
                       Fact("multiplier", multiplier, "share", "parameter")) if minimum is not None else None
    income, facts = household_income(j, x)
    known = income is not None and threshold is not None
    j.check("income_below_threshold", (income < threshold) if known else at_least(x, threshold),
            *facts, Fact("threshold", threshold, "lei"))
    monthly = j.p("cold_season_aid.monthly_amount")
    months = j.p("cold_season_aid.season_months")
    amount = j.line("season_payment", monthly, Fact("monthly_amount", monthly, "lei", "parameter"),
                    Fact("season_months", months, "list", "parameter")) if known and income < threshold else None
    return j.result(amount, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    """Paid to the family, like social aid."""
    return [("member", m.idnp) for m in x.members]
