"""Cross-checks: errors, overlaps and fraud signals, as pure rules.

:func:`cross_check` looks at one application (its :class:`~portal.eligibility.Inputs` and the
results of its benefits) and at what the database found about other applications (the
:class:`Match` list and two counts, gathered by :mod:`portal.assessment.services`), and returns
:class:`Flag` s, each with a severity and the figures of its reason.  The same finding always
gives the same ``key``, so running the checks again neither repeats a flag nor raises again one
that a case worker cleared.

Keys are what other applications are compared by (:func:`keys_for`): whom the benefit is for
(every member of the family, a child or a person, by IDNP), the home address and the bank
account.  Thresholds are parameters (``config/parameters/cross_checks.toml``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from portal.eligibility import RULES, beneficiaries
from portal.eligibility.inputs import Inputs
from portal.eligibility.model import FAIL, Result
from portal.eligibility.parameters import Parameters, default_parameters

LOW, MEDIUM, HIGH = "low", "medium", "high"
RISK = {None: 0, LOW: 1, MEDIUM: 2, HIGH: 3}  # a claim's risk level: its worst open flag

# Conditions that are income tests (a failure means "income above the threshold").
INCOME_CONDITIONS = ("income_below_family_minimum", "income_below_threshold")

PERSON_KINDS = ("member", "child", "person")  # keys that are a person's IDNP
ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str
    key: str
    benefit: str | None = None  # None: about the whole application (shown on each of its claims)
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """A claim of another application that shares a person with this one."""

    benefit: str  # the other claim's benefit
    number: str  # the other application's number
    applicant_idnp: str
    idnp: str  # the person both are about
    status: str


def digest(kind: str, value: str) -> str:
    """What is stored and compared: a hash, so the key table holds no readable address or account."""
    namespace = "person" if kind in PERSON_KINDS else kind
    return hashlib.sha256(f"{namespace}:{value}".encode()).hexdigest()


def normalise_account(value: str | None) -> str | None:
    if not value:
        return None
    return "".join(str(value).split()).upper() or None


def keys_for(benefit: str, x: Inputs, on: dt.date, parameters: Parameters | None = None) -> list[tuple[str, str]]:
    """``(kind, value)`` pairs a claim for ``benefit`` is compared by."""
    keys = list(beneficiaries(benefit, x, on, parameters))
    if x.address_key:
        keys.append((ADDRESS, x.address_key))
    account = normalise_account(x.answer("payment_account"))
    if account:
        keys.append((ACCOUNT, account))
    return keys


def _name_of(x: Inputs, idnp: str) -> str:
    member = next((m for m in x.members if m.idnp == idnp), None)
    if member:
        return member.name
    child = next((c for c in x.births if c.idnp == idnp), None)
    return child.name if child else idnp


def cross_check(x: Inputs, results: dict[str, Result], on: dt.date, *, matches: list[Match] = (),
                address_applicants: int = 1, account_applicants: int = 1,
                parameters: Parameters | None = None) -> list[Flag]:
    """Every flag for an application asking for ``results``' benefits.

    ``address_applicants`` and ``account_applicants`` count the distinct applicants (this one
    included, members of this household excluded) who used the same address or bank account.
    """
    p = (parameters or default_parameters()).on(on)
    flags: list[Flag] = []
    benefits = set(results)
    incompatible = [tuple(pair) for pair in p.optional("cross_checks.incompatible", ())]

    # 1. Benefits not granted together, in this application.
    for a, b in incompatible:
        if a in benefits and b in benefits:
            for mine, other in ((a, b), (b, a)):
                flags.append(Flag("incompatible_in_application", MEDIUM, f"incompatible:{other}", mine,
                                  {"other_benefit": other}))

    # 2. The same person in another application: a duplicate, someone else claiming, or an incompatible benefit.
    for m in matches:
        name = _name_of(x, m.idnp)
        for mine in benefits:
            if m.benefit == mine:
                if m.applicant_idnp == x.applicant_idnp:
                    flags.append(Flag("duplicate_application", MEDIUM, f"duplicate:{m.number}:{m.idnp}", mine,
                                      {"number": m.number, "person": name}))
                else:
                    flags.append(Flag("claimed_by_another", HIGH, f"claimed:{m.number}:{m.idnp}", mine,
                                      {"number": m.number, "person": name}))
            elif (mine, m.benefit) in incompatible or (m.benefit, mine) in incompatible:
                flags.append(Flag("incompatible_in_household", MEDIUM, f"incompatible:{m.number}:{m.benefit}", mine,
                                  {"number": m.number, "person": name, "other_benefit": m.benefit}))

    # 3. The benefit is already paid by CNAS to someone it is for (insurance register).
    for mine in benefits:
        paid_as = getattr(RULES.get(mine), "PAID_AS", ())
        for member in x.members:
            for code in member.paid_benefits:
                if code in paid_as:
                    flags.append(Flag("already_paid", HIGH, f"paid:{member.idnp}:{code}", mine,
                                      {"person": member.name, "paid": code}))

    # 4. What the applicant declared contradicts a registry.
    for item, note in sorted(x.disputed.items()):
        flags.append(Flag("declared_contradicts_registry", MEDIUM, f"disputed:{item}", None,
                          {"item": item, "source": x.source(item), "note": note}))
    wanted = x.answer("child_idnp")
    if wanted and x.has("births") and x.chosen_child() is None:
        flags.append(Flag("child_not_in_register", HIGH, f"child:{wanted}", None,
                          {"child_idnp": wanted, "source": x.source("births")}))

    # 5. A deceased applicant, member or child.
    for member in x.members:
        if member.deceased_on is not None:
            code = "deceased_applicant" if member.idnp == x.applicant_idnp else "deceased_member"
            flags.append(Flag(code, HIGH, f"deceased:{member.idnp}", None,
                              {"person": member.name, "date": member.deceased_on.isoformat()}))
    for child in x.births:
        if child.deceased_on is not None and child.idnp == wanted:
            flags.append(Flag("deceased_member", HIGH, f"deceased:{child.idnp}", None,
                              {"person": child.name, "date": child.deceased_on.isoformat()}))

    # 6. Income above the benefit's threshold.
    for mine, result in results.items():
        for condition in result.conditions:
            if condition.code in INCOME_CONDITIONS and condition.outcome == FAIL:
                income = condition.fact("income_total")
                limit = condition.fact("family_minimum") or condition.fact("threshold") or condition.fact("affordable")
                flags.append(Flag("income_above_threshold", MEDIUM, f"income:{condition.code}", mine,
                                  {"income": str(income), "threshold": str(limit)}))

    # 7. The same address or bank account used by implausibly many applicants.
    most_at_address = p.optional("cross_checks.max_applicants_per_address")
    if most_at_address is not None and address_applicants > most_at_address:
        flags.append(Flag("shared_address", MEDIUM, "shared:address", None,
                          {"count": address_applicants, "limit": str(most_at_address)}))
    most_per_account = p.optional("cross_checks.max_applicants_per_account")
    if most_per_account is not None and account_applicants > most_per_account:
        flags.append(Flag("shared_account", HIGH, "shared:account", None,
                          {"count": account_applicants, "limit": str(most_per_account)}))

    unique: dict[tuple[str | None, str], Flag] = {}
    for f in flags:
        unique.setdefault((f.benefit, f.key), f)
    return list(unique.values())


def risk_level(severities) -> int:
    """0 none, 1 low, 2 medium, 3 high: the worst of the open flags."""
    return max((RISK.get(s, 0) for s in severities), default=0)
