"""Alocația socială de stat (state social allowance) for persons with disabilities: Law 499/1999, paid by CNAS.

For residents with a disability certificate in force (CNDDCM) who have no insurance pension.
The monthly amount depends on the degree of disability, or is the child amount for a child.
The applicant claims for themselves when they hold a certificate; otherwise, as parent, for
their children under 18 who hold one.
"""
from __future__ import annotations

from decimal import Decimal

from portal.eligibility.benefits._common import need, resident
from portal.eligibility.inputs import Inputs, Member
from portal.eligibility.model import MONTHLY, Fact, Judgement, Result
from portal.eligibility.parameters import ParameterView

CODE = "disability_allowance"
FREQUENCY = MONTHLY
PAID_AS = ("state_social_allowance",)  # the CNAS code of this allowance


def persons(x: Inputs, on) -> list[Member]:
    """Who the allowance would be for: the applicant if disabled, else their disabled children."""
    if x.applicant.disabled_on(on):
        return [x.applicant]
    return [m for m in x.members if m.relation == "child" and m.is_child(on) and m.disabled_on(on)]


def evaluate(x: Inputs, j: Judgement) -> Result:
    on, p = j.on, j.p
    resident(j, x)
    if not need(j, x, "disability", "insurance"):
        j.check("disability_certificate", None, Fact("person", None, "text", x.source("disability")))
        return j.result(None, FREQUENCY)
    who = persons(x, on)
    if not who:
        j.check("disability_certificate", False, Fact("person", x.applicant.name, "text", x.source("disability")))
        return j.result(None, FREQUENCY)
    total = Decimal(0)
    for m in who:
        degree = m.disabled_on(on)
        j.check("disability_certificate", True, Fact("person", m.name, "text", x.source("disability")),
                Fact("degree", degree, "code", x.source("disability")),
                Fact("valid_until", m.disability_valid_until, "date", x.source("disability")))
        j.check("no_insurance_pension", m.pension is None, Fact("person", m.name, "text", x.source("insurance")),
                Fact("pension", m.pension, "lei", x.source("insurance")))
        paid = [b for b in m.paid_benefits if b in PAID_AS]
        j.check("not_already_paid", not paid, Fact("paid_benefits", paid, "list", x.source("insurance")))
        if m.is_child(on):
            amount = p("disability_allowance.child_amount")
            total += j.line("child_allowance", amount, Fact("person", m.name, "text"),
                            Fact("amount", amount, "lei", "parameter"))
        else:
            amount = p("disability_allowance.adult_amount")[degree]
            total += j.line("adult_allowance", amount, Fact("person", m.name, "text"),
                            Fact("degree", degree, "code", x.source("disability")),
                            Fact("amount", amount, "lei", "parameter"))
    return j.result(total, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    return [("person", m.idnp) for m in persons(x, p.day)]
