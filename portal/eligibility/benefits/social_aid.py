"""Ajutor social (social aid): Law 133/2008 on social aid; HG 1167/2008.

A family qualifies when its average monthly income is below the guaranteed minimum monthly
income for the family; it is paid the difference, every month::

    minimum for the family = VLMG × (1 for the applicant + 0.7 per other adult + 0.5 per child
                                     + disability supplements + the single-adult supplement)
    social aid             = minimum for the family − the family's average monthly income

The welfare score (proxy means test on assets and living conditions) is assessed by the social
assistant's inquiry, not here.
"""
from __future__ import annotations

from decimal import Decimal

from portal.eligibility.benefits._common import at_least, household_income, need, resident
from portal.eligibility.inputs import Inputs
from portal.eligibility.model import MONTHLY, Fact, Judgement, Result
from portal.eligibility.parameters import ParameterView

CODE = "social_aid"
FREQUENCY = MONTHLY


def family_minimum(j: Judgement, x: Inputs) -> Decimal | None:
    """The guaranteed minimum monthly income for this family (VLMG × weights), as a calculation line."""
    if not need(j, x, "household", "disability"):
        return None
    on, p = j.on, j.p
    vlmg = p("social_aid.vlmg")
    weights = p("social_aid.weights")
    for_adult = p("social_aid.disability_supplement_adult")
    for_child = p("social_aid.disability_supplement_child")

    adults, children = x.adults(on), x.children(on)
    others = [m for m in adults if m.idnp != x.applicant_idnp]
    base = weights["applicant"] + weights["adult"] * len(others) + weights["child"] * len(children)
    disability = sum((for_child[m.disabled_on(on)] if m.is_child(on) else for_adult[m.disabled_on(on)]
                      for m in x.members if m.disabled_on(on)), Decimal(0))
    single = Decimal(0)
    if len(adults) == 1 and children:
        single = p("social_aid.single_adult_supplement")
    total_weight = base + disability + single
    return j.line("family_minimum", vlmg * total_weight,
                  Fact("vlmg", vlmg, "lei", "parameter"),
                  Fact("applicant_weight", weights["applicant"], "share", "parameter"),
                  Fact("adult_weight", weights["adult"], "share", "parameter"),
                  Fact("child_weight", weights["child"], "share", "parameter"),
                  Fact("other_adults", len(others), "count", x.source("household")),
                  Fact("children", len(children), "count", x.source("household")),
                  Fact("disability_weight", disability, "share", x.source("disability")),
                  Fact("single_adult_weight", single, "share", "computed"),
                  Fact("total_weight", total_weight, "share"))


def evaluate(x: Inputs, j: Judgement) -> Result:
    resident(j, x)
    minimum = family_minimum(j, x)
    income, facts = household_income(j, x)
    known = income is not None and minimum is not None
    j.check("income_below_family_minimum", (income < minimum) if known else at_least(x, minimum),
            *facts, Fact("family_minimum", minimum, "lei"))
    amount = None
    if known and income < minimum:
        amount = j.line("social_aid_amount", minimum - income, Fact("family_minimum", minimum, "lei"),
                        Fact("income_total", income, "lei"))
    return j.result(amount, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    """Social aid is paid to the family: every member counts once, whoever applies."""
    return [("member", m.idnp) for m in x.members]
