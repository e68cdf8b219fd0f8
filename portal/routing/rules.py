"""Routing rules: benefit × raion (× optional conditions) → agency.

The rules are data.  The first version comes from
``config/reference/routing.toml``; administrators then edit them in the portal
and each change is kept as a new version (:mod:`portal.routing.services`).
:func:`route` is pure: it takes the rule set to apply, so the same function
answers for the live rules, for an old version and for a dry run.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from portal.config import CONFIG_DIR
from portal.routing.reference import Territory, territory

# Facts a rule may test, besides benefit and raion (see portal.routing.services.facts_of).
CONDITION_KEYS = ("channel", "abroad", "heating_source", "language")


class NoRoute(LookupError):
    """No rule sends this benefit from this raion to an agency."""


@dataclass(frozen=True)
class Rule:
    benefits: frozenset[str]
    raions: frozenset[str]  # "*" matches any raion
    agency: str | None = None
    agency_kind: str | None = None
    # (fact, value) pairs that must all hold; a value "a|b" accepts either.
    conditions: tuple[tuple[str, str], ...] = ()

    def matches(self, benefit: str, raion: str, facts: Mapping[str, str] | None = None) -> bool:
        if benefit not in self.benefits or not (raion in self.raions or "*" in self.raions):
            return False
        facts = facts or {}
        return all(str(facts.get(key, "")) in value.split("|") for key, value in self.conditions)

    def specificity(self, raion: str) -> tuple[int, int]:
        """A rule naming the raion beats a wildcard; then the rule with more conditions wins."""
        return (1 if raion in self.raions else 0, len(self.conditions))

    def as_dict(self) -> dict:
        out: dict = {"benefits": sorted(self.benefits), "raions": sorted(self.raions)}
        if self.agency:
            out["agency"] = self.agency
        else:
            out["agency_kind"] = self.agency_kind
        if self.conditions:
            out["conditions"] = dict(self.conditions)
        return out


def rule_from_dict(r: Mapping) -> Rule:
    """One rule from its data form; raises ValueError on a malformed rule."""
    if bool(r.get("agency")) == bool(r.get("agency_kind")):
        raise ValueError("a routing rule names exactly one of agency and agency_kind")
    benefits = [str(b) for b in r.get("benefits") or []]
    raions = [str(x) for x in r.get("raions") or []]
    if not benefits or not raions:
        raise ValueError("a routing rule names at least one benefit and one raion (or \"*\")")
    conditions = r.get("conditions") or {}
    unknown = set(conditions) - set(CONDITION_KEYS)
    if unknown:
        raise ValueError(f"unknown routing condition {', '.join(sorted(unknown))}")
    return Rule(frozenset(benefits), frozenset(raions), r.get("agency") or None, r.get("agency_kind") or None,
                tuple(sorted((str(k), str(v)) for k, v in conditions.items())))


def rules_from_data(data: Iterable[Mapping]) -> tuple[Rule, ...]:
    return tuple(rule_from_dict(r) for r in data)


def rules_as_data(rule_set: Iterable[Rule]) -> list[dict]:
    return [r.as_dict() for r in rule_set]


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    path = path or CONFIG_DIR / "reference" / "routing.toml"
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return rules_from_data(raw.get("rule", []))


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The rules of ``routing.toml``: the seed of the first version, and the default of :func:`route`."""
    return load_rules()


def check_rules(rule_set: Iterable[Rule], terr: Territory, benefits: Iterable[str]) -> list:
    """What is wrong with a rule set, in plain words (empty when it can be used): translated when read."""
    from flask_babel import lazy_gettext as _l

    known = set(benefits)
    problems = []
    for i, r in enumerate(rule_set, start=1):
        for b in sorted(r.benefits - known):
            problems.append(_l("Rule %(n)s: unknown benefit %(code)s.", n=i, code=b))
        for x in sorted(r.raions - set(terr.raions) - {"*"}):
            problems.append(_l("Rule %(n)s: unknown raion or municipality %(code)s.", n=i, code=x))
        if r.agency and r.agency not in terr.agencies:
            problems.append(_l("Rule %(n)s: unknown agency %(code)s.", n=i, code=r.agency))
        if r.agency_kind and r.agency_kind not in {a.kind for a in terr.agencies.values()}:
            problems.append(_l("Rule %(n)s: unknown kind of agency %(code)s.", n=i, code=r.agency_kind))
    return problems


def route(benefit: str, raion: str, rule_set: tuple[Rule, ...] | None = None,
          terr: Territory | None = None, facts: Mapping[str, str] | None = None) -> str:
    """The code of the agency that handles ``benefit`` for an applicant living in ``raion``."""
    rule_set = rules() if rule_set is None else rule_set
    terr = terr or territory()
    candidates = [r for r in rule_set if r.matches(benefit, raion, facts)]
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
