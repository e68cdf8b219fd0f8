"""Working days, legal deadlines and the back office's reference data (``config/reference/backoffice.toml``).

Pure functions over dates: no database, no request.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.config import CONFIG_DIR
from portal.core.i18n import localized


@dataclass(frozen=True)
class WorkCalendar:
    fixed: frozenset[tuple[int, int]]  # (month, day)
    movable: frozenset[dt.date]
    easter: tuple[tuple[dt.date, ...], ...] = ()

    def is_holiday(self, day: dt.date) -> bool:
        return (day.month, day.day) in self.fixed or day in self.movable

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
        day = start
        left = days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not later)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


@dataclass(frozen=True)
class RejectionReason:
    code: str
    text: dict[str, str]

    def text_in(self, lang: str) -> str:
        return localized(self.text, lang)


@dataclass(frozen=True)
class BackofficeRules:
    calendar: WorkCalendar
    near_working_days: int
    appeal_days: int
    appeal_legal_basis: str
    appeal_review_working_days: int
    rejection_reasons: dict[str, RejectionReason]


def load_rules(path: Path | None = None) -> BackofficeRules:
    path = path or CONFIG_DIR / "reference" / "backoffice.toml"
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    cal = raw["calendar"]
    fixed = frozenset(tuple(int(x) for x in md.split("-")) for md in cal.get("fixed_holidays", []))
    easter = tuple(tuple(dt.date.fromisoformat(d) for d in row) for row in cal.get("easter", []))
    movable = frozenset(d for row in easter for d in row)
    reasons = {r["code"]: RejectionReason(r["code"], r["text"]) for r in raw.get("rejection_reason", [])}
    if not reasons or any(not r.text.get("ro") for r in reasons.values()):
        raise ValueError("backoffice.toml: every rejection reason needs a Romanian text")
    return BackofficeRules(
        calendar=WorkCalendar(fixed, movable, easter),
        near_working_days=int(raw.get("deadlines", {}).get("near_working_days", 5)),
        appeal_days=int(raw.get("appeal", {}).get("days", 30)),
        appeal_legal_basis=str(raw.get("appeal", {}).get("legal_basis", "")),
        appeal_review_working_days=int(raw.get("appeal", {}).get("review_working_days", 20)),
        rejection_reasons=reasons,
    )


@lru_cache(maxsize=1)
def rules() -> BackofficeRules:
    return load_rules()


def deadline(start: dt.date, processing_days: int, paused_days: int = 0,
             calendar: WorkCalendar | None = None) -> dt.date:
    """The last day to decide: ``processing_days`` working days after ``start``, plus the days spent waiting."""
    calendar = calendar or rules().calendar
    return calendar.add_working_days(start, processing_days + paused_days)


def days_left(due: dt.date, today: dt.date, calendar: WorkCalendar | None = None) -> int:
    """Working days from ``today`` to ``due``; negative (calendar days) when it has passed."""
    calendar = calendar or rules().calendar
    if due < today:
        return -(today - due).days
    return calendar.working_days_between(today, due)
