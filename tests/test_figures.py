"""The ministry's figures: aggregation queries on small known data, suppression of small counts, the page and
its exports for analysts only, and no person's data anywhere on them."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from backoffice_helpers import person, staff, submitted
from portal.applications import status as st
from portal.core import clock
from portal.core.db import db
from portal.figures import aggregates
from portal.figures.aggregates import Filters

JAN = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.timezone.utc)
MAR = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone.utc)


def _decide(session, claim, outcome, days_after):
    claim.status = outcome
    claim.decided_at = claim.application.submitted_at + dt.timedelta(days=days_after)
    session.flush()


@pytest.fixture
def data(app):
    """7 social aid applications in Ialoveni (January), 2 birth allowances in Soroca (March, one from abroad)."""
    with app.app_context():
        s = db.session
        apps = []
        for i in range(7):
            applicant = person(s, "Ion", f"Rusu{i}")
            apps.append(submitted(s, applicant, ["social_aid"], raion="ialoveni", submitted_at=JAN))
        apps[0].channel = "assisted"
        apps[1].channel = "representative"
        for i, (days, outcome) in enumerate([(3, st.APPROVED), (5, st.APPROVED), (7, st.REJECTED),
                                              (60, st.APPROVED), (9, st.APPROVED)]):
            _decide(s, apps[i].claims[0], outcome, days)
        abroad = person(s, "Andrei", "Munteanu")
        abroad.country = "IT"
        submitted(s, abroad, ["birth_allowance"], raion="soroca", submitted_at=MAR)
        submitted(s, person(s, "Natalia", "Ceban"), ["birth_allowance"], raion="soroca", submitted_at=MAR)
        s.commit()
    yield


def test_counts_by_benefit_raion_and_channel(app, data):
    with app.app_context():
        s = db.session
        assert aggregates.claims_by_benefit(s, Filters()) == {"social_aid": 7, "birth_allowance": 2}
        assert aggregates.applications_by_raion(s, Filters()) == {"ialoveni": 7, "soroca": 2}
        assert aggregates.applications_by_channel(s, Filters()) == {"online": 6, "cups": 1, "representative": 1,
                                                                    "diaspora": 1}
        march = Filters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
        assert aggregates.claims_by_benefit(s, march) == {"birth_allowance": 2}
        assert aggregates.claims_by_benefit(s, Filters(benefit="social_aid")) == {"social_aid": 7}
        assert aggregates.applications_by_raion(s, Filters(date_to=dt.date(2026, 1, 9))) == {}


def test_processing_times_deadlines_and_rates_per_agency(app, data):
    with app.app_context():
        rows = aggregates.agency_performance(db.session, Filters(benefit="social_aid"))
        assert len(rows) == 1
        row = rows[0]
        assert (row.decided, row.approved, row.rejected) == (5, 4, 1)
        assert row.median_days == 7.0 and row.p90_days == 60.0
        assert row.approval_rate == 0.8 and row.appeal_rate == 0.0
        assert row.on_time == 4 and row.on_time_rate == 0.8  # 60 days is past social aid's legal deadline


def test_deadline_rule_is_applied_per_claim(app, data):
    with app.app_context():
        rows = aggregates.agency_performance(db.session, Filters(benefit="social_aid"),
                                             due_of=lambda claim, case: claim.application.submitted_at.date()
                                             + dt.timedelta(days=5))
        assert rows[0].on_time == 2  # decided after 3 and 5 days


def test_suppression_of_small_counts_in_the_export(app, data):
    with app.app_context():
        d = aggregates.dashboard(db.session, Filters())
    rows = aggregates.export_rows(d)
    value = {(r["dimension"], r["key"], r["measure"]): r["value"] for r in rows}
    assert value[("benefit", "social_aid", "count")] == 7
    assert value[("benefit", "birth_allowance", "count")] is None  # 2 < 5
    assert value[("channel", "cups", "count")] is None and value[("channel", "online", "count")] == 6
    agency = d.agencies[0].agency
    assert value[("agency", agency, "decided")] == 5 and value[("agency", agency, "rejected")] is None
    assert value[("agency", agency, "approval_rate")] is None  # computed from a suppressed count
    assert aggregates.suppress(0) == 0 and aggregates.suppress(4) is None and aggregates.suppress(5) == 5


def test_flags_raised_and_cleared(app, data):
    from sqlalchemy import select

    from portal.applications.models import Claim
    from portal.assessment.models import RiskFlag

    with app.app_context():
        claim = db.session.scalars(select(Claim)).first()
        for i in range(6):
            db.session.add(RiskFlag(claim_id=claim.id, application_id=claim.application_id, code="income_mismatch",
                                    severity="low", key=f"k{i}", params={},
                                    cleared_at=clock.now() if i < 2 else None))
        db.session.commit()
        assert aggregates.flags(db.session, Filters()) == {"income_mismatch": {"raised": 6, "cleared": 2}}


def test_dashboard_and_exports_for_analysts_only_and_without_persons(app, data, login):
    with app.app_context():
        analyst = staff(db.session, "Irina", "Analist", ("analyst", None))
        worker = staff(db.session, "Elena", "Vasilache", ("case_worker", "ATAS-CENTRU"))
        db.session.commit()
    http = app.test_client()
    login(http, analyst)
    page = http.get("/ministry/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") >= 6 and html.count("<table") >= 6
    assert "Rusu" not in html and "Munteanu" not in html and "ES-2026-" not in html
    assert "&lt;5" in html  # small counts hidden on the page too
    filtered = http.get("/ministry/?benefit=birth_allowance&date_from=2026-03-01").get_data(as_text=True)
    assert '<th scope="row">Ialoveni</th>' in html and '<th scope="row">Ialoveni</th>' not in filtered
    assert '<th scope="row">Soroca</th>' in filtered
    assert http.get("/ministry/?date_from=notadate").status_code == 200  # an invalid filter shows everything
    exported = http.get("/ministry/export.csv?benefit=social_aid")
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {"figure": "claims", "dimension": "benefit", "key": "social_aid", "measure": "count", "value": "7"} in table
    assert not any(r["value"] in {"1", "2", "3", "4"} and r["measure"] in {"count", "decided", "approved"}
                   for r in table)
    assert any(r["value"] == "<5" for r in table)
    body = http.get("/ministry/export.json").get_json()
    assert body["suppressed_below"] == 5 and all(
        r["value"] is None or r["measure"].endswith(("rate", "days")) or r["value"] == 0 or r["value"] >= 5
        for r in body["rows"])
    other = app.test_client()
    login(other, worker)
    assert other.get("/ministry/").status_code == 403
    assert other.get("/ministry/export.csv").status_code == 403
