"""Load run: 200 concurrent users applying, checking status and working cases for 60 s, on loopback.

    .venv/bin/python -m bench.load                        # a fresh database with 1 % of the country behind it
    .venv/bin/python -m bench.load --background-scale 0   # an empty database
    .venv/bin/python -m bench.load --database-url postgresql+psycopg://postgres@127.0.0.1:5432/esocial_bench \\
        --no-fresh                                        # on the full country loaded by bench.generate

It starts, on 127.0.0.1 only: the registry simulator under gunicorn, the portal under gunicorn with
``config/gunicorn.conf.py`` (``--workers``/``--threads``), then ``--users`` client threads, each a person
with a login session (made directly in the database: SAML has its own tests), for ``--seconds``:

* citizens (``--citizens`` of the users) apply for social aid through every step of the form, with the
  registry prefill over HTTP, submit, then look at "My applications", the application page and the status
  fragment a few times, and apply again;
* case workers open their agency's queue, open a case, take it, ask for information or decide.

It prints requests per second, p50/p95/p99 by kind of request, and the errors (any 5xx, any 4xx, any
connection failure or timeout).  Afterwards it checks the database: every application a citizen saw
submitted is there, submitted, numbered, with its claims and history, and no other application of these
citizens was submitted — zero lost, zero extra.

Then, under the same gunicorn settings in the same run, it measures with ``wrk`` (Debian package) the
throughput of the application status page and of a bare Flask "hello" route (``bench/hello.py``) in rounds
(as ``bench.status_ratio`` does), and prints their ratios and medians.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEFAULT_LOAD_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/esocial_load"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the servers --------------------------------------------------------------------------------------


def gunicorn(target: str, port: int, env: dict, workers: int, threads: int, log: Path) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "gunicorn")
    env = {**env, "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([exe, "-c", "config/gunicorn.conf.py", target], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited ({proc.returncode})")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --- the people ---------------------------------------------------------------------------------------


def choose_people(n_citizens: int, rng: random.Random):
    """Household heads of the simulator's population living in Moldova (the registries know them)."""
    from devstack.population import build_population

    population = build_population()
    heads = [population.persons[h.applicant_idnp] for h in population.households.values()
             if h.address.country == "MD" and h.applicant_idnp in population.persons]
    heads = [p for p in heads if p.alive and (population.today - p.birth_date).days > 20 * 365]
    heads.sort(key=lambda p: p.idnp)
    return rng.sample(heads, n_citizens), population


def seed_people(app, citizens, n_workers: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Accounts, login sessions and signed session cookies; case workers for the citizens' agencies."""
    from portal.accounts.models import Account, LoginSession, RoleAssignment
    from portal.core.db import session_scope
    from portal.core.idnp import make_idnp
    from portal.routing.rules import route

    serializer = app.session_interface.get_signing_serializer(app)

    def login(s, account) -> str:
        sid = secrets.token_urlsafe(32)
        s.add(LoginSession(id=sid, account_id=account.id, name_id=account.idnp))
        return serializer.dumps({"_user_id": sid, "_fresh": True, "lang": "en"})

    people_c, people_w = [], []
    with session_scope() as s:
        agencies = collections.Counter()
        for p in citizens:
            account = s.scalar(select(Account).where(Account.idnp == p.idnp))
            if account is None:
                account = Account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name,
                                  email=f"{p.idnp}@example.md", language="en")
                s.add(account)
                s.flush()
            agencies[route("social_aid", p.address.raion_code)] += 1
            people_c.append({"idnp": p.idnp, "account_id": account.id, "cookie": login(s, account)})
        ordered = [a for a, _ in agencies.most_common()]
        for i in range(n_workers):
            agency = ordered[i % len(ordered)]
            idnp = make_idnp(f"29990{i:07d}")
            account = s.scalar(select(Account).where(Account.idnp == idnp))
            if account is None:
                account = Account(idnp=idnp, first_name="Bench", last_name=f"Worker {i}", language="en")
                s.add(account)
                s.flush()
                s.add(RoleAssignment(idnp=idnp, role="case_worker", agency_code=agency))
            people_w.append({"idnp": idnp, "agency": agency, "cookie": login(s, account)})
    return people_c, people_w


# --- the users ----------------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter = collections.Counter()
        self.error_examples: list[str] = []
        self.submitted: dict[str, str] = {}  # ref -> idnp
        self.requests = 0
        self.conflicts = 0  # case actions refused because another worker acted first (HTTP 409)

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.latency[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1
                if len(self.error_examples) < 10:
                    self.error_examples.append(f"{kind}: {detail}")


class User(threading.Thread):
    def __init__(self, base: str, person: dict, stats: Stats, deadline: float, seed: int):
        super().__init__(daemon=True)
        self.base, self.person, self.stats, self.deadline = base, person, stats, deadline
        self.rng = random.Random(seed)
        self.http = requests.Session()
        self.http.cookies.set("esocial_session", person["cookie"], domain="127.0.0.1")
        self.http.headers["Accept-Language"] = "en"

    def call(self, kind: str, method: str, path: str, expect=(200,), **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            r = self.http.request(method, self.base + path, allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(kind, time.perf_counter() - started, False, f"{path}: {exc.__class__.__name__}")
            return None
        if r.status_code == 409 and kind == "work a case":
            # Two case workers acted on the same case at once: the compare-and-set let one through and
            # refused the other, as designed.  Counted apart; not an error.
            self.stats.record(kind, time.perf_counter() - started, True)
            with self.stats.lock:
                self.stats.conflicts += 1
            return None
        ok = r.status_code in expect
        self.stats.record(kind, time.perf_counter() - started, ok, f"{method} {path} -> {r.status_code}")
        return r if ok else None

    def running(self) -> bool:
        return time.monotonic() < self.deadline


class Citizen(User):
    def run(self) -> None:
        refs: list[str] = []
        while self.running():
            ref = self.apply()
            if ref:
                refs.append(ref)
            for _ in range(self.rng.randrange(2, 5)):
                if not self.running():
                    return
                self.call("my applications", "GET", "/applications")
                if refs:
                    ref = self.rng.choice(refs)
                    self.call("status page", "GET", f"/applications/{ref}")
                    self.call("status fragment", "GET", f"/applications/{ref}/status")

    def apply(self) -> str | None:
        page = self.call("apply", "GET", "/apply")
        if page is None:
            return None
        r = self.call("apply", "POST", "/apply", expect=(303,),
                      data={"csrf_token": CSRF.search(page.text).group(1), "benefits": ["social_aid"]})
        if r is None:
            return None
        location = r.headers["Location"]
        for _ in range(12):
            step = location.rsplit("/", 1)[-1]
            if step == "check":
                break
            page = self.call("form step", "GET", location)
            if page is None:
                return None
            html = page.text
            data = {"csrf_token": CSRF.search(html).group(1)}
            for name in set(re.findall(r'name="(confirm_[a-z]+)"', html)):
                data[name] = "yes"
            if step == "questions":
                data["remittances"] = "0"
            if step == "contact":
                data.update(email=f"{self.person['idnp']}@example.md", phone="+37369100017", language="en")
            r = self.call("form step", "POST", location, expect=(303,), data=data)
            if r is None:
                return None
            location = r.headers["Location"]
        else:
            return None
        ref = location.split("/")[2]
        if not self.running():
            return None  # the run ends: do not leave a submit half-seen
        page = self.call("form step", "GET", location)
        if page is None:
            return None
        r = self.call("submit", "POST", f"/applications/{ref}/submit", expect=(303,),
                      data={"csrf_token": CSRF.search(page.text).group(1), "declaration": "y"})
        if r is None:
            return None
        with self.stats.lock:
            self.stats.submitted[ref] = self.person["idnp"]
        self.call("receipt", "GET", r.headers["Location"])
        return ref


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
FIELD = re.compile(r'<(input|select|textarea)\b([^>]*)>(.*?(?:</select>|</textarea>))?', re.S)


def form_fields(html: str, action_end: str) -> tuple[str, dict] | None:
    """The action and default values of the page's form whose action ends with ``action_end``."""
    for action, body in FORM.findall(html):
        if not action.endswith(action_end):
            continue
        data: dict = {}
        for tag, attrs, inner in FIELD.findall(body):
            name = re.search(r'name="([^"]+)"', attrs)
            if not name:
                continue
            if tag == "select":
                chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', inner or "") or \
                    re.search(r'<option[^>]*value="([^"]+)"', inner or "")
                data[name.group(1)] = chosen.group(1) if chosen else ""
            elif 'type="radio"' in attrs or 'type="checkbox"' in attrs:
                if "checked" in attrs:
                    data[name.group(1)] = re.search(r'value="([^"]*)"', attrs).group(1)
            elif tag == "input":
                value = re.search(r'value="([^"]*)"', attrs)
                data[name.group(1)] = value.group(1) if value else ""
        return action, data
    return None


class CaseWorker(User):
    """Takes the next case of the agency's queue (or one from the list), then asks for information or decides."""

    def run(self) -> None:
        while self.running():
            queue = self.call("queue page", "GET", "/backoffice/")
            if queue is None:
                time.sleep(0.5)
                continue
            taken = None
            if 'action="/backoffice/next"' in queue.text and self.rng.random() < 0.5:
                r = self.call("work a case", "POST", "/backoffice/next", expect=(303,),
                              data={"csrf_token": CSRF.search(queue.text).group(1)})
                if r is not None and "/backoffice/cases/" in r.headers.get("Location", ""):
                    taken = r.headers["Location"].split("/backoffice/cases/")[1]
            if taken is None:
                cases = re.findall(r'href="/backoffice/cases/([A-Za-z0-9_-]+)"', queue.text)
                if not cases:
                    time.sleep(1)
                    continue
                taken = self.rng.choice(cases[:30])
            page = self.call("case page", "GET", f"/backoffice/cases/{taken}")
            if page is None:
                continue
            html = page.text
            take = form_fields(html, f"/cases/{taken}/take")
            if take is not None:
                self.call("work a case", "POST", take[0], expect=(303,), data=take[1])
                page = self.call("case page", "GET", f"/backoffice/cases/{taken}")
                if page is None:
                    continue
                html = page.text
            decide = form_fields(html, "/decide")
            ask = form_fields(html, "/request-info")
            if decide is not None and self.rng.random() < 0.6:
                action, data = decide
                data.update(decision="rejected", reason="Venitul familiei depășește pragul (bench).")
                self.call("work a case", "POST", action, expect=(303,), data=data)
            elif ask is not None:
                action, data = ask
                data.update(question="Prezentați contractul de arendă (bench).")
                self.call("work a case", "POST", action, expect=(303,), data=data)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


def report(stats: Stats, seconds: float) -> None:
    everything = [v for vs in stats.latency.values() for v in vs]
    print(f"\n{stats.requests:,} requests in {seconds:.1f} s = {stats.requests / seconds:,.1f} requests/s; "
          f"p50 {percentile(everything, .5):.0f} ms, p95 {percentile(everything, .95):.0f} ms, "
          f"p99 {percentile(everything, .99):.0f} ms; errors {sum(stats.errors.values())}; "
          f"case actions refused because another worker acted first (409, by design): {stats.conflicts}")
    print(f"  {'kind':<18}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for kind, values in sorted(stats.latency.items()):
        print(f"  {kind:<18}{len(values):>9,}{statistics.median(values) * 1000:>9.0f}"
              f"{percentile(values, .95):>9.0f}{stats.errors[kind]:>8}")
    for example in stats.error_examples:
        print(f"  error: {example}")


def verify(stats: Stats, citizens: list[dict]) -> bool:
    """Every application a citizen saw submitted is in the database, whole; none other was submitted."""
    from portal.accounts.models import Account
    from portal.applications.models import Application, Claim, StatusEvent
    from portal.core.db import session_scope

    with session_scope() as s:
        ids = [c["account_id"] for c in citizens]
        rows = s.execute(select(Application.ref, Application.number, Account.idnp)
                         .join(Account, Account.id == Application.applicant_id)
                         .where(Application.applicant_id.in_(ids), Application.status == "submitted")).all()
        in_db = {ref: (number, idnp) for ref, number, idnp in rows}
        seen = set(stats.submitted)
        lost = seen - set(in_db)
        extra = set(in_db) - seen
        wrong_owner = [ref for ref in seen & set(in_db) if in_db[ref][1] != stats.submitted[ref]]
        unnumbered = [ref for ref in seen & set(in_db) if not in_db[ref][0]]
        refs = list(seen)
        without_claims = without_history = 0
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            with_claims = set(s.scalars(select(Application.ref).join(Claim).where(Application.ref.in_(chunk))))
            with_history = set(s.scalars(select(Application.ref).join(StatusEvent)
                                         .where(Application.ref.in_(chunk), StatusEvent.to_status == "submitted")))
            without_claims += len(set(chunk) - with_claims)
            without_history += len(set(chunk) - with_history)
        total = s.scalar(select(func.count()).select_from(Application))
    print(f"\nafterwards: {len(seen)} applications submitted by the users, {len(in_db)} in the database for them; "
          f"lost {len(lost)}, extra {len(extra)}, wrong applicant {len(wrong_owner)}, unnumbered {len(unnumbered)}, "
          f"without claims {without_claims}, without history {without_history} ({total:,} applications in all)")
    return not (lost or extra or wrong_owner or unnumbered or without_claims or without_history)


def wrk(url: str, cookie: str, seconds: int, connections: int, headers: tuple[str, ...] = ()) -> float:
    extra = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-H", f"Cookie: esocial_session={cookie}", "-H", "Accept-Language: en", *extra, url],
                         capture_output=True, text=True, timeout=seconds + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    errors = re.search(r"Socket errors: (.*)", out.stdout)
    p50 = re.search(r"\n\s+50%\s+(\S+)", out.stdout).group(1)
    print(f"  {url.split('/', 3)[-1]:<40} {rps:>9,.0f} requests/s, p50 {p50}"
          f"{', non-2xx ' + non2xx.group(1) if non2xx else ''}{', ' + errors.group(1) if errors else ''}")
    return rps


def ratio_rounds(page_url: str, hello_url: str, cookie: str, etag: str, seconds: int, connections: int,
                 rounds: int) -> tuple[float, float]:
    """Rounds of hello, the page reloaded (200) and the page revalidated (304, ``etag``), one after the other:
    other work on the machine moves all three, so each round's ratios are taken from its own minute.  Prints
    each round and returns the medians (plain reload / hello, revalidated / hello)."""
    ratios = []
    for n in range(rounds):
        load = os.getloadavg()[0]
        hello_rps = wrk(hello_url, cookie, seconds, connections)
        full = wrk(page_url, cookie, seconds, connections)
        revalidated = wrk(page_url, cookie, seconds, connections, headers=(f"If-None-Match: {etag}",))
        ratios.append((full / hello_rps, revalidated / hello_rps))
        print(f"  round {n + 1}: plain reload (200) / hello = {full / hello_rps:.2f}; revalidated (304) / "
              f"hello = {revalidated / hello_rps:.2f} (load average {load:.1f} → {os.getloadavg()[0]:.1f})",
              flush=True)
    reloads, revalidations = sorted(r[0] for r in ratios), sorted(r[1] for r in ratios)
    medians = reloads[rounds // 2], revalidations[rounds // 2]
    print(f"median of {rounds} rounds: plain reload / hello = {medians[0]:.2f}; revalidated / hello = "
          f"{medians[1]:.2f} (target ≥ 0.5)")
    return medians


def instance(database_url: str, prefix: str, **extra_env: str):
    """A throw-away instance folder, the development settings on ``database_url`` with a fresh secret key, and
    the environment that gives gunicorn's processes the same: ``(work, settings, env)``."""
    from portal.config import load_settings

    work = Path(tempfile.mkdtemp(prefix=prefix))
    secret = secrets.token_hex(32)
    settings = load_settings("development", overrides={
        "database_url": database_url, "secret_key": secret, "instance_path": str(work),
        "upload_dir": str(work / "uploads")})
    (work / "metrics").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESOCIAL_", "GUNICORN_"))}
    env.update(ESOCIAL_ENV="development", ESOCIAL_DATABASE_URL=database_url, ESOCIAL_SECRET_KEY=secret,
               ESOCIAL_INSTANCE_PATH=str(work), ESOCIAL_UPLOAD_DIR=str(work / "uploads"),
               PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"), ESOCIAL_LOG_LEVEL="warning", **extra_env)
    return work, settings, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ESOCIAL_LOAD_DATABASE_URL", DEFAULT_LOAD_URL))
    parser.add_argument("--no-fresh", dest="fresh", action="store_false",
                        help="use the database as it is (else: recreate it and load --background-scale)")
    parser.add_argument("--background-scale", type=float, default=0.01,
                        help="the country behind the users, as bench.generate --scale (0 = none)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--citizens", type=float, default=0.75, help="share of the users who are citizens")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of the portal")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--ratio-seconds", type=int, default=15, help="wrk run for each of status page and hello")
    parser.add_argument("--ratio-rounds", type=int, default=3, help="rounds of hello, reload, revalidation")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    host = args.database_url.rsplit("@", 1)[-1].split("/")[0].split(":")[0]
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("loopback only")

    from bench.generate import Plan, generate, recreate_database
    from portal import create_app
    from portal.core.migrate import upgrade

    rng = random.Random(args.seed)
    if args.fresh:
        if args.background_scale > 0:
            generate(args.database_url, Plan(round(2_500_000 * args.background_scale),
                                             round(3_000_000 * args.background_scale), args.seed))
        else:
            recreate_database(args.database_url)
            upgrade(args.database_url)
    registry_port, portal_port, hello_port = free_port(), free_port(), free_port()
    work, settings, env = instance(args.database_url, "esocial-load-",
                                   ESOCIAL_REGISTRY_BASE_URL=f"http://127.0.0.1:{registry_port}")
    app = create_app(settings)
    n_citizens = round(args.users * args.citizens)
    citizens_p, _ = choose_people(n_citizens, rng)
    citizens, workers = seed_people(app, citizens_p, args.users - n_citizens, rng)

    print(f"\nportal: gunicorn {args.workers} workers × {args.threads} threads; registry simulator: gunicorn "
          f"2 × 16; {len(citizens)} citizens and {len(workers)} case workers for {args.seconds} s", flush=True)
    registry = gunicorn("devstack.registry_sim:create_app()", registry_port, env, 2, 16, work / "registry.log")
    portal = gunicorn("wsgi:app", portal_port, env, args.workers, args.threads, work / "portal.log")
    hello = None
    try:
        wait_ready(f"http://127.0.0.1:{registry_port}/_faults", registry)
        wait_ready(f"http://127.0.0.1:{portal_port}/readyz", portal)
        base = f"http://127.0.0.1:{portal_port}"
        stats = Stats()
        deadline = time.monotonic() + args.seconds
        users = [Citizen(base, p, stats, deadline, rng.randrange(1 << 30)) for p in citizens]
        users += [CaseWorker(base, p, stats, deadline, rng.randrange(1 << 30)) for p in workers]
        started = time.monotonic()
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - started
        report(stats, elapsed)
        whole = verify(stats, citizens)

        if args.ratio_seconds and shutil.which("wrk") and stats.submitted:
            ref, idnp = next(iter(stats.submitted.items()))
            cookie = next(c["cookie"] for c in citizens if c["idnp"] == idnp)
            hello = gunicorn("bench.hello:app", hello_port, env, args.workers, args.threads, work / "hello.log")
            wait_ready(f"http://127.0.0.1:{hello_port}/hello", hello)
            print(f"\nthroughput under the same gunicorn settings ({args.workers} × {args.threads}), wrk 64 "
                  f"connections, {args.ratio_seconds} s each, {args.ratio_rounds} rounds:")
            # The session cookie as a browser holds it after its first page (with the session's CSRF secret):
            # wrk never stores cookies, and a cookie without it would get a new secret, so a new page, each time.
            first = requests.get(f"{base}/applications/{ref}", cookies={"esocial_session": cookie},
                                 headers={"Accept-Language": "en"}, timeout=30)
            cookie = first.cookies.get("esocial_session") or cookie
            # A browser that holds the page asks with its ETag and gets 304 until the application changes.
            etag = requests.get(f"{base}/applications/{ref}", cookies={"esocial_session": cookie},
                                headers={"Accept-Language": "en"}, timeout=30).headers["ETag"]
            ratio_rounds(f"{base}/applications/{ref}", f"http://127.0.0.1:{hello_port}/hello", cookie, etag,
                         args.ratio_seconds, 64, args.ratio_rounds)
        errors = sum(stats.errors.values())
        print(f"\nresult: {'PASS' if whole and errors == 0 else 'FAIL'} (errors {errors}, database "
              f"{'whole' if whole else 'NOT whole'}); server logs in {work}")
        return 0 if whole and errors == 0 else 1
    finally:
        for proc in (hello, portal, registry):
            if proc is not None:
                stop(proc)


if __name__ == "__main__":
    raise SystemExit(main())
