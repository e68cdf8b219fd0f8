"""Reference data: raions, agencies and registries, from ``config/reference/``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from portal.config import CONFIG_DIR
from portal.core.i18n import localized


@dataclass(frozen=True)
class Raion:
    code: str
    name: dict[str, str]
    kind: str = "raion"

    def name_in(self, lang: str) -> str:
        return localized(self.name, lang)


@dataclass(frozen=True)
class Agency:
    code: str
    kind: str  # territorial | national
    name: dict[str, str]
    seat: str
    raions: tuple[str, ...] = ()
    confirmed: bool = False

    def name_in(self, lang: str) -> str:
        return localized(self.name, lang)


@dataclass(frozen=True)
class Registry:
    code: str
    member: str
    subsystem: str
    name: dict[str, str] = field(default_factory=dict)

    def name_in(self, lang: str) -> str:
        return localized(self.name, lang)


@dataclass(frozen=True)
class Territory:
    raions: dict[str, Raion]
    agencies: dict[str, Agency]
    registries: dict[str, Registry]

    def territorial_agency_for(self, raion_code: str) -> Agency | None:
        for agency in self.agencies.values():
            if agency.kind == "territorial" and raion_code in agency.raions:
                return agency
        return None


def load_territory(directory: Path | None = None) -> Territory:
    directory = directory or CONFIG_DIR / "reference"
    with (directory / "territory.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    with (directory / "registries.toml").open("rb") as fh:
        reg = tomllib.load(fh)["registry"]
    raions = {r["code"]: Raion(r["code"], r["name"], r.get("kind", "raion")) for r in raw["raion"]}
    agencies = {}
    covered: dict[str, str] = {}
    for a in raw["agency"]:
        for code in a.get("raions", []):
            if code not in raions:
                raise ValueError(f"agency {a['code']}: unknown raion {code}")
            if code in covered:
                raise ValueError(f"raion {code} is served by {covered[code]} and {a['code']}")
            covered[code] = a["code"]
        agencies[a["code"]] = Agency(a["code"], a["kind"], a["name"], a["seat"], tuple(a.get("raions", [])),
                                     bool(a.get("confirmed", False)))
    registries = {code: Registry(code, r["member"], r["subsystem"], r.get("name", {})) for code, r in reg.items()}
    return Territory(raions, agencies, registries)


@lru_cache(maxsize=1)
def territory() -> Territory:
    return load_territory()
