"""p50/p95 of the pages' database work at a country's size, each with the indexes its plan uses.

    .venv/bin/python -m bench.queries [--samples 200]

Against the database ``bench.generate`` loaded.  For each page it runs the portal's own query functions
(the ones the views call) for many different people, applications and agencies, times each call, and
prints the PostgreSQL plan of every SQL statement the call issued (``EXPLAIN (ANALYZE)`` of the same
statement with the same parameters): which index each table was read through, or ``SEQ SCAN`` where none
was used.

* My applications: ``applications.queries.applications_of`` (and the claims it loads).
* An application page: ``applications.queries.application_for_citizen`` and what the page shows
  (claims, history, evidence, documents).
* An agency's queue page: ``backoffice.queries.queue`` (the first page of 50 of one agency's open and
  waiting cases, most urgent first, with application, applicant, claims and assignee, and their count),
  ``assigned_to``, ``overdue_count`` and ``closed_recently``; and the queue's 11th page (cases 501–550).
* A filtered search, as the back office needs it: one agency's claims for one benefit in one status
  submitted within a month, newest first, one page of 50; and an applicant found by IDNP.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time
from contextlib import contextmanager

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, selectinload

from bench.generate import DEFAULT_URL, NOW
from portal.accounts.models import Account
from portal.applications import queries
from portal.applications.models import Application, Claim
from portal.core.db import db

PAGE = 50


class Recorder:
    """The SQL statements (with parameters) a block issued."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[tuple[str, object]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if self.on and not statement.lstrip().upper().startswith("EXPLAIN"):
            self.statements.append((statement, parameters))

    @contextmanager
    def recording(self):
        self.statements, self.on = [], True
        try:
            yield self
        finally:
            self.on = False


def plan_summary(node: dict, out: list[str], relation: str = "") -> None:
    """``table:how(index)`` for every table read in the plan; ``table:SEQ SCAN`` where no index was used."""
    kind = node.get("Node Type", "")
    relation = node.get("Relation Name") or relation
    if kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
        how = {"Index Scan": "index", "Index Only Scan": "index-only", "Bitmap Index Scan": "bitmap"}[kind]
        out.append(f"{relation}:{how}({node['Index Name']})")
    elif kind == "Seq Scan":
        out.append(f"{relation}:SEQ SCAN")
    for child in node.get("Plans", []):
        plan_summary(child, out, relation if kind in ("Bitmap Heap Scan", "BitmapAnd", "BitmapOr") else "")


def explain(session: Session, statement: str, parameters) -> tuple[str, float]:
    raw = session.connection().connection.dbapi_connection.cursor()
    try:
        raw.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        result = raw.fetchone()[0]
    finally:
        raw.close()
    plan = (json.loads(result) if isinstance(result, str) else result)[0]
    used: list[str] = []
    plan_summary(plan["Plan"], used)
    return ", ".join(dict.fromkeys(used)) or "no table read", plan["Execution Time"]


def my_applications(session: Session, account: Account):
    return [(a.number, [c.status for c in a.claims]) for a in queries.applications_of(session, account)]


def application_page(session: Session, pair: tuple[str, Account]):
    ref, account = pair
    application = queries.application_for_citizen(session, ref, account)
    return (len(application.claims), len(application.events), len(application.evidence), len(application.documents))


def queue_page(session: Session, agency: str):
    """What the queue page reads (``backoffice.views.queue``): the first page of 50 of the agency's open and
    waiting cases, most urgent first, with their applications, applicants, claims and assignees, and the
    count of them; the worker's own cases; the overdue count a supervisor sees; the recently closed."""
    from portal.backoffice import queries as backoffice

    page = backoffice.queue(session, {agency}, exclude_assigned_to=-1)
    mine = backoffice.assigned_to(session, {agency}, -1)
    overdue = backoffice.overdue_count(session, {agency}, NOW.date())
    closed = backoffice.closed_recently(session, {agency})
    return len(page.cases), page.total, len(mine), overdue, len(closed)


def queue_later_page(session: Session, pair: tuple[str, str]):
    """A later page of the queue (the 11th: cases 501 to 550), reached by the "next" links."""
    from portal.backoffice import queries as backoffice

    agency, token = pair
    page = backoffice.queue(session, {agency}, after=token, exclude_assigned_to=-1)
    return len(page.cases), page.total


def _token_of_page(session: Session, agency: str, pages: int) -> str | None:
    from portal.backoffice import queries as backoffice

    token = None
    for _ in range(pages):
        token = backoffice.queue(session, {agency}, after=token).next
        if token is None:
            break
    return token


def search(session: Session, filters: tuple[str, str, str, object, str]):
    agency, benefit, status, month, idnp = filters
    start = month
    end = month.replace(year=month.year + (month.month == 12), month=month.month % 12 + 1)
    page = list(session.scalars(
        select(Claim)
        .where(Claim.agency_code == agency, Claim.benefit_code == benefit, Claim.status == status,
               Claim.created_at >= start, Claim.created_at < end)  # a claim is created when it is submitted
        .options(selectinload(Claim.application).selectinload(Application.applicant))
        .order_by(Claim.created_at.desc(), Claim.id.desc()).limit(PAGE)))
    person = session.scalar(select(Account).where(Account.idnp == idnp))
    return len(page), person is not None


def samples(session: Session, n: int, rng: random.Random) -> dict[str, list]:
    max_app = session.scalar(select(func.max(Application.id)))
    ids = rng.sample(range(1, max_app + 1), min(n, max_app))
    rows = session.execute(select(Application.ref, Application.applicant_id, Application.status)
                           .where(Application.id.in_(ids))).all()
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({r[1] for r in rows})))}
    for a in accounts.values():
        session.expunge(a)
    agencies = sorted(r[0] for r in session.execute(text("SELECT DISTINCT agency_code FROM claim")))
    filters = []
    for _ in range(n):
        month = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        for _ in range(rng.randrange(0, 24)):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        filters.append((rng.choice(agencies), rng.choice(["social_aid", "cold_season_aid", "birth_allowance"]),
                        rng.choice(["approved", "rejected", "in_review", "submitted"]), month,
                        accounts[rng.choice(list(accounts))].idnp))
    return {
        "My applications": [accounts[r[1]] for r in rows],
        "Application page": [(r[0], accounts[r[1]]) for r in rows if r[2] != "draft"],
        "Agency queue page": [rng.choice(agencies) for _ in range(n)],
        "Agency queue, 11th page": [(a, t) for a in agencies if (t := _token_of_page(session, a, 10))],
        "Filtered search": filters,
    }


PAGES = {"My applications": my_applications, "Application page": application_page,
         "Agency queue page": queue_page, "Agency queue, 11th page": queue_later_page, "Filtered search": search}


def run(url: str, n: int, seed: int, only: list[str] | None = None) -> None:
    from portal.core.migrate import upgrade

    upgrade(url)  # the schema of the code being measured (a no-op when the generator ran with it)
    db.configure(url)
    recorder = Recorder(db.engine)
    rng = random.Random(seed)
    with db.new_session() as session:
        counts = {t: session.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in ("account", "application", "claim", "agency_case", "status_event")}
        print("rows: " + ", ".join(f"{t} {c:,}" for t, c in counts.items()))
        data = samples(session, n, rng)
    for name, fn in PAGES.items():
        if only and not any(word.lower() in name.lower() for word in only):
            continue
        if not data[name]:
            print(f"\n{name}: nothing to measure at this size", flush=True)
            continue
        times = []
        example = None
        for i, arg in enumerate(data[name]):
            with db.new_session() as session:
                started = time.perf_counter()
                result = fn(session, arg)
                times.append((time.perf_counter() - started) * 1000)
                example = example or result
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"\n{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(times)} calls (e.g. {example})", flush=True)
        with db.new_session() as session, recorder.recording():
            fn(session, data[name][0])
            statements = list(recorder.statements)
        seen: dict[str, list] = {}  # the same statement in batches (selectin loads of many rows): once, ×N
        with db.new_session() as session:
            for statement, parameters in statements:
                used, ms = explain(session, statement, parameters)
                key = " ".join(statement.split())[:90]
                entry = seen.setdefault(key, [0, 0.0, used])
                entry[0] += 1
                entry[1] += ms
        for key, (count, ms, used) in seen.items():
            times = f"×{count}, " if count > 1 else ""
            print(f"  {times}{ms:7.2f} ms  {used}\n             {key}…")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ESOCIAL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="pages whose name contains one of these words (e.g. queue)")
    args = parser.parse_args(argv)
    run(args.database_url, args.samples, args.seed, args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
