"""Helpers for the back office tests: submitted applications without the form, staff with roles."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.accounts.models import Account, RoleAssignment
from portal.applications.models import Application, Claim, Evidence
from portal.backoffice import cases
from portal.core import clock
from portal.core.idnp import make_idnp
from portal.routing.rules import route

_counter = iter(range(1, 10**6))


@pytest.fixture
def in_request(app):
    """Messages of refused actions are translated: they need a request's language."""
    with app.test_request_context():
        yield


@pytest.fixture
def today():
    """A fixed Tuesday, 3 March 2026, at noon in UTC."""
    clock.set_clock(lambda: dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.timezone.utc))
    yield dt.date(2026, 3, 3)
    clock.set_clock(None)


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def person(session, first="Ion", last="Popescu", idnp=None, language="ro", email="p@example.md", phone=None):
    account = Account(idnp=idnp or make_idnp(f"2009{next(_counter):08d}"), first_name=first, last_name=last,
                      email=email, phone=phone, language=language)
    session.add(account)
    session.flush()
    return account


def staff(session, first, last, *roles, idnp=None, language="en"):
    """An account with ``roles``: (role, agency) pairs. English pages by default: the tests read them."""
    account = person(session, first, last, idnp=idnp, email=f"{first.lower()}@agency.gov.md", language=language)
    for role, agency in roles:
        session.add(RoleAssignment(idnp=account.idnp, role=role, agency_code=agency))
    session.flush()
    session.refresh(account)
    return account


def two_citizens_and_a_case_worker(session):
    """Ion and Ana, citizens reading English, and Elena, a case worker of ATAS-CENTRU: (ion, ana, elena)."""
    return (person(session, "Ion", "Rusu", language="en"), person(session, "Ana", "Străin", language="en"),
            staff(session, "Elena", "Vasilache", ("case_worker", "ATAS-CENTRU")))


def submitted(session, applicant, benefits, raion="ialoveni", language="ro", submitted_at=None, members=None):
    """An application as ``submit`` leaves it: claims routed by the seed rules, one case per agency."""
    application = Application(applicant=applicant, created_by=applicant, benefits=list(benefits), language=language,
                              raion_code=raion, status="submitted", submitted_at=submitted_at or clock.now(),
                              answers={}, contact_email=applicant.email)
    session.add(application)
    session.flush()
    application.number = f"ES-2026-{application.id:07d}"
    session.add(Evidence(application=application, item="household", source="rsp", status="fetched",
                         payload={"members": members or [
                             {"idnp": applicant.idnp, "first_name": applicant.first_name,
                              "last_name": applicant.last_name, "birth_date": "1980-01-01", "relation": "applicant"}]},
                         fetched_at=clock.now()))
    for code in benefits:
        session.add(Claim(application=application, benefit_code=code, agency_code=route(code, raion),
                          status="submitted"))
    session.flush()
    session.refresh(application, ["claims"])
    cases.open_cases(session, application)
    return application
