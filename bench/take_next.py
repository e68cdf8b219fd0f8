"""How fast workers pressing "take the next case" at once drain an agency's queue, and that none is taken twice.

    ESOCIAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/esocial_bench \\
        .venv/bin/python -m bench.take_next [--cases 400] [--workers 1 4 16]

On an empty database it migrates, makes ``--cases`` open cases in ATAS Centru and the workers, then for
each worker count drains the queue with that many threads, each in its own session, and prints cases per
second, p50/p95 of one "take the next case" and the speed-up over one worker.  Each take is one
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a compare-and-set everywhere).  Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from sqlalchemy import func, select, update

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/esocial_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    url = os.environ.get("ESOCIAL_BENCH_DATABASE_URL", DEFAULT_URL)

    from portal import create_app
    from portal.accounts.models import Account, RoleAssignment
    from portal.applications.models import Application, Claim
    from portal.backoffice import cases
    from portal.backoffice.models import AgencyCase
    from portal.config import load_settings
    from portal.core import clock
    from portal.core.db import db
    from portal.core.idnp import make_idnp
    from portal.core.migrate import upgrade

    upgrade(url)
    app = create_app(load_settings("test", overrides={"database_url": url, "secret_key": "bench" * 8}))
    with app.app_context():
        s = db.session
        workers = []
        for i in range(max(args.workers)):
            idnp = make_idnp(f"2008{i:08d}")
            account = s.scalar(select(Account).where(Account.idnp == idnp))
            if account is None:
                account = Account(idnp=idnp, first_name=f"W{i}", last_name="Bench")
                s.add(account)
                s.add(RoleAssignment(idnp=idnp, role="case_worker", agency_code="ATAS-CENTRU"))
            workers.append(account)
        applicant = s.scalar(select(Account).where(Account.idnp == make_idnp("200799999999")))
        if applicant is None:
            applicant = Account(idnp=make_idnp("200799999999"), first_name="Bench", last_name="Applicant")
            s.add(applicant)
        s.flush()
        have = s.scalar(select(func.count()).select_from(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU"))
        for _ in range(max(0, args.cases - have)):
            a = Application(applicant=applicant, created_by=applicant, benefits=["social_aid"], status="submitted",
                            submitted_at=clock.now(), raion_code="ialoveni", answers={})
            s.add(a)
            s.flush()
            s.add(Claim(application=a, benefit_code="social_aid", agency_code="ATAS-CENTRU", status="submitted"))
            s.flush()
            s.refresh(a, ["claims"])
            cases.open_cases(s, a)
        s.commit()
        worker_ids = [w.id for w in workers]

    def reset():
        with app.app_context():
            db.session.execute(update(AgencyCase).where(AgencyCase.agency_code == "ATAS-CENTRU")
                               .values(assigned_to_id=None, assigned_at=None, status="open"))
            db.session.execute(update(Claim).where(Claim.agency_code == "ATAS-CENTRU").values(status="submitted"))
            db.session.commit()

    base = None
    print(f"{'workers':>7} {'cases':>6} {'seconds':>8} {'cases/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'speed-up':>8} twice")
    for n in args.workers:
        reset()
        took: list[int] = []
        latencies: list[float] = []
        lock = threading.Lock()

        def work(account_id):
            with app.app_context():
                while True:
                    s = db.new_session()
                    try:
                        t0 = time.perf_counter()
                        case = cases.take_next(s, actor=s.get(Account, account_id))
                        s.commit()
                        dt_ms = (time.perf_counter() - t0) * 1000
                    finally:
                        s.close()
                    if case is None:
                        return
                    with lock:
                        took.append(case.id)
                        latencies.append(dt_ms)

        threads = [threading.Thread(target=work, args=(worker_ids[i],)) for i in range(n)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        rate = len(took) / seconds
        base = base or rate
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
        print(f"{n:>7} {len(took):>6} {seconds:>8.2f} {rate:>8.1f} {statistics.median(latencies):>7.1f} {p95:>7.1f} "
              f"{rate / base:>7.2f}x {len(took) - len(set(took))}")


if __name__ == "__main__":
    main()
