"""The integration API and the figures at scale: a page of cases, "changes since", one case, the dashboard.

    .venv/bin/python -m bench.api [--applications 5000] [--repeat 20]
    ESOCIAL_BENCH_DATABASE_URL=postgresql+psycopg://… .venv/bin/python -m bench.api

On a fresh database built by the migrations (a temporary SQLite file unless ``ESOCIAL_BENCH_DATABASE_URL``
names one) it makes ``--applications`` submitted applications in several raions, each with a case per agency
(written through the ORM, so the webhook outbox rows are written by the same flushes), decides a third of
the claims, then through the WSGI test client with a real bearer token times: ``GET /api/v1/cases`` (first
page of 20), the same with ``changed_since`` near the end, ``GET /api/v1/cases/<ref>``, and the ministry's
``aggregates.dashboard`` over everything; it prints p50/p95 in milliseconds and the outbox rows per case.
It also times a flush of 200 claims' status events with and without the outbox hook, and prints the ratio.
Not run by CI.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("ESOCIAL_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"

    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from portal import create_app
    from portal.accounts.models import Account
    from portal.api import auth, webhooks
    from portal.api.models import WebhookEvent
    from portal.applications.models import Application, Claim, StatusEvent
    from portal.backoffice import cases
    from portal.backoffice.models import AgencyCase
    from portal.config import load_settings
    from portal.core import clock
    from portal.core.db import db
    from portal.core.idnp import make_idnp
    from portal.core.migrate import upgrade
    from portal.figures import aggregates
    from portal.routing.rules import route

    upgrade(url)
    app = create_app(load_settings("test", overrides={"database_url": url, "secret_key": "bench" * 8}))
    raions = ["ialoveni", "criuleni", "soroca", "drochia", "cahul", "balti"]
    benefits = [["social_aid"], ["social_aid", "cold_season_aid"], ["birth_allowance"]]
    with app.app_context():
        s = db.session
        start = time.perf_counter()
        base = clock.now() - dt.timedelta(days=60)
        for i in range(args.applications):
            person = Account(idnp=make_idnp(f"2006{i:08d}"), first_name="B", last_name=f"{i}")
            raion = raions[i % len(raions)]
            chosen = benefits[i % len(benefits)]
            a = Application(applicant=person, created_by=person, benefits=chosen, raion_code=raion, answers={},
                            status="submitted", submitted_at=base + dt.timedelta(minutes=i))
            s.add(a)
            s.flush()
            a.number = f"ES-2026-{a.id:07d}"
            for code in chosen:
                s.add(Claim(application=a, benefit_code=code, agency_code=route(code, raion), status="submitted"))
            s.flush()
            s.refresh(a, ["claims"])
            cases.open_cases(s, a)
            if i % 3 == 0:
                claim = a.claims[0]
                claim.status, claim.decided_at = "approved", a.submitted_at + dt.timedelta(days=i % 20)
            if i % 500 == 499:
                s.commit()
        s.commit()
        built = time.perf_counter() - start
        n_cases = s.scalar(select(func.count()).select_from(AgencyCase))
        n_events = s.scalar(select(func.count()).select_from(WebhookEvent))
        client, secret = auth.create_client(s, client_id="bench", name="bench", agency_code="ATAS-CENTRU")
        s.commit()
        mine = s.scalars(select(AgencyCase.ref).where(AgencyCase.agency_code == "ATAS-CENTRU")).all()
        cursor = s.scalar(select(func.max(WebhookEvent.id))) or 0

    print(f"{args.applications} applications, {n_cases} cases, {n_events} outbox rows "
          f"({n_events / max(n_cases, 1):.2f} per case), built in {built:.1f} s on {url.split(':')[0]}")
    http = app.test_client()
    token = http.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": "bench",
                                                   "client_secret": secret}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def timed(path: str) -> list[float]:
        out = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            response = http.get(path, headers=headers)
            out.append(time.perf_counter() - t)
            assert response.status_code == 200, response.status_code
        return out

    print(f"GET /api/v1/cases (page of 20, of {len(mine)})        {_ms(timed('/api/v1/cases?per_page=20'))}")
    print(f"GET /api/v1/cases?changed_since=<recent>            "
          f"{_ms(timed(f'/api/v1/cases?changed_since={max(cursor - 50, 0)}'))}")
    print(f"GET /api/v1/cases/<ref>                             {_ms(timed(f'/api/v1/cases/{mine[len(mine) // 2]}'))}")
    with app.app_context():
        samples = []
        for _ in range(max(3, args.repeat // 4)):
            t = time.perf_counter()
            aggregates.dashboard(db.session, aggregates.Filters())
            samples.append(time.perf_counter() - t)
        print(f"aggregates.dashboard (everything)                   {_ms(samples)}")

        def flush_events(n: int = 200) -> float:
            claims = db.session.scalars(select(Claim).limit(n)).all()
            t = time.perf_counter()
            for claim in claims:
                db.session.add(StatusEvent(application_id=claim.application_id, claim=claim,
                                           from_status=claim.status, to_status=claim.status))
            db.session.flush()
            elapsed = time.perf_counter() - t
            db.session.rollback()
            return elapsed

        with_hook = statistics.median(flush_events() for _ in range(5))
        event.remove(Session, "after_flush", webhooks._outbox)
        try:
            without = statistics.median(flush_events() for _ in range(5))
        finally:
            event.listen(Session, "after_flush", webhooks._outbox)
        print(f"flush of 200 status events: with the outbox {with_hook * 1000:.1f} ms, without {without * 1000:.1f} ms, "
              f"ratio {with_hook / without:.2f}")


if __name__ == "__main__":
    main()
