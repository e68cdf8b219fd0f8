"""Pure rules of representation: no Flask, no database, an explicit ``today``."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

ADULT_AGE = 18  # Civil Code: full capacity at 18
MAX_MANDATE_YEARS = 3  # an end date is required and at most this far away (EXAMPLE policy, kept here)

BASES = ("self", "assisted", "parent", "guardian", "mandate")
CHANNELS = {"self": "online", "assisted": "assisted", "parent": "representative", "guardian": "representative",
            "mandate": "representative"}


def age_on(birth_date: dt.date, today: dt.date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def is_minor(birth_date: dt.date | None, today: dt.date) -> bool:
    return birth_date is not None and birth_date <= today and age_on(birth_date, today) < ADULT_AGE


def minor_children(births_payload: dict | None, today: dt.date) -> list[dict]:
    """The children of a civil-status ``births`` answer who are minors ``today``, youngest first."""
    out = []
    for child in (births_payload or {}).get("children", []) or []:
        try:
            born = dt.date.fromisoformat(child["birth_date"])
        except (KeyError, TypeError, ValueError):
            continue
        if is_minor(born, today):
            out.append({**child, "birth_date": born})
    return sorted(out, key=lambda c: c["birth_date"], reverse=True)


def mandate_in_force(valid_from: dt.date, valid_until: dt.date, revoked_at, renounced_at, today: dt.date) -> bool:
    return revoked_at is None and renounced_at is None and valid_from <= today <= valid_until


def covers(services: Iterable[str] | None, benefits: Iterable[str]) -> bool:
    """A mandate's services cover every benefit asked for (``None`` = no restriction)."""
    if services is None:
        return True
    return set(benefits) <= set(services)


def guardianship_in_force(valid_from: dt.date, valid_until: dt.date | None, ended_at, today: dt.date) -> bool:
    return ended_at is None and valid_from <= today and (valid_until is None or today <= valid_until)


def mandate_end_problem(valid_until: dt.date | None, today: dt.date) -> str | None:
    """Why an end date cannot be accepted (a short code), or ``None``."""
    if valid_until is None:
        return "missing"
    if valid_until <= today:
        return "past"
    latest = today.replace(year=today.year + MAX_MANDATE_YEARS) if not (today.month == 2 and today.day == 29) \
        else dt.date(today.year + MAX_MANDATE_YEARS, 2, 28)
    if valid_until > latest:
        return "too_far"
    return None
