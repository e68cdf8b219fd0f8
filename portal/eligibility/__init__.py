"""Eligibility as rules-as-code: pure rules, dated parameters, explained results.

No Flask, no database, no clock: every call takes the date ``on`` whose parameters apply (an
application is judged with the parameters in force on its date).  The public functions:

* :func:`evaluate` — one benefit for one household: eligible / not eligible / cannot tell yet,
  the amount, and every condition with the figures used and their source;
* :func:`offers` — the other benefits the household likely qualifies for, from the data at hand;
* :func:`inputs_from_application` — the one adapter from an application's evidence and answers.

The rules of each benefit are in :mod:`portal.eligibility.benefits`; the figures are in
``config/parameters/*.toml`` (see :mod:`portal.eligibility.parameters`).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from portal.eligibility.benefits import RULES
from portal.eligibility.inputs import Child, Inputs, Member, inputs_from_application, inputs_from_payloads
from portal.eligibility.model import (
    ELIGIBLE,
    NOT_ELIGIBLE,
    PENDING,
    Condition,
    Fact,
    Judgement,
    Result,
    Step,
)
from portal.eligibility.parameters import ParameterNotInForce, Parameters, default_parameters

__all__ = [
    "ELIGIBLE", "NOT_ELIGIBLE", "PENDING", "RULES", "Child", "Condition", "Fact", "Inputs", "Member", "Result",
    "Step", "UnknownBenefit", "beneficiaries", "benefits_with_rules", "evaluate", "inputs_from_application",
    "inputs_from_payloads", "offers",
]


class UnknownBenefit(KeyError):
    """No rules are written for this benefit code."""


def benefits_with_rules() -> tuple[str, ...]:
    return tuple(RULES)


def _rules(benefit_code: str):
    try:
        return RULES[benefit_code]
    except KeyError:
        raise UnknownBenefit(benefit_code) from None


def evaluate(benefit_code: str, inputs: Inputs, on: dt.date, parameters: Parameters | None = None) -> Result:
    """Judge ``benefit_code`` for the household ``inputs`` with the parameters in force on ``on``."""
    rules = _rules(benefit_code)
    j = Judgement(benefit_code, on, (parameters or default_parameters()).on(on))
    try:
        return rules.evaluate(inputs, j)
    except ParameterNotInForce as e:
        # The rules have no figures for this date (the benefit did not exist yet, or a season not set yet).
        j.check("parameters_in_force", None, Fact("parameter", e.name, "code", "parameter"),
                Fact("date", e.on, "date"))
        j.lacks(f"parameter:{e.name}")
        return j.result(None, rules.FREQUENCY)


def offers(inputs: Inputs, on: dt.date, exclude: Iterable[str] = (), parameters: Parameters | None = None
           ) -> list[Result]:
    """The benefits (other than ``exclude``) the household likely qualifies for, from the data at hand.

    "Likely" is :attr:`Result.likely`: eligible, or only waiting for the applicant's own answers.
    A benefit not granted together with one of ``exclude`` is not offered.
    """
    skip = set(exclude)
    # Nor a benefit not granted together with one already asked for (cross_checks.incompatible).
    pairs = (parameters or default_parameters()).on(on).optional("cross_checks.incompatible", ())
    skip |= {b for a, b in pairs if a in exclude} | {a for a, b in pairs if b in exclude}
    results = (evaluate(code, inputs, on, parameters) for code in RULES if code not in skip)
    return [r for r in results if r.likely]


def beneficiaries(benefit_code: str, inputs: Inputs, on: dt.date, parameters: Parameters | None = None
                  ) -> list[tuple[str, str]]:
    """Whom ``benefit_code`` would be paid for: ``(kind, idnp)`` pairs (member, child or person)."""
    try:
        return _rules(benefit_code).beneficiaries(inputs, (parameters or default_parameters()).on(on))
    except ParameterNotInForce:
        return [("member", inputs.applicant_idnp)]
