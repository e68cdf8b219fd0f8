"""Granting and revoking staff roles: the only way a role changes, and every change is an audit event
(``role_granted``, ``role_revoked``). Services: they take the session and who acts, and never commit.

A role is held for a scope: an agency (case workers, supervisors, agency administrators), a CUPS centre
(specialists) or a registry (registry officers); analysts and system administrators hold theirs for the whole
portal. Revoking keeps the row (``revoked_at``): who held what, and when, stays answerable.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import ROLES, RoleAssignment
from portal.audit import services as audit
from portal.core import clock
from portal.core.idnp import is_person_idnp

AGENCY_ROLES = ("case_worker", "supervisor", "agency_admin")
CENTRE_ROLES = ("cups_specialist",)
REGISTRY_ROLES = ("registry_officer",)
PORTAL_ROLES = ("analyst", "sysadmin")
ALL_ROLES = tuple(dict.fromkeys(ROLES + REGISTRY_ROLES))


class RoleError(ValueError):
    pass


def scopes(role: str) -> set[str] | None:
    """The codes ``role`` may be held for, or ``None`` for a role held portal-wide."""
    if role in PORTAL_ROLES:
        return None
    if role in AGENCY_ROLES:
        from portal.routing.reference import territory

        return set(territory().agencies)
    if role in CENTRE_ROLES:
        from portal.assisted.centres import centres

        return set(centres())
    if role in REGISTRY_ROLES:
        from portal.routing.reference import territory

        return set(territory().registries)
    raise RoleError(f"unknown role {role!r}; one of: {', '.join(ALL_ROLES)}")


def _person(actor: str | None) -> str | None:
    """The actor as the audit trail names people: an IDNP, or nobody (the command line, the demo seed)."""
    return actor if actor and is_person_idnp(actor) else None


def _held(session: Session, idnp: str, role: str, scope: str | None) -> RoleAssignment | None:
    return session.scalar(select(RoleAssignment).where(
        RoleAssignment.idnp == idnp, RoleAssignment.role == role, RoleAssignment.revoked_at.is_(None),
        RoleAssignment.agency_code.is_(None) if scope is None else RoleAssignment.agency_code == scope))


def grant(session: Session, actor_idnp: str | None, *, idnp: str, role: str, scope: str | None = None,
          check_idnp: bool = True) -> RoleAssignment:
    """Give ``idnp`` the ``role`` for ``scope``; an unchanged grant is returned as it is (no new event)."""
    allowed = scopes(role)
    if allowed is None and scope is not None:
        raise RoleError(f"{role} is held for the whole portal, without a scope")
    if allowed is not None and scope not in allowed:
        raise RoleError(f"{role} needs one of these scopes: {', '.join(sorted(allowed))}")
    if check_idnp and not is_person_idnp(idnp):
        raise RoleError(f"{idnp!r} is not a valid IDNP")
    existing = _held(session, idnp, role, scope)
    if existing is not None:
        return existing
    # The unique key covers revoked rows too: a role given again reuses its row.
    row = session.scalar(select(RoleAssignment).where(
        RoleAssignment.idnp == idnp, RoleAssignment.role == role,
        RoleAssignment.agency_code.is_(None) if scope is None else RoleAssignment.agency_code == scope))
    if row is None:
        row = RoleAssignment(idnp=idnp, role=role, agency_code=scope, granted_by=actor_idnp)
        session.add(row)
    else:
        row.revoked_at, row.granted_by, row.created_at = None, actor_idnp, clock.now()
    session.flush()
    audit.record(session, "role_granted", actor_idnp=_person(actor_idnp), subject_idnp=idnp,
                 object_type="role_assignment", object_id=row.id, role=role, scope=scope, granted_by=actor_idnp)
    return row


def revoke(session: Session, actor_idnp: str | None, row: RoleAssignment) -> None:
    """The role stops working on the person's next request (roles are read from this table every time)."""
    if row.revoked_at is not None:
        return
    row.revoked_at = clock.now()
    session.flush()
    audit.record(session, "role_revoked", actor_idnp=_person(actor_idnp), subject_idnp=row.idnp,
                 object_type="role_assignment", object_id=row.id, role=row.role, scope=row.agency_code)


def revoke_all(session: Session, actor_idnp: str | None, idnp: str) -> int:
    rows = list(session.scalars(select(RoleAssignment).where(RoleAssignment.idnp == idnp,
                                                             RoleAssignment.revoked_at.is_(None))))
    for row in rows:
        revoke(session, actor_idnp, row)
    return len(rows)
