"""Demo data for the embedded default: staff roles for the demo people.

Idempotent: running it again changes nothing.  Citizens need no seeding;
their accounts are made when they first log in through the development IdP.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from devstack.demo_people import STAFF
from portal.accounts.models import RoleAssignment
from portal.routing import services as routing_services


def seed(session: Session) -> int:
    """Grant the demo staff their roles. Returns how many grants were added."""
    added = 0
    for person in STAFF:
        for role, agency in person.roles:
            exists = session.scalar(select(RoleAssignment).where(
                RoleAssignment.idnp == person.idnp, RoleAssignment.role == role,
                RoleAssignment.agency_code == agency, RoleAssignment.revoked_at.is_(None)))
            if exists is None:
                session.add(RoleAssignment(idnp=person.idnp, role=role, agency_code=agency, granted_by="demo"))
                added += 1
    routing_services.seed(session)  # version 1 of the routing rules, if the migration did not write it
    return added
