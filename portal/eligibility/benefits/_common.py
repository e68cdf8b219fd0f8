"""Small helpers the benefit rules share: what is needed, what the applicant answered, figures."""
from __future__ import annotations

from decimal import Decimal

from portal.eligibility.inputs import Inputs
from portal.eligibility.model import Fact, Judgement


def need(j: Judgement, x: Inputs, *items: str) -> bool:
    """True when every data item was received; otherwise note what is missing (the rule cannot tell yet)."""
    lacking = [item for item in items if not x.has(item)]
    j.lacks(*lacking)
    return not lacking


def answered(j: Judgement, x: Inputs, code: str):
    """The applicant's answer to question ``code``, or None (noted as missing)."""
    value = x.answer(code)
    if value is None:
        j.lacks(f"answer:{code}")
    return value


def money_answered(j: Judgement, x: Inputs, code: str) -> Decimal | None:
    value = x.money_answer(code)
    if value is None:
        j.lacks(f"answer:{code}")
    return value


def resident(j: Judgement, x: Inputs) -> bool | None:
    """The applicant's domicile is in Moldova (population register)."""
    if not need(j, x, "address"):
        return j.check("resident_in_moldova", None, Fact("abroad", None, "flag", x.source("address")))
    return j.check("resident_in_moldova", not x.abroad, Fact("abroad", x.abroad, "flag", x.source("address")))


def household_income(j: Judgement, x: Inputs) -> tuple[Decimal | None, list[Fact]]:
    """Income counted by the means tests: the tax service's monthly average plus remittances declared.

    Returns the total (None if a part is not known) and the facts to explain it.
    """
    remittances = money_answered(j, x, "remittances")
    registered = x.household_income if need(j, x, "income") else None
    facts = [Fact("household_income", registered, "lei", x.source("income")),
             Fact("remittances", remittances, "lei", "answer")]
    if registered is None or remittances is None:
        return None, facts + [Fact("income_total", None, "lei")]
    total = registered + remittances
    return total, facts + [Fact("income_total", total, "lei")]


def at_least(x: Inputs, threshold: Decimal | None) -> bool | None:
    """``False`` when the income the registries show already reaches ``threshold``: what the applicant has not
    answered yet (remittances) can only add to it; otherwise ``None`` (cannot tell yet)."""
    if threshold is None or not x.has("income") or x.household_income is None:
        return None
    return False if x.household_income >= threshold else None


def param(j: Judgement, name: str, value, unit: str) -> Fact:
    return Fact(name.rsplit(".", 1)[-1], value, unit, "parameter")
