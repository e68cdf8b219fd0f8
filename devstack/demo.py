"""Demo data for the embedded default: staff roles for the demo people, and a mandate.

Idempotent: running it again changes nothing.  Citizens need no seeding;
their accounts are made when they first log in through the development IdP.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from devstack.demo_people import STAFF
from portal.accounts import roles
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
            if exists is None:  # through the service, so the grant is in the audit trail like any other
                roles.grant(session, "demo", idnp=person.idnp, role=role, scope=agency)
                added += 1
    routing_services.seed(session)  # version 1 of the routing rules, if the migration did not write it
    added += seed_mandate(session)
    added += seed_api_clients(session)
    return added


def demo_api_secret(agency: str) -> str:
    """The demo client's secret of ``agency`` (development only; README: Integration API)."""
    return f"demo-secret-{agency.lower()}"


def seed_api_clients(session: Session) -> int:
    """One integration API client per agency: ``demo-<agency>`` with :func:`demo_api_secret`."""
    from portal.api import auth as api_auth
    from portal.api.models import ApiClient
    from portal.routing.reference import territory

    added = 0
    for agency in sorted(territory().agencies):
        client_id = f"demo-{agency.lower()}"
        if session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)) is None:
            api_auth.create_client(session, client_id=client_id, name=f"{agency} (demo system)", agency_code=agency,
                                   secret=demo_api_secret(agency), granted_by="demo")
            added += 1
    return added


# A mandate in the demo (portal.representation): Andrei Munteanu, who lives in Italy, lets his cousin Ion Rusu
# apply in Moldova for the benefits of his child born there, for a year.
MANDATE_GRANTOR, MANDATE_GRANTEE = "2005001000040", "2005001000017"
MANDATE_SERVICES = ["birth_allowance", "childcare_allowance"]


def _demo_account(session: Session, idnp: str):
    from devstack.demo_people import by_idnp
    from portal.accounts.models import Account

    account = session.scalar(select(Account).where(Account.idnp == idnp))
    if account is None:
        p = by_idnp(idnp)
        account = Account(idnp=idnp, first_name=p.first_name, last_name=p.last_name, email=p.email or None,
                          phone=p.phone or None, language=p.language)
        session.add(account)
        session.flush()
    return account


def seed_mandate(session: Session) -> int:
    """The demo mandate, unless one from Andrei to Ion is in force already. Returns 1 if it was added."""
    import datetime as dt

    from devstack.demo_people import by_idnp
    from portal.core import clock
    from portal.representation import authority, services

    today = clock.today()
    grantor = _demo_account(session, MANDATE_GRANTOR)
    if any(m.grantor_id == grantor.id for m in authority.mandates_to(session, MANDATE_GRANTEE, today)):
        return 0
    grantee = by_idnp(MANDATE_GRANTEE)
    services.grant_mandate(session, grantor, grantee_idnp=MANDATE_GRANTEE, services=MANDATE_SERVICES,
                           valid_until=today + dt.timedelta(days=365), language=grantor.language, today=today,
                           grantee_record={"first_name": grantee.first_name, "last_name": grantee.last_name})
    return 1
