"""Countries of residence: default time zone and calling code (``config/reference/countries.toml``), names
from Babel's CLDR data in the reader's language."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale

from portal.config import CONFIG_DIR

HOME = "MD"
HOME_TIMEZONE = "Europe/Chisinau"


@dataclass(frozen=True)
class Country:
    code: str
    timezone: str
    calling_code: str


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    with (CONFIG_DIR / "reference" / "countries.toml").open("rb") as fh:
        raw = tomllib.load(fh)["country"]
    out = {}
    for code, c in raw.items():
        ZoneInfo(c["timezone"])
        out[code] = Country(code, c["timezone"], str(c["calling_code"]))
    return out


def default_timezone(country: str | None) -> str:
    c = countries().get((country or "").upper())
    return c.timezone if c else HOME_TIMEZONE


def name(code: str, lang: str) -> str:
    return Locale.parse(lang).territories.get(code.upper(), code.upper())


def choices(lang: str) -> list[tuple[str, str]]:
    """Moldova first, then the others by their name in ``lang``."""
    others = sorted((c for c in countries() if c != HOME), key=lambda c: name(c, lang))
    return [(c, name(c, lang)) for c in [HOME, *others]]


def timezone_choices(lang: str) -> list[tuple[str, str]]:
    """The time zones of the listed countries (one per zone), with where they are."""
    from babel.dates import get_timezone_location

    zones = sorted({c.timezone for c in countries().values()} | {"UTC"})
    return [(z, f"{get_timezone_location(z, locale=lang, return_city=True)} ({z})") for z in zones]
