"""What a rule produces: a :class:`Result` with its explanation, and the :class:`Judgement` that builds it.

A result is language-neutral: conditions and calculation lines are codes with the figures they
used (each figure with its source: a registry code, ``answer`` for what the applicant told us,
``parameter`` or ``computed``).  :mod:`portal.assessment.explain` turns them into sentences in
ro/ru/en.  ``to_dict``/``from_dict`` keep a result in the database exactly as it was shown.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.eligibility.parameters import ParameterView, Use

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
PENDING = "pending"  # cannot tell yet: data not received or not answered
STATUSES = (ELIGIBLE, NOT_ELIGIBLE, PENDING)

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"

MONTHLY, ONCE, SEASON_MONTHLY = "monthly", "once", "season_monthly"

CENT = Decimal("0.01")
NUMERIC_UNITS = frozenset({"lei", "share", "months", "years", "days", "count"})


def money(value) -> Decimal:
    """Lei, rounded to the ban (half up), as payments are."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Fact:
    """A figure a rule used. ``value`` None means the figure is not known yet."""

    name: str
    value: Any
    unit: str = ""  # lei | share | months | years | days | count | date | text | code
    source: str = "computed"  # a registry code, "answer", "parameter" or "computed"

    def to_dict(self) -> dict:
        return {"name": self.name, "value": _plain(self.value), "unit": self.unit, "source": self.source}

    @classmethod
    def from_dict(cls, d: dict) -> "Fact":
        return cls(d["name"], _typed(d["value"], d.get("unit", "")), d.get("unit", ""), d.get("source", "computed"))


@dataclass(frozen=True)
class Condition:
    code: str
    outcome: str  # pass | fail | unknown
    facts: tuple[Fact, ...] = ()

    def fact(self, name: str) -> Any:
        return next((f.value for f in self.facts if f.name == name), None)


@dataclass(frozen=True)
class Step:
    """One line of the amount's calculation."""

    code: str
    amount: Decimal
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Result:
    benefit: str
    on: dt.date
    status: str
    amount: Decimal | None
    frequency: str
    conditions: tuple[Condition, ...]
    calculation: tuple[Step, ...] = ()
    parameters: tuple[Use, ...] = ()
    missing: tuple[str, ...] = ()  # data items not received ("income") or answers not given ("answer:remittances")

    @property
    def eligible(self) -> bool:
        return self.status == ELIGIBLE

    @property
    def likely(self) -> bool:
        """Eligible, or only waiting for the applicant's own answers (no condition failed, no registry pending)."""
        if self.status == ELIGIBLE:
            return True
        return (self.status == PENDING and bool(self.missing)
                and all(m.startswith("answer:") for m in self.missing))

    def failed(self) -> list[Condition]:
        return [c for c in self.conditions if c.outcome == FAIL]

    def to_dict(self) -> dict:
        return {
            "benefit": self.benefit,
            "on": self.on.isoformat(),
            "status": self.status,
            "amount": None if self.amount is None else str(self.amount),
            "frequency": self.frequency,
            "conditions": [{"code": c.code, "outcome": c.outcome, "facts": [f.to_dict() for f in c.facts]}
                           for c in self.conditions],
            "calculation": [{"code": s.code, "amount": str(s.amount), "facts": [f.to_dict() for f in s.facts]}
                            for s in self.calculation],
            "parameters": [{"name": u.name, "value": _plain(u.value), "unit": u.unit,
                            "valid_from": u.valid_from.isoformat(),
                            "valid_to": u.valid_to.isoformat() if u.valid_to else None,
                            "legal_basis": u.legal_basis, "confirmed": u.confirmed} for u in self.parameters],
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        return cls(
            benefit=d["benefit"],
            on=dt.date.fromisoformat(d["on"]),
            status=d["status"],
            amount=None if d.get("amount") is None else Decimal(d["amount"]),
            frequency=d.get("frequency", MONTHLY),
            conditions=tuple(Condition(c["code"], c["outcome"], tuple(Fact.from_dict(f) for f in c["facts"]))
                             for c in d.get("conditions", [])),
            calculation=tuple(Step(s["code"], Decimal(s["amount"]), tuple(Fact.from_dict(f) for f in s["facts"]))
                              for s in d.get("calculation", [])),
            parameters=tuple(Use(u["name"], _typed(u["value"], u["unit"]), u["unit"],
                                 dt.date.fromisoformat(u["valid_from"]),
                                 dt.date.fromisoformat(u["valid_to"]) if u.get("valid_to") else None,
                                 u["legal_basis"], u["confirmed"]) for u in d.get("parameters", [])),
            missing=tuple(d.get("missing", [])),
        )

    def same_outcome(self, other: "Result | None") -> bool:
        return other is not None and (self.status, self.amount) == (other.status, other.amount)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _typed(value: Any, unit: str) -> Any:
    if value is None:
        return None
    if unit in NUMERIC_UNITS and isinstance(value, str):
        return Decimal(value)
    if unit == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, dict):
        return {k: _typed(v, unit) for k, v in value.items()}
    return value


@dataclass
class Judgement:
    """Collects a rule's conditions and calculation, then gives the :class:`Result`.

    Three-valued: any failed condition makes the result *not eligible*; otherwise any unknown
    one makes it *pending* (cannot tell yet); otherwise *eligible*.
    """

    benefit: str
    on: dt.date
    p: ParameterView
    conditions: list[Condition] = field(default_factory=list)
    calculation: list[Step] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)

    def check(self, code: str, holds: bool | None, *facts: Fact) -> bool | None:
        """Record condition ``code``: ``holds`` True (pass), False (fail) or None (not known yet)."""
        outcome = UNKNOWN if holds is None else PASS if holds else FAIL
        self.conditions.append(Condition(code, outcome, tuple(facts)))
        return holds

    def line(self, code: str, amount, *facts: Fact) -> Decimal:
        """Record one line of the calculation; returns the amount, rounded to the ban."""
        amount = money(amount)
        self.calculation.append(Step(code, amount, tuple(facts)))
        return amount

    def lacks(self, *missing: str) -> None:
        self.missing.update(missing)

    @property
    def status(self) -> str:
        outcomes = {c.outcome for c in self.conditions}
        if FAIL in outcomes:
            return NOT_ELIGIBLE
        if UNKNOWN in outcomes:
            return PENDING
        return ELIGIBLE

    def result(self, amount, frequency: str = MONTHLY) -> Result:
        status = self.status
        return Result(
            benefit=self.benefit, on=self.on, status=status,
            amount=money(amount) if status == ELIGIBLE and amount is not None else None,
            frequency=frequency, conditions=tuple(self.conditions),
            calculation=tuple(self.calculation) if status == ELIGIBLE else (),
            parameters=tuple(self.p.used.values()),
            missing=tuple(sorted(self.missing)) if status == PENDING else (),
        )
