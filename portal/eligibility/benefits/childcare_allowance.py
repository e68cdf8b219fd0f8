"""Indemnizația lunară pentru creșterea / îngrijirea copilului (monthly childcare allowance), paid by CNAS.

* An **insured** parent (enough contribution months in the last 24) receives a share of the
  average monthly insured income, at least a minimum, until the child reaches the age of the
  option chosen (until 3 by default; the 24- and 12-month options pay a larger share for less
  time).  Since 1 January 2024 the larger income of the two parents counts.
* Otherwise the **uninsured** parent receives a flat amount until the child is 2.
* Twins and other multiple births add a supplement for each further child.

A household already paid a childcare allowance by CNAS is not paid a second one.
"""
from __future__ import annotations

import datetime as dt

from portal.eligibility.benefits._common import need
from portal.eligibility.inputs import Child, Inputs, months_between
from portal.eligibility.model import MONTHLY, Fact, Judgement, Result
from portal.eligibility.parameters import ParameterView

CODE = "childcare_allowance"
FREQUENCY = MONTHLY
DEFAULT_OPTION = "until_3"  # the option the law applies when the parent chooses none
PAID_AS = ("child_raising_allowance", "child_care_allowance")  # CNAS codes of this allowance


def youngest_child(x: Inputs, on: dt.date) -> Child | None:
    living = [c for c in x.births if c.deceased_on is None and c.birth_date <= on]
    return max(living, key=lambda c: c.birth_date, default=None)


def evaluate(x: Inputs, j: Judgement) -> Result:
    on, p = j.on, j.p
    ready = need(j, x, "births", "insurance")
    already = sorted({b for m in x.members for b in m.paid_benefits if b in PAID_AS})
    j.check("not_already_paid", not already if x.has("insurance") else None,
            Fact("paid_benefits", already, "list", x.source("insurance")))
    if not ready:
        return j.result(None, FREQUENCY)
    child = youngest_child(x, on)
    if child is None:
        j.check("young_child", False, Fact("child", None, "text", x.source("births")))
        return j.result(None, FREQUENCY)
    age = months_between(child.birth_date, on)
    option = x.answer("childcare_option") or DEFAULT_OPTION
    minimum_months = p("childcare_allowance.min_insured_months")
    insured = [m for m in x.parents() if (m.insured_months_last_24 or 0) >= minimum_months]
    best = max((m.insured_months_last_24 or 0) for m in x.parents()) if x.parents() else 0
    twins = [c for c in x.births if c.birth_date == child.birth_date and c.deceased_on is None]

    if insured:
        j.check("insured_parent", True, Fact("insured_months", best, "months", x.source("insurance")),
                Fact("min_insured_months", minimum_months, "months", "parameter"))
        limits = p("childcare_allowance.age_limit_months")
        if not j.check("option_available", option in limits, Fact("option", option, "code", "answer")):
            return j.result(None, FREQUENCY)
        limit = limits[option]
        j.check("child_under_age_limit", age < limit, Fact("child", child.name, "text", x.source("births")),
                Fact("age_months", age, "months"), Fact("limit_months", limit, "months", "parameter"),
                Fact("option", option, "code", "answer" if x.answer("childcare_option") else "computed"))
        if p("childcare_allowance.best_of_both_parents"):
            base_parent = max(insured, key=lambda m: m.average_insured_income or 0)
        else:
            base_parent = x.applicant if x.applicant in insured else insured[0]
        base = base_parent.average_insured_income or 0
        rate = p("childcare_allowance.rate")[option]
        floor = p("childcare_allowance.minimum")[option]
        amount = j.line("insured_allowance", max(base * rate, floor),
                        Fact("base", base, "lei", x.source("insurance")),
                        Fact("parent", base_parent.name, "text", x.source("insurance")),
                        Fact("rate", rate, "share", "parameter"), Fact("minimum", floor, "lei", "parameter"))
    else:
        j.check("uninsured_parent_route", True, Fact("insured_months", best, "months", x.source("insurance")),
                Fact("min_insured_months", minimum_months, "months", "parameter"))
        limit = p("childcare_allowance.uninsured_age_limit_months")
        j.check("child_under_age_limit", age < limit, Fact("child", child.name, "text", x.source("births")),
                Fact("age_months", age, "months"), Fact("limit_months", limit, "months", "parameter"),
                Fact("option", "uninsured", "code"))
        flat = p("childcare_allowance.uninsured_amount")
        amount = j.line("uninsured_allowance", flat, Fact("amount", flat, "lei", "parameter"))
    if len(twins) > 1:
        supplement = p("childcare_allowance.multiple_birth_supplement")
        amount += j.line("multiple_birth_supplement", supplement * (len(twins) - 1),
                         Fact("further_children", len(twins) - 1, "count", x.source("births")),
                         Fact("supplement", supplement, "lei", "parameter"))
        j.line("childcare_total", amount)
    return j.result(amount, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    """One allowance per child, whichever parent claims it."""
    child = youngest_child(x, p.day)
    return [("child", child.idnp)] if child else []
