"""An injectable clock, so rules and tests never read the wall clock directly."""
from __future__ import annotations

import datetime as dt
from typing import Callable

_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


def now() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def today() -> dt.date:
    return now().date()


def set_clock(fn: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (tests); ``None`` restores the wall clock."""
    global _now
    _now = fn or (lambda: dt.datetime.now(dt.timezone.utc))
