"""Load a country into PostgreSQL: persons, applications, claims and their history, by COPY.

    .venv/bin/python -m bench.generate --scale 1      # 2.5 million persons, 3 million applications
    .venv/bin/python -m bench.generate --scale 0.02   # 50,000 persons, 60,000 applications

It (re)creates the database named by ``--database-url`` (default ``$ESOCIAL_BENCH_DATABASE_URL`` or
``esocial_bench`` on 127.0.0.1), builds the schema with the real Alembic migrations, then streams rows
made in Python straight into ``COPY … FROM STDIN`` and prints rows per second for each table.  Routing is
the real one (benefit × raion → agency from ``config/``); statuses follow the real transition table;
applications are spread over five years, so most claims are decided and the open ones are the recent ones.

Foreign-key triggers are off during the load (``session_replication_role = replica``: the rows are made
consistent by construction); every index the migrations create is in place while loading, as it would be
in production.  Sequences are moved past the loaded ids, then ``ANALYZE``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass

import psycopg

from portal.core.idnp import make_idnp

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/esocial_bench"
PERSONS = 2_500_000
APPLICATIONS = 3_000_000
CHUNK = 4 * 1024 * 1024
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)
YEARS = 5

FIRST = ["Ion", "Maria", "Elena", "Vasile", "Ana", "Andrei", "Natalia", "Sergiu", "Olga", "Victor", "Tatiana",
         "Nicolae", "Svetlana", "Mihai", "Irina", "Alexandru", "Cristina", "Dumitru", "Galina", "Igor"]
LAST = ["Rusu", "Ceban", "Lungu", "Munteanu", "Popescu", "Cojocaru", "Ciobanu", "Turcan", "Grosu", "Bodiu",
        "Vasilache", "Rotari", "Sandu", "Moraru", "Bivol", "Ivanov", "Gutu", "Railean", "Covaliov", "Melnic"]
BENEFITS = ["social_aid", "cold_season_aid", "birth_allowance"]
REASONS = ["Venitul familiei depășește venitul lunar minim garantat.", "Toate condițiile sunt îndeplinite."]


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


@dataclass
class Plan:
    persons: int
    applications: int
    seed: int = 8


def routes() -> tuple[list[str], dict[tuple[str, str], str], list[float]]:
    """Raions, the real routing of each benefit in each raion, and a population weight per raion."""
    from portal.routing.reference import territory
    from portal.routing.rules import route

    raions = sorted(territory().raions)
    table = {(b, r): route(b, r) for b in BENEFITS for r in raions}
    weights = [8.0 if r.startswith("chisinau") or r == "mun-chisinau" else 1.0 for r in raions]
    return raions, table, weights


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = psycopg_url(url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Copier:
    """``COPY table (columns) FROM STDIN`` fed in large text chunks; prints rows per second."""

    def __init__(self, conn: psycopg.Connection, table: str, columns: list[str]):
        self.conn, self.table, self.columns = conn, table, columns
        self.rows = 0

    def run(self, lines) -> float:
        started = time.perf_counter()
        buffer = io.StringIO()
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                for line in lines:
                    buffer.write(line)
                    self.rows += 1
                    if buffer.tell() >= CHUNK:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                if buffer.tell():
                    copy.write(buffer.getvalue())
        self.conn.commit()
        elapsed = time.perf_counter() - started
        print(f"  {self.table:<14} {self.rows:>11,} rows in {elapsed:7.1f} s = {self.rows / elapsed:>9,.0f} rows/s",
              flush=True)
        return elapsed


def person_lines(plan: Plan, rng: random.Random):
    for i in range(1, plan.persons + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 66))
        email = f"p{i}@example.md" if rng.random() < 0.6 else "\\N"
        phone = f"+3736{i % 10_000_000:07d}" if rng.random() < 0.8 else "\\N"
        lang = "ro" if rng.random() < 0.75 else ("ru" if rng.random() < 0.92 else "en")
        created = NOW - dt.timedelta(seconds=rng.randrange(0, YEARS * 365 * 86400))
        yield (f"{i}\t{make_idnp(f'2{i:011d}')}\t{first}\t{last}\t{born.isoformat()}\t{email}\t{phone}\t{lang}"
               f"\tt\tt\t{_ts(created)}\t{_ts(created)}\n")


PERSON_COLUMNS = ["id", "idnp", "first_name", "last_name", "birth_date", "email", "phone", "language",
                  "notify_email", "notify_sms", "created_at", "last_login_at"]
APPLICATION_COLUMNS = ["id", "ref", "number", "applicant_id", "created_by_id", "channel", "status", "current_step",
                       "benefits", "answers", "language", "contact_email", "contact_phone", "raion_code", "version",
                       "created_at", "updated_at", "submitted_at"]
CLAIM_COLUMNS = ["id", "ref", "application_id", "benefit_code", "agency_code", "status", "decision_reason",
                 "decided_at", "created_at", "updated_at", "case_id", "risk_level"]
# One case per application and agency (the back office's unit of work): open while the agency has work,
# waiting while the citizen is asked, closed once every claim in it is decided.
CASE_COLUMNS = ["id", "ref", "application_id", "agency_code", "status", "due_on", "paused_days", "created_at",
                "updated_at", "closed_at", "risk_level"]
# The cross-checks' risk level of a claim (0 none … 3 high): most claims raise no flag. A case keeps the
# worst of its claims' (the queue's first key).
RISK_LEVELS, RISK_WEIGHTS = (0, 1, 2, 3), (90, 5, 3, 2)
OPEN_STATUSES = {"submitted", "in_review", "info_provided"}
EVENT_COLUMNS = ["application_id", "claim_id", "from_status", "to_status", "note", "created_at"]


def claim_history(rng: random.Random, submitted: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The statuses a claim went through, by the real transition table: decided within ~40 days, so the
    claims still open are the recent ones."""
    age_days = (NOW - submitted).days
    steps = [("submitted", submitted)]
    t = submitted
    r = rng.random()
    if age_days > 45 or r < age_days / 45 * 0.7:
        path = ["in_review"] + (["info_requested", "info_provided"] if rng.random() < 0.2 else [])
        path.append("approved" if rng.random() < 0.7 else "rejected")
    elif r < 0.85:
        path = rng.choice([[], ["in_review"], ["in_review", "info_requested"],
                           ["in_review", "info_requested", "info_provided"]])
    else:
        path = ["in_review"]
    for status in path:
        t = t + dt.timedelta(hours=rng.randrange(1, 24 * max(1, min(age_days, 40)) // max(1, len(path)) + 1))
        if t > NOW:
            t = NOW - dt.timedelta(minutes=rng.randrange(1, 600))
        steps.append((status, t))
    return steps


def generate(url: str, plan: Plan) -> None:
    from portal.core.migrate import upgrade

    rng = random.Random(plan.seed)
    raions, table, weights = routes()
    print(f"database {url.rsplit('@', 1)[-1]}: {plan.persons:,} persons, {plan.applications:,} applications",
          flush=True)
    recreate_database(url)
    t0 = time.perf_counter()
    upgrade(url)
    print(f"  migrations     {time.perf_counter() - t0:7.1f} s", flush=True)

    total_rows = 0
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        conn.execute("SET synchronous_commit = off")
        copier = Copier(conn, "account", PERSON_COLUMNS)
        copier.run(person_lines(plan, rng))
        total_rows += copier.rows

        # Applications, claims and history are made together (one pass), into three COPY streams in turn:
        # first the applications (keeping what the claims need in compact arrays), then claims and events.
        person_raion = [None] + rng.choices(raions, weights=weights, k=plan.persons)
        apps: list[tuple[int, int, dt.datetime, tuple[str, ...]]] = []

        def application_lines():
            for app_id in range(1, plan.applications + 1):
                applicant = rng.randrange(1, plan.persons + 1)
                created = NOW - dt.timedelta(seconds=rng.randrange(0, YEARS * 365 * 86400))
                draft = rng.random() < 0.03
                benefits = tuple(rng.sample(BENEFITS, 2 if rng.random() < 0.4 else 1))
                raion = person_raion[applicant]
                lang = "ro" if rng.random() < 0.75 else "ru"
                if draft:
                    number, status, step, submitted = "\\N", "draft", "questions", "\\N"
                else:
                    submitted_at = created + dt.timedelta(minutes=rng.randrange(3, 60))
                    number, status, step, submitted = (f"ES-{submitted_at.year}-{app_id:07d}", "submitted", "check",
                                                       _ts(submitted_at))
                    apps.append((app_id, applicant, submitted_at, benefits, raion))
                yield (f"{app_id}\t{secrets.token_urlsafe(12)}\t{number}\t{applicant}\t{applicant}\tonline\t{status}"
                       f"\t{step}\t{json.dumps(list(benefits))}\t{{\"remittances\": \"0\"}}\t{lang}"
                       f"\tp{applicant}@example.md\t\\N\t{raion}\t{rng.randrange(1, 6)}\t{_ts(created)}"
                       f"\t{_ts(created)}\t{submitted}\n")

        copier = Copier(conn, "application", APPLICATION_COLUMNS)
        copier.run(application_lines())
        total_rows += copier.rows

        events: list[str] = []
        cases: list[str] = []
        claim_id = case_id = 0

        def claim_lines():
            nonlocal claim_id, case_id
            for app_id, _applicant, submitted_at, benefits, raion in apps:
                by_agency: dict[str, list[tuple[str, dt.datetime, int]]] = {}
                case_of: dict[str, int] = {}
                for benefit in benefits:
                    agency = table[benefit, raion]
                    if agency not in by_agency:
                        case_id += 1
                        by_agency[agency], case_of[agency] = [], case_id
                    claim_id += 1
                    history = claim_history(rng, submitted_at)
                    status, last = history[-1]
                    risk = rng.choices(RISK_LEVELS, RISK_WEIGHTS)[0]
                    by_agency[agency].append((status, last, risk))
                    decided = status in ("approved", "rejected")
                    reason = rng.choice(REASONS) if decided else "\\N"
                    for (before, _), (after, at) in zip([(None, None)] + history[:-1], history):
                        note = reason if after in ("approved", "rejected") else (
                            "Prezentați contractul de arendă." if after == "info_requested" else "\\N")
                        events.append(f"{app_id}\t{claim_id}\t{before or chr(92) + 'N'}\t{after}\t{note}"
                                      f"\t{_ts(at)}\n")
                    yield (f"{claim_id}\t{secrets.token_urlsafe(12)}\t{app_id}\t{benefit}"
                           f"\t{agency}\t{status}\t{reason}\t{_ts(last) if decided else chr(92) + 'N'}"
                           f"\t{_ts(submitted_at)}\t{_ts(last)}\t{case_of[agency]}\t{risk}\n")
                for agency, claims in by_agency.items():
                    statuses = {c[0] for c in claims}
                    last = max(c[1] for c in claims)
                    status = "open" if statuses & OPEN_STATUSES else ("waiting" if "info_requested" in statuses
                                                                       else "closed")
                    due = (submitted_at + dt.timedelta(days=30)).date().isoformat()
                    cases.append(f"{case_of[agency]}\t{secrets.token_urlsafe(12)}\t{app_id}\t{agency}\t{status}"
                                 f"\t{due}\t0\t{_ts(submitted_at)}\t{_ts(last)}"
                                 f"\t{_ts(last) if status == 'closed' else chr(92) + 'N'}"
                                 f"\t{max(c[2] for c in claims)}\n")

        copier = Copier(conn, "claim", CLAIM_COLUMNS)
        copier.run(claim_lines())
        total_rows += copier.rows
        apps.clear()

        copier = Copier(conn, "agency_case", CASE_COLUMNS)
        copier.run(iter(cases))
        total_rows += copier.rows
        cases.clear()

        copier = Copier(conn, "status_event", EVENT_COLUMNS)
        copier.run(iter(events))
        total_rows += copier.rows
        events.clear()

        for tbl in ("account", "application", "claim", "agency_case", "status_event"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{tbl}', 'id'), (SELECT max(id) FROM {tbl}))")
        conn.commit()
    load = time.perf_counter() - started
    print(f"  total          {total_rows:>11,} rows in {load:7.1f} s = {total_rows / load:>9,.0f} rows/s", flush=True)
    t0 = time.perf_counter()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  vacuum analyze {time.perf_counter() - t0:7.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ESOCIAL_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"1 = {PERSONS:,} persons and {APPLICATIONS:,} applications")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        print("the generator loads PostgreSQL (COPY)", file=sys.stderr)
        return 2
    host = args.database_url.rsplit("@", 1)[-1].split("/")[0].split(":")[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("the generator drops and recreates its database: loopback only", file=sys.stderr)
        return 2
    plan = Plan(max(1, round(PERSONS * args.scale)), max(1, round(APPLICATIONS * args.scale)), args.seed)
    generate(args.database_url, plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
