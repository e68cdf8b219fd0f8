"""Routing rules in the database: the version in force, new versions, and dry runs.

The first version is seeded from ``config/reference/routing.toml``; every
change an administrator saves is a new version holding the whole rule set,
with who made it, when and why.  Nothing here commits.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit import services as audit
from portal.core.errors import DomainError
from portal.routing import rules as rules_mod
from portal.routing.models import RoutingRuleVersion
from portal.routing.reference import Territory, territory
from portal.routing.rules import NoRoute, Rule, route

ADMIN_ROLES = ("agency_admin", "sysadmin")


def seed(session: Session) -> RoutingRuleVersion:
    """Version 1 from routing.toml, unless a version exists already. Safe when two processes race."""
    existing = latest(session)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            first = RoutingRuleVersion(version=1, rules=rules_mod.rules_as_data(rules_mod.rules()),
                                       reason="Seeded from config/reference/routing.toml", created_by_idnp=None)
            session.add(first)
            session.flush()
    except IntegrityError:
        return latest(session)
    return first


def latest(session: Session) -> RoutingRuleVersion | None:
    return session.scalar(select(RoutingRuleVersion).order_by(RoutingRuleVersion.version.desc()).limit(1))


def current(session: Session) -> tuple[Rule, ...]:
    """The rule set in force (seeding version 1 on first use)."""
    return rules_mod.rules_from_data(seed(session).rules)


def versions(session: Session) -> list[RoutingRuleVersion]:
    return list(session.scalars(select(RoutingRuleVersion).order_by(RoutingRuleVersion.version.desc())))


def save_version(session: Session, rule_set: tuple[Rule, ...], *, actor: Account, reason: str,
                 benefits, terr: Territory | None = None) -> RoutingRuleVersion:
    """Put ``rule_set`` in force as a new version. Refused if a rule is malformed or changes nothing."""
    if not (actor.has_role("agency_admin") or actor.has_role("sysadmin")):
        raise DomainError(_l("Only an administrator can change the routing rules."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why the rules change."))
    problems = rules_mod.check_rules(rule_set, terr or territory(), benefits)
    if problems:
        raise DomainError(_l("The rules cannot be saved: %(problems)s"), problems=Problems(problems))
    previous = seed(session)
    data = rules_mod.rules_as_data(rule_set)
    if data == previous.rules:
        raise DomainError(_l("Nothing changed."))
    outside = scope_problems(rules_mod.rules_from_data(previous.rules), rule_set, actor=actor,
                             terr=terr or territory(), benefits=benefits)
    if outside:
        raise DomainError(_l("Only a system administrator can make this change: %(problems)s"),
                          problems=Problems(outside))
    number = (session.scalar(select(func.max(RoutingRuleVersion.version))) or 0) + 1
    version = RoutingRuleVersion(version=number, rules=data, reason=reason[:2000], created_by_idnp=actor.idnp)
    session.add(version)
    session.flush()  # a concurrent save of the same number fails here on the unique version
    audit.record(session, "routing_rules_changed", actor_idnp=actor.idnp, object_type="routing_rule_version",
                 object_id=number, previous=previous.version, reason=reason[:500])
    return version


# --- who may change which rules ---------------------------------------------------------------------------

def administered_agencies(actor: Account) -> set[str] | None:
    """The agencies whose routing ``actor`` may change; ``None`` for a system administrator: all of them."""
    if actor.has_role("sysadmin"):
        return None
    return actor.agencies_for("agency_admin")


def rule_targets(rule: Rule, terr: Territory) -> set[str | None]:
    """Every agency ``rule`` can send an application to (``None`` for a raion where it sends it nowhere)."""
    if rule.agency:
        return {rule.agency}
    raions = terr.raions if "*" in rule.raions else rule.raions
    return {next((a.code for a in terr.agencies.values() if a.kind == rule.agency_kind and raion in a.raions), None)
            for raion in raions}


@dataclass(frozen=True)
class Move:
    """Applications for ``benefit`` from ``raion``, with ``facts``, that would go from ``before`` to ``after``."""
    benefit: str
    raion: str
    facts: tuple[tuple[str, str], ...]
    before: str | None
    after: str | None


_ANY_OTHER = "\x00"  # a fact value that no condition names: every such value routes alike


def moved_routes(old: tuple[Rule, ...], new: tuple[Rule, ...], benefits, terr: Territory) -> list[Move]:
    """Every benefit × raion × combination of facts whose agency differs between ``old`` and ``new``.

    Only the rules naming a benefit and raion can route it, so for each pair whose rules differ, the facts
    tried are the values those rules' conditions name, plus "any other value" for each fact they test.
    """
    out = []
    for benefit in benefits:
        for raion in terr.raions:
            def covering(rule_set):
                return tuple(r for r in rule_set if benefit in r.benefits and (raion in r.raions or "*" in r.raions))

            before_rules, after_rules = covering(old), covering(new)
            if before_rules == after_rules:
                continue
            relevant = before_rules + after_rules
            keys = sorted({key for r in relevant for key, _ in r.conditions})
            domains = [sorted({v for r in relevant for k, value in r.conditions if k == key
                               for v in value.split("|")}) + [_ANY_OTHER] for key in keys]
            for values in itertools.product(*domains):
                facts = dict(zip(keys, values))
                before = _safe_route(benefit, raion, before_rules, terr, facts)
                after = _safe_route(benefit, raion, after_rules, terr, facts)
                if before != after:
                    named = tuple((k, v) for k, v in facts.items() if v != _ANY_OTHER)
                    out.append(Move(benefit, raion, named, before, after))
    return out


class ScopeProblem:
    """Why an agency administrator may not make a change, named in the reader's language when shown."""

    def __init__(self, message, **codes):
        self.message = message
        self.codes = codes  # parameter → (kind, code or codes): kind is agency | benefit | raion | text

    def __str__(self) -> str:
        return str(self.message) % {key: _names(kind, value) for key, (kind, value) in self.codes.items()}


class Problems(list):
    """Scope problems joined into one text, in the language of whoever reads it."""

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self)


def _names(kind: str, value) -> str:
    from flask_babel import get_locale

    from portal.applications.services import catalogue

    try:
        lang = str(get_locale() or "ro")
    except RuntimeError:  # outside a request
        lang = "ro"
    terr = territory()
    values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]

    def one(code):
        if code is None:
            return str(_l("no agency"))
        if kind == "agency" and code in terr.agencies:
            return terr.agencies[code].name_in(lang)
        if kind == "raion" and code in terr.raions:
            return terr.raions[code].name_in(lang)
        if kind == "raion" and code == "*":
            return str(_l("every raion"))
        if kind == "benefit" and code in catalogue().benefits:
            return catalogue().get(code).title_in(lang)
        return str(code)

    return ", ".join(sorted(one(c) for c in values))


def scope_problems(old: tuple[Rule, ...], new: tuple[Rule, ...], *, actor: Account, terr: Territory,
                   benefits) -> list[ScopeProblem]:
    """What in the change from ``old`` to ``new`` lies outside the agencies ``actor`` administers.

    A system administrator may change anything.  An agency administrator may add, edit or delete only rules
    that send applications to their own agency, and only so that no application moves to or from another
    agency: a rule of their own that is more specific than another agency's would otherwise take its work.
    """
    own = administered_agencies(actor)
    if own is None:
        return []
    allowed = own | {None}
    problems = []
    added, removed = Counter(new) - Counter(old), Counter(old) - Counter(new)
    for number, rule in enumerate(new, start=1):
        if rule in added and not rule_targets(rule, terr) <= allowed:
            problems.append(ScopeProblem(_l("rule %(n)s sends applications to %(agencies)s"),
                                         n=("text", str(number)),
                                         agencies=("agency", rule_targets(rule, terr) - {None})))
    for rule in removed:
        if not rule_targets(rule, terr) <= allowed:
            problems.append(ScopeProblem(_l("the rule for %(benefits)s in %(raions)s that you change or delete "
                                            "sends applications to %(agencies)s"),
                                         benefits=("benefit", rule.benefits), raions=("raion", rule.raions),
                                         agencies=("agency", rule_targets(rule, terr) - {None})))
    if not problems:
        outside: dict[tuple, set[str]] = {}  # (benefit, before, after) → raions
        for move in moved_routes(old, new, benefits, terr):
            if move.before not in allowed or move.after not in allowed:
                outside.setdefault((move.benefit, move.before, move.after), set()).add(move.raion)
        for (benefit, before, after), raions in outside.items():
            problems.append(ScopeProblem(_l("%(benefit)s from %(raions)s would go to %(after)s instead of "
                                            "%(before)s"),
                                         benefit=("benefit", benefit), raions=("raion", raions),
                                         before=("agency", before), after=("agency", after)))
    return problems


def facts_of(application) -> dict[str, str]:
    """What routing conditions may test about an application."""
    answers = application.answers or {}
    address = next((e for e in application.evidence if e.item == "address" and e.status == "fetched"), None)
    abroad = bool(address and (address.payload or {}).get("abroad"))
    return {
        "channel": application.channel or "online",
        "abroad": "yes" if abroad else "no",
        "heating_source": str(answers.get("heating_source") or ""),
        "language": application.language or "",
    }


def route_application(session: Session, application, rule_set: tuple[Rule, ...] | None = None) -> dict[str, str]:
    """benefit code → agency code for each benefit of ``application`` under the rules in force."""
    rule_set = current(session) if rule_set is None else rule_set
    facts = facts_of(application)
    return {code: route(code, application.raion_code, rule_set, facts=facts) for code in application.benefits}


# --- dry run -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    benefit: str
    raion: str
    before: str | None  # agency code, or None when nothing routes it
    after: str | None


def _safe_route(benefit, raion, rule_set, terr, facts=None) -> str | None:
    try:
        return route(benefit, raion, rule_set, terr, facts=facts)
    except NoRoute:
        return None


def matrix_changes(old: tuple[Rule, ...], new: tuple[Rule, ...], benefits, terr: Territory) -> list[Change]:
    """For a typical online applicant living at home: every benefit × raion whose agency changes."""
    facts = {"channel": "online", "abroad": "no", "heating_source": "", "language": "ro"}
    out = []
    for benefit in benefits:
        for raion in terr.raions:
            before = _safe_route(benefit, raion, old, terr, facts)
            after = _safe_route(benefit, raion, new, terr, facts)
            if before != after:
                out.append(Change(benefit, raion, before, after))
    return out


@dataclass(frozen=True)
class AppRoute:
    number: str
    benefit: str
    raion: str
    before: str | None
    after: str | None


def recent_applications_under(session: Session, new: tuple[Rule, ...], terr: Territory,
                              limit: int = 200) -> list[AppRoute]:
    """Where the latest applications would have gone under ``new``: a sample of the next ones."""
    from portal.applications.models import Application

    old = current(session)
    apps = session.scalars(select(Application).where(Application.status != "draft")
                           .order_by(Application.submitted_at.desc()).limit(limit))
    out = []
    for a in apps:
        facts = facts_of(a)
        for benefit in a.benefits:
            before = _safe_route(benefit, a.raion_code or "", old, terr, facts)
            after = _safe_route(benefit, a.raion_code or "", new, terr, facts)
            out.append(AppRoute(a.number or "", benefit, a.raion_code or "", before, after))
    return out
