"""Indemnizația unică la nașterea copilului (one-off birth allowance): Law 315/2016, art. 5; HG 1478/2002.

Paid once per child born alive and registered with ASP, to a parent, if claimed within the
claim window after the birth.  The amount is the one in force **on the child's birth date**
(20,000 lei for children born from 1 January 2024, 21,350 lei for those born in 2025…).
A child born abroad and not registered in Moldova is judged by the case worker from the
foreign certificate.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.eligibility.benefits._common import need
from portal.eligibility.inputs import Child, Inputs, add_months
from portal.eligibility.model import ONCE, Fact, Judgement, Result
from portal.eligibility.parameters import ParameterView

CODE = "birth_allowance"
FREQUENCY = ONCE
FOREIGN_CERTIFICATE = "foreign_birth_certificate"


def children_claimed(x: Inputs, on: dt.date, window_months: int) -> list[Child]:
    """The child chosen in the application, or else every living child whose claim window is still open."""
    chosen = x.chosen_child()
    if chosen is not None:
        return [chosen]
    return [c for c in x.births if c.deceased_on is None and c.birth_date <= on
            and on <= add_months(c.birth_date, window_months)]


def evaluate(x: Inputs, j: Judgement) -> Result:
    if not need(j, x, "births"):
        j.check("child_registered", None, Fact("child", None, "text", x.source("births")))
        return j.result(None, FREQUENCY)
    window = int(j.p("birth_allowance.claim_window_months"))
    wanted = x.answer("child_idnp")
    if wanted and x.chosen_child() is None:
        j.check("chosen_child_in_register", False, Fact("child_idnp", wanted, "text", "answer"))
        return j.result(None, FREQUENCY)
    children = children_claimed(x, j.on, window)
    if not children:
        if FOREIGN_CERTIFICATE in x.documents:
            j.check("foreign_certificate_to_verify", None, Fact("document", FOREIGN_CERTIFICATE, "code", "answer"))
            j.lacks(f"verification:{FOREIGN_CERTIFICATE}")
        else:
            j.check("child_registered", False, Fact("window_months", window, "months", "parameter"),
                    Fact("child", None, "text", x.source("births")))
        return j.result(None, FREQUENCY)
    total = Decimal(0)
    for child in children:
        deadline = add_months(child.birth_date, window)
        j.check("child_registered", True, Fact("child", child.name, "text", x.source("births")),
                Fact("birth_date", child.birth_date, "date", x.source("births")),
                Fact("record_number", child.record_number, "text", x.source("births")))
        in_time = j.check("claimed_within_window", child.birth_date <= j.on <= deadline,
                          Fact("birth_date", child.birth_date, "date", x.source("births")),
                          Fact("deadline", deadline, "date"), Fact("window_months", window, "months", "parameter"))
        if in_time:
            amount = j.p("birth_allowance.amount", on=child.birth_date)
            total += j.line("birth_allowance_for_child", amount, Fact("child", child.name, "text", x.source("births")),
                            Fact("birth_date", child.birth_date, "date", x.source("births")),
                            Fact("amount", amount, "lei", "parameter"))
    return j.result(total, FREQUENCY)


def beneficiaries(x: Inputs, p: ParameterView) -> list[tuple[str, str]]:
    """One allowance per child, whichever parent claims it."""
    window = int(p("birth_allowance.claim_window_months"))
    return [("child", c.idnp) for c in children_claimed(x, p.day, window)]
