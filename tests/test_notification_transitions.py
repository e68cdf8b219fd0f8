"""Every status change of a claim writes the applicant's notice with it: each transition of the status table,
made through the service that makes it in the portal, leaves a new notice for the applicant in the same
(still uncommitted) transaction.  A transition added to the table without a way here fails the suite."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from backoffice_helpers import in_request, person, staff, submitted, today  # noqa: F401 (fixtures)
from portal.applications import services as app_services
from portal.applications import status as st
from portal.backoffice import calendar
from portal.backoffice.models import AgencyCase
from portal.core import clock
from portal.decisions import services as decisions
from portal.decisions.models import Decision
from portal.notifications.models import Notification
from portal.registries import pending


@pytest.fixture(autouse=True)
def _request(in_request):
    yield


@pytest.fixture
def people(session):
    return {"ion": person(session, "Ion", "Rusu", language="en"),
            "elena": staff(session, "Elena", "Vasilache", ("case_worker", "ATAS-CENTRU")),
            "ana": staff(session, "Ana", "Moraru", ("case_worker", "ATAS-CENTRU"))}


def _case(session, claim):
    return session.get(AgencyCase, claim.case_id)


def _worker(session, claim, people):
    """Whoever may act on the claim now: the reviewer of an appeal, else Elena."""
    case = _case(session, claim)
    if claim.status == st.APPEALED and case.assigned_to_id:
        return next(p for p in people.values() if p.id == case.assigned_to_id)
    return people["elena"]


def _decide(outcome):
    def make(session, claim, people):
        actor = _worker(session, claim, people)
        if outcome == st.APPROVED:
            decisions.decide(session, _case(session, claim), claim, actor=actor, outcome=outcome, amount="1200",
                             period="monthly", start_date=clock.today())
        else:
            reason = next(iter(calendar.rules().rejection_reasons))
            decisions.decide(session, _case(session, claim), claim, actor=actor, outcome=outcome,
                             reason_code=reason, text="The income is above the threshold.")
    return make


def _appeal(session, claim, people):
    decision = session.scalar(select(Decision).where(Decision.claim_id == claim.id).order_by(Decision.id.desc()))
    decisions.appeal(session, decision, actor=people["ion"], grounds="I disagree with the amount of income counted.")


def _route(session, claim, people):
    assert pending.route_waiting_claims(session, claim.application) == [claim]


# How the portal makes each change of the status table.
MAKE = {
    st.IN_REVIEW: lambda s, c, p: app_services.open_case(s, c, actor=_worker(s, c, p)),
    st.INFO_REQUESTED: lambda s, c, p: app_services.request_information(s, c, actor=_worker(s, c, p),
                                                                       question="Send the income certificate."),
    st.INFO_PROVIDED: lambda s, c, p: app_services.answer_information(s, c.application, actor=p["ion"],
                                                                      answer="Here it is."),
    st.APPROVED: _decide(st.APPROVED),
    st.REJECTED: _decide(st.REJECTED),
    st.APPEALED: _appeal,
    st.SUBMITTED: _route,
}
# The way to each starting status, through the same services.
PATHS = {
    st.SUBMITTED: [],
    st.IN_REVIEW: [st.IN_REVIEW],
    st.INFO_REQUESTED: [st.INFO_REQUESTED],
    st.INFO_PROVIDED: [st.INFO_REQUESTED, st.INFO_PROVIDED],
    st.APPROVED: [st.APPROVED],
    st.REJECTED: [st.REJECTED],
    st.APPEALED: [st.APPROVED, st.APPEALED],
    st.AWAITING_DATA: [],
}


def _claim_in(session, people, status):
    application = submitted(session, people["ion"], ["social_aid"], language="en")
    claim = application.claims[0]
    if status == st.AWAITING_DATA:  # sent before the population register gave the address
        case = _case(session, claim)
        claim.status, claim.case_id = st.AWAITING_DATA, None
        session.flush()
        session.delete(case)
        session.flush()
    for step in PATHS[status]:
        MAKE[step](session, claim, people)
    session.flush()
    assert claim.status == status
    return claim


def test_every_transition_has_a_way_here():
    assert set(PATHS) >= {a for a, _ in st.TRANSITIONS} and set(MAKE) >= {b for _, b in st.TRANSITIONS}


@pytest.mark.parametrize("change", sorted(st.TRANSITIONS), ids=lambda c: f"{c[0]}->{c[1]}")
def test_each_status_change_writes_the_applicants_notice_with_it(session, people, today, change):
    current, target = change
    claim = _claim_in(session, people, current)
    ion = people["ion"]

    def notices():
        return set(session.scalars(select(Notification.id).where(Notification.account_id == ion.id)))

    before = notices()
    MAKE[target](session, claim, people)
    session.flush()
    assert claim.status == target
    new = session.scalars(select(Notification).where(Notification.id.in_(notices() - before))).all()
    assert new, f"{current} → {target} wrote no notice for the applicant"
    assert all(n.application_id == claim.application_id for n in new)
    assert {n.channel for n in new} >= {"portal", "email"}  # Ion has an e-mail address
