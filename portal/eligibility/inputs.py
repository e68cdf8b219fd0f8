"""The plain household the rules read, and the one adapter that builds it from an application.

The rules never see registry payloads or database rows: :func:`inputs_from_payloads` maps the
normalised evidence payloads (see :mod:`portal.registries.prefill`) and the applicant's answers
into an :class:`Inputs`; :func:`inputs_from_application` does the same from an application's
stored evidence.  A data item that was not received is absent from ``available``: a rule that
needs it cannot tell yet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

# The data items the rules read (what :func:`inputs_from_payloads` maps); nothing else needs asking to judge.
ITEMS = ("identity", "address", "household", "births", "income", "insurance", "disability", "unemployment")
ADULT_AGE = 18  # civil majority; used to tell adults from children (Civil Code, art. 20)


def age_on(birth_date: dt.date | None, on: dt.date) -> int | None:
    if birth_date is None:
        return None
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return max(years, 0)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (a child born on 15 May is 1 month old on 15 June)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True)
class Member:
    """One person of the household, with what the registries said about them."""

    idnp: str
    name: str
    relation: str  # applicant | spouse | child | parent | other
    birth_date: dt.date | None = None
    monthly_income: Decimal | None = None  # SFS average over the income period
    disability: str | None = None  # severe | accentuated | medium
    disability_valid_until: dt.date | None = None
    pension: Decimal | None = None
    pension_type: str | None = None  # age | disability | survivor | long_service
    insured_months_last_24: int | None = None
    average_insured_income: Decimal | None = None
    paid_benefits: tuple[str, ...] = ()  # CNAS benefit codes paid now
    unemployed: bool | None = None
    deceased_on: dt.date | None = None

    def age_on(self, on: dt.date) -> int | None:
        return age_on(self.birth_date, on)

    def is_child(self, on: dt.date) -> bool:
        age = self.age_on(on)
        return age is not None and age < ADULT_AGE

    def disabled_on(self, on: dt.date) -> str | None:
        """The degree of disability in force on ``on`` (a certificate past its term counts for nothing)."""
        if self.disability and (self.disability_valid_until is None or on <= self.disability_valid_until):
            return self.disability
        return None


@dataclass(frozen=True)
class Child:
    """A birth in the civil status register where the applicant is a parent."""

    idnp: str
    name: str
    birth_date: dt.date
    record_number: str = ""
    deceased_on: dt.date | None = None


@dataclass(frozen=True)
class Inputs:
    applicant_idnp: str
    members: tuple[Member, ...]  # the applicant first
    births: tuple[Child, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    available: frozenset[str] = frozenset()  # data items received from the registries
    sources: Mapping[str, str] = field(default_factory=dict)  # data item → registry code
    household_income: Decimal | None = None
    income_period: tuple[dt.date, dt.date] | None = None
    abroad: bool | None = None
    raion_code: str | None = None
    address_key: str | None = None  # locality and street, normalised (for cross-checks)
    documents: frozenset[str] = frozenset()
    disputed: Mapping[str, str] = field(default_factory=dict)  # data item → what the applicant says is wrong

    # -- data availability
    def has(self, *items: str) -> bool:
        return all(item in self.available for item in items)

    def source(self, item: str) -> str:
        return self.sources.get(item, item)

    def answer(self, code: str) -> Any:
        value = self.answers.get(code)
        return None if value in (None, "") else value

    def money_answer(self, code: str) -> Decimal | None:
        value = self.answer(code)
        if value is None:
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None

    # -- who is who
    @property
    def applicant(self) -> Member:
        return next((m for m in self.members if m.idnp == self.applicant_idnp), self.members[0])

    def children(self, on: dt.date) -> list[Member]:
        return [m for m in self.members if m.is_child(on)]

    def adults(self, on: dt.date) -> list[Member]:
        return [m for m in self.members if not m.is_child(on)]

    def parents(self) -> list[Member]:
        """The applicant and their spouse: who may claim for the couple's children."""
        return [m for m in self.members if m.relation in ("applicant", "spouse")]

    def chosen_child(self) -> Child | None:
        idnp = self.answer("child_idnp")
        return next((c for c in self.births if c.idnp == idnp), None) if idnp else None


# --- building inputs ---------------------------------------------------------------------------


def _d(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _by_idnp(payload: Mapping | None) -> dict[str, dict]:
    return {m["idnp"]: m for m in (payload or {}).get("members", []) if m.get("idnp")}


def normalise_address(payload: Mapping | None) -> str | None:
    """Raion, locality and street with number, in one case and spacing: the same dwelling gives the same key."""
    if not payload:
        return None
    parts = [payload.get("raion_code"), payload.get("locality"), payload.get("street")]
    if payload.get("abroad"):
        parts += [payload.get("country"), payload.get("foreign_address")]
    text = "|".join(" ".join(str(p).lower().split()) for p in parts if p)
    return text or None


def inputs_from_payloads(applicant_idnp: str, payloads: Mapping[str, Mapping | None], *,
                         sources: Mapping[str, str] | None = None, answers: Mapping[str, Any] | None = None,
                         documents: frozenset[str] | set[str] = frozenset(),
                         disputed: Mapping[str, str] | None = None) -> Inputs:
    """Inputs from the normalised payloads of the data items received (``None`` or absent: not received)."""
    got = {item: p for item, p in payloads.items() if p is not None}
    identity = got.get("identity") or {}
    household = got.get("household")
    income = _by_idnp(got.get("income"))
    insurance = _by_idnp(got.get("insurance"))
    disability = _by_idnp(got.get("disability"))
    unemployment = _by_idnp(got.get("unemployment"))

    if household and household.get("members"):
        people = [dict(m) for m in household["members"]]
    else:
        name = f"{identity.get('first_name', '')} {identity.get('last_name', '')}".strip()
        people = [{"idnp": applicant_idnp, "first_name": name, "last_name": "", "relation": "applicant",
                   "birth_date": identity.get("birth_date")}]
    people.sort(key=lambda m: m.get("relation") != "applicant")

    members = []
    for p in people:
        idnp = p["idnp"]
        ins = insurance.get(idnp, {})
        pension = ins.get("pension") or None
        dis = disability.get(idnp, {})
        deceased = p.get("deceased_on") or (identity.get("deceased_on") if idnp == applicant_idnp else None)
        members.append(Member(
            idnp=idnp,
            name=f"{p.get('first_name', '')} {p.get('last_name', '')}".strip(),
            relation=p.get("relation", "other"),
            birth_date=_date(p.get("birth_date") or (identity.get("birth_date") if idnp == applicant_idnp else None)),
            monthly_income=(_d(income[idnp].get("monthly_average")) if idnp in income
                            else Decimal(0) if "income" in got else None),
            disability=dis.get("degree"),
            disability_valid_until=_date(dis.get("valid_until")),
            pension=_d(pension.get("monthly")) if pension else None,
            pension_type=pension.get("type") if pension else None,
            insured_months_last_24=ins.get("insured_months_last_24"),
            average_insured_income=_d(ins.get("average_insured_income")),
            paid_benefits=tuple(b.get("code") for b in ins.get("benefits", []) if b.get("code")),
            unemployed=(idnp in unemployment) if "unemployment" in got else None,
            deceased_on=_date(deceased),
        ))

    births = tuple(
        Child(idnp=c["idnp"], name=f"{c.get('first_name', '')} {c.get('last_name', '')}".strip(),
              birth_date=_date(c["birth_date"]), record_number=c.get("record_number", ""),
              deceased_on=_date(c.get("deceased_on")))
        for c in (got.get("births") or {}).get("children", []))

    income_payload = got.get("income")
    address = got.get("address")
    period = None
    if income_payload and income_payload.get("period_from") and income_payload.get("period_to"):
        period = (_date(income_payload["period_from"]), _date(income_payload["period_to"]))
    return Inputs(
        applicant_idnp=applicant_idnp,
        members=tuple(members),
        births=births,
        answers=dict(answers or {}),
        available=frozenset(got),
        sources=dict(sources or {}),
        household_income=_d(income_payload.get("household_monthly_average")) if income_payload else None,
        income_period=period,
        abroad=bool(address.get("abroad")) if address else None,
        raion_code=address.get("raion_code") if address else None,
        address_key=normalise_address(address),
        documents=frozenset(documents),
        disputed=dict(disputed or {}),
    )


def inputs_from_application(application) -> Inputs:
    """Inputs from an application's stored evidence, answers and documents (reads attributes, runs no query)."""
    payloads, sources, disputed = {}, {}, {}
    for e in application.evidence:
        sources[e.item] = e.source
        if e.status == "fetched" and e.payload is not None:
            payloads[e.item] = e.payload
        if e.confirmed is False:
            disputed[e.item] = e.dispute_note or ""
    return inputs_from_payloads(application.applicant.idnp, payloads, sources=sources,
                                answers=application.answers or {},
                                documents={d.kind for d in application.documents}, disputed=disputed)
