"""Routing rules in the database: the version in force, new versions, and dry runs.

The first version is seeded from ``config/reference/routing.toml``; every
change an administrator saves is a new version holding the whole rule set,
with who made it, when and why.  Nothing here commits.
"""
from __future__ import annotations

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
        raise DomainError(_l("The rules cannot be saved: %(problems)s"), problems="; ".join(problems))
    previous = seed(session)
    data = rules_mod.rules_as_data(rule_set)
    if data == previous.rules:
        raise DomainError(_l("Nothing changed."))
    number = (session.scalar(select(func.max(RoutingRuleVersion.version))) or 0) + 1
    version = RoutingRuleVersion(version=number, rules=data, reason=reason[:2000], created_by_idnp=actor.idnp)
    session.add(version)
    session.flush()  # a concurrent save of the same number fails here on the unique version
    audit.record(session, "routing_rules_changed", actor_idnp=actor.idnp, object_type="routing_rule_version",
                 object_id=number, previous=previous.version, reason=reason[:500])
    return version


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
