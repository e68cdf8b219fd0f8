"""Routing rules: benefit × raion → agency, held as data in ``config/reference/routing.toml``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.config import CONFIG_DIR
from portal.routing.reference import Territory, territory


class NoRoute(LookupError):
    """No rule sends this benefit from this raion to an agency."""


@dataclass(frozen=True)
class Rule:
    benefits: frozenset[str]
    raions: frozenset[str]  # "*" matches any raion
    agency: str | None = None
    agency_kind: str | None = None

    def matches(self, benefit: str, raion: str) -> bool:
        return benefit in self.benefits and (raion in self.raions or "*" in self.raions)

    def specificity(self, raion: str) -> int:
        return 1 if raion in self.raions else 0


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    path = path or CONFIG_DIR / "reference" / "routing.toml"
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    rules = []
    for r in raw.get("rule", []):
        if bool(r.get("agency")) == bool(r.get("agency_kind")):
            raise ValueError("a routing rule names exactly one of agency and agency_kind")
        rules.append(Rule(frozenset(r["benefits"]), frozenset(r["raions"]), r.get("agency"), r.get("agency_kind")))
    return tuple(rules)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    return load_rules()


def route(benefit: str, raion: str, rule_set: tuple[Rule, ...] | None = None,
          terr: Territory | None = None) -> str:
    """The code of the agency that handles ``benefit`` for an applicant living in ``raion``."""
    rule_set = rules() if rule_set is None else rule_set
    terr = terr or territory()
    candidates = [r for r in rule_set if r.matches(benefit, raion)]
    if not candidates:
        raise NoRoute(f"no routing rule for {benefit} in {raion}")
    best = max(candidates, key=lambda r: r.specificity(raion))
    if best.agency:
        if best.agency not in terr.agencies:
            raise NoRoute(f"routing names unknown agency {best.agency}")
        return best.agency
    agency = next((a for a in terr.agencies.values()
                   if a.kind == best.agency_kind and raion in a.raions), None)
    if agency is None:
        raise NoRoute(f"no {best.agency_kind} agency serves {raion}")
    return agency.code
