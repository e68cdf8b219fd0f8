"""Live status under load: 1,000 open status pages on one machine, statuses changing, how fast they hear it.

    .venv/bin/python -m bench.live_status                      # 1,000 watchers, SQLite, no Redis
    .venv/bin/python -m bench.live_status --redis-url redis://127.0.0.1:6379/15
    .venv/bin/python -m bench.live_status --database-url postgresql+psycopg://postgres@127.0.0.1:5432/esocial_live

On 127.0.0.1 only, it:

1. makes a fresh database (a temporary SQLite file unless ``--database-url``), ``--watchers`` × 0.8
   citizens, each with one submitted application under review by a case worker, and a login session each;
2. starts the portal under gunicorn with ``config/gunicorn.conf.py``: one worker process, ``gthread``,
   one thread per watcher plus headroom (``--workers`` to spread them);
3. opens the watchers as raw asyncio sockets: every citizen has the application page's stream open, and the
   first fifth of them the "My applications" stream as well (``--watchers`` in all);
4. measures the server's memory (RSS of its worker processes) before and after the watchers connect;
5. changes statuses from this process, as a case worker and the citizen do, through the application services
   (request information ↔ answer), ``--changes`` applications in waves of ``--wave``, each change in its own
   transaction, and records when each commit returned;
6. records when each watcher of a changed application receives the event carrying the new value.

It prints p50/p95/max propagation latency (commit → event at the client), how many events were expected,
received and missed, and memory per watcher (RSS delta / watchers).  It stops by itself: every wait has a
timeout and the whole run is bounded by ``--max-seconds``; the server is always stopped.  Not run in CI.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = "ATAS-CENTRU"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the server ----------------------------------------------------------------------------------------------------

def start_server(port: int, env: dict, workers: int, threads: int, log: Path) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "gunicorn")
    env = {**env, "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads),
           "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_MAX_REQUESTS": "0",
           "PYTHONPATH": str(ROOT)}
    # gthread accepts at most worker_connections at once (default 1000): one per watcher plus room.
    return subprocess.Popen([exe, "-c", "config/gunicorn.conf.py", "--worker-connections", str(threads + 100),
                             "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_ready(url: str, proc: subprocess.Popen, seconds: float) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the portal exited ({proc.returncode}); see its log")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def workers_rss(master: int) -> tuple[int, int]:
    """Total RSS (KiB) and thread count of gunicorn's worker processes."""
    total = threads = 0
    for pid in children(master):
        total += rss_kib(pid)
        try:
            threads += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return total, threads


# --- the people and their applications --------------------------------------------------------------------------

def seed(app, n_citizens: int) -> tuple[list[dict], int]:
    """Citizens with one application under review each, their login cookies, and the case worker's id."""
    from portal.accounts.models import Account, LoginSession, RoleAssignment
    from portal.applications.models import Application, Claim
    from portal.core import clock
    from portal.core.db import session_scope
    from portal.core.idnp import make_idnp

    serializer = app.session_interface.get_signing_serializer(app)
    people = []
    with session_scope() as s:
        worker = Account(idnp=make_idnp("299900000001"), first_name="Bench", last_name="Worker", language="en")
        s.add(worker)
        s.flush()
        s.add(RoleAssignment(idnp=worker.idnp, role="case_worker", agency_code=AGENCY))
        now = clock.now()
        for i in range(n_citizens):
            account = Account(idnp=make_idnp(f"28880{i:07d}"), first_name="Bench", last_name=f"Citizen {i}",
                              language="en", notify_email=False, notify_sms=False)
            s.add(account)
            s.flush()
            application = Application(applicant_id=account.id, created_by_id=account.id, status="submitted",
                                      number=f"ES-2099-{i:07d}", benefits=["social_aid"], language="en",
                                      raion_code="ialoveni", submitted_at=now, current_step="check", version=1)
            s.add(application)
            s.flush()
            s.add(Claim(application_id=application.id, benefit_code="social_aid", agency_code=AGENCY,
                        status="in_review", assigned_to_id=worker.id))
            sid = secrets.token_urlsafe(32)
            s.add(LoginSession(id=sid, account_id=account.id, name_id=account.idnp))
            people.append({"account_id": account.id, "application_id": application.id, "ref": application.ref,
                           "cookie": serializer.dumps({"_user_id": sid, "_fresh": True, "lang": "en"})})
        worker_id = worker.id
    return people, worker_id


def change(application_id: int, worker_id: int) -> tuple[int, str]:
    """One status change through the services, in its own transaction; the application's new version."""
    from portal.accounts.models import Account
    from portal.applications import services
    from portal.applications.models import Application
    from portal.core.db import session_scope

    with session_scope() as s:
        application = s.get(Application, application_id)
        claim = application.claims[0]
        if claim.status == "info_requested":
            services.answer_information(s, application, actor=application.applicant, answer="Here it is.")
        else:
            services.request_information(s, claim, actor=s.get(Account, worker_id),
                                         question="Send the income certificate, please.")
        s.flush()
        return application.version, claim.status


# --- the watchers --------------------------------------------------------------------------------------------------

class Watchers:
    """Raw-socket SSE clients: (key → watcher ids) and every event's arrival time."""

    def __init__(self, port: int):
        self.port = port
        self.connected = 0
        self.failed = 0
        self.arrivals: dict[tuple[int, str], float] = {}  # (watcher, value) → perf_counter at arrival
        self.tasks: list[asyncio.Task] = []

    async def open(self, wid: int, path: str, cookie: str, ready: asyncio.Event, total: int) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 30)
            writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: text/event-stream\r\n"
                          f"Cookie: esocial_session={cookie}\r\nConnection: keep-alive\r\n\r\n").encode())
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 30)
            if b" 200 " not in status:
                raise ConnectionError(status.decode(errors="replace").strip())
            while (await asyncio.wait_for(reader.readline(), 30)) not in (b"\r\n", b""):
                pass  # headers
        except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
            self.failed += 1
            if self.failed <= 3:
                print(f"  watcher {wid} could not connect: {exc!r}", flush=True)
            return
        self.connected += 1
        if self.connected + self.failed >= total:
            ready.set()
        try:
            buffer = b""
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    return
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    fields = dict(line.split(": ", 1) for line in block.decode().splitlines()
                                  if ": " in line and not line.startswith(":"))
                    if fields.get("event") == "changed":
                        self.arrivals.setdefault((wid, fields["data"]), time.perf_counter())
        except (OSError, asyncio.CancelledError):
            return
        finally:
            writer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(args, port: int, master: int, people: list[dict], worker_id: int) -> dict:
    watchers = Watchers(port)
    list_count = args.watchers - len(people)
    plan = []  # (watcher id, kind, person index)
    for i, _ in enumerate(people):
        plan.append((len(plan), "app", i))
    for i in range(list_count):
        plan.append((len(plan), "list", i))
    ready = asyncio.Event()

    await asyncio.to_thread(time.sleep, 1.0)
    rss_before, threads_before = workers_rss(master)
    started = time.perf_counter()
    for wid, kind, i in plan:
        person = people[i]
        path = (f"/applications/{person['ref']}/stream?since=1" if kind == "app"
                else "/applications/stream?since=1-1")
        watchers.tasks.append(asyncio.create_task(watchers.open(wid, path, person["cookie"], ready, len(plan))))
        if wid % 100 == 99:
            await asyncio.sleep(0.05)  # a page load is not a synchronized storm
    try:
        await asyncio.wait_for(ready.wait(), args.connect_seconds)
    except asyncio.TimeoutError:
        pass
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1.5)  # let the server settle, its threads park
    rss_after, threads_after = workers_rss(master)
    print(f"  {watchers.connected} watchers connected in {connect_seconds:.1f} s ({watchers.failed} failed)",
          flush=True)

    by_app: dict[int, list[int]] = {}
    for wid, kind, i in plan:
        by_app.setdefault(i, []).append(wid)
    rng = random.Random(args.seed)
    expected: list[tuple[int, str, float]] = []  # (watcher, value, commit time)
    waves = max(1, args.changes // args.wave)
    for wave in range(waves):
        chosen = rng.sample(range(len(people)), min(args.wave, len(people)))
        for i in chosen:
            person = people[i]
            version, _ = await asyncio.to_thread(change, person["application_id"], worker_id)
            committed = time.perf_counter()
            for wid in by_app[i]:
                kind = plan[wid][1]
                expected.append((wid, str(version) if kind == "app" else f"1-{version}", committed))
        # Wait for this wave's events (bounded), then go on.
        deadline = time.perf_counter() + args.event_timeout
        while time.perf_counter() < deadline and any((w, v) not in watchers.arrivals for w, v, _ in expected):
            await asyncio.sleep(0.02)
        if args.verbose:
            wave_lat = sorted((watchers.arrivals[(w, v)] - t) * 1000 for w, v, t in expected[-len(chosen):]
                              if (w, v) in watchers.arrivals)
            print(f"  wave {wave + 1}: p50 {percentile(wave_lat, 0.5):.0f} ms, max {wave_lat[-1]:.0f} ms", flush=True)

    latencies = [watchers.arrivals[(w, v)] - t for w, v, t in expected if (w, v) in watchers.arrivals]
    for task in watchers.tasks:
        task.cancel()
    await asyncio.gather(*watchers.tasks, return_exceptions=True)
    return {"connected": watchers.connected, "failed": watchers.failed, "connect_seconds": connect_seconds,
            "rss_before": rss_before, "rss_after": rss_after, "threads_before": threads_before,
            "threads_after": threads_after, "expected": len(expected), "latencies": latencies,
            "changes": waves * min(args.wave, len(people))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=400, help="status changes in all")
    parser.add_argument("--wave", type=int, default=40, help="changes made one after another before waiting")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--database-url", default="", help="loopback PostgreSQL (default: a temporary SQLite file)")
    parser.add_argument("--redis-url", default="", help="loopback Redis: processes tell each other of changes")
    parser.add_argument("--poll-seconds", type=float, default=0.25, help="live_poll_seconds of the server")
    parser.add_argument("--connect-seconds", type=float, default=60)
    parser.add_argument("--event-timeout", type=float, default=5)
    parser.add_argument("--max-seconds", type=float, default=300, help="the whole run stops after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each wave's latencies")
    args = parser.parse_args(argv)
    for url in (args.database_url, args.redis_url):
        if url and urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"loopback only: {url}")
    if args.database_url and not any(word in urlsplit(args.database_url).path for word in ("bench", "live")):
        raise SystemExit("the database is emptied first: give one whose name says so (…_live or …_bench)")

    def out_of_time(*_):
        raise TimeoutError("--max-seconds reached")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * args.watchers + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # the server inherits it too

    from portal import create_app
    from portal.config import load_settings
    from portal.core.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="esocial-live-"))
    database_url = args.database_url or f"sqlite:///{work / 'live.db'}"
    if args.database_url:
        from sqlalchemy import create_engine, text

        engine = create_engine(args.database_url)
        with engine.begin() as conn:  # a fresh schema each run
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    upgrade(database_url)
    secret = secrets.token_hex(32)
    overrides = {"database_url": database_url, "secret_key": secret, "instance_path": str(work),
                 "upload_dir": str(work / "uploads"), "redis_url": args.redis_url,
                 "live_poll_seconds": args.poll_seconds}
    app = create_app(load_settings("development", overrides=overrides))
    n_citizens = round(args.watchers * 0.8)
    people, worker_id = seed(app, n_citizens)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESOCIAL_", "GUNICORN_"))}
    env.update(ESOCIAL_ENV="development", ESOCIAL_DATABASE_URL=database_url, ESOCIAL_SECRET_KEY=secret,
               ESOCIAL_INSTANCE_PATH=str(work), ESOCIAL_UPLOAD_DIR=str(work / "uploads"),
               ESOCIAL_REDIS_URL=args.redis_url, ESOCIAL_LIVE_POLL_SECONDS=str(args.poll_seconds),
               ESOCIAL_LOG_LEVEL="warning", ESOCIAL_RATELIMIT_ENABLED="false",
               PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"))
    (work / "metrics").mkdir()
    port = free_port()
    threads = (args.watchers // args.workers) + 64
    print(f"portal: gunicorn {args.workers} × gthread {threads} threads; {args.watchers} watchers "
          f"({n_citizens} application pages, {args.watchers - n_citizens} \"My applications\"); "
          f"{'Redis pub/sub' if args.redis_url else f'database read every {args.poll_seconds} s'}; "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}", flush=True)
    server = start_server(port, env, args.workers, threads, work / "portal.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", server, 60)
        with app.app_context():  # so that this process's commits are published when Redis is configured
            result = asyncio.run(run(args, port, server.pid, people, worker_id))
    except TimeoutError as exc:
        print(f"stopped: {exc}")
        return 2
    finally:
        signal.alarm(0)
        stop_server(server)
        log = (work / "portal.log").read_text(errors="replace")
        if "Traceback" in log:
            print("the server logged errors:\n" + log[-3000:])
        shutil.rmtree(work, ignore_errors=True)

    lat = [x * 1000 for x in result["latencies"]]
    missed = result["expected"] - len(lat)
    delta = result["rss_after"] - result["rss_before"]
    print(f"\nwatchers connected        {result['connected']} of {args.watchers} "
          f"(in {result['connect_seconds']:.1f} s)")
    print(f"status changes            {result['changes']} (waves of {args.wave}), events expected "
          f"{result['expected']}, received {len(lat)}, missed {missed}")
    if lat:
        print(f"propagation latency       p50 {percentile(lat, 0.50):.0f} ms   p95 {percentile(lat, 0.95):.0f} ms   "
              f"max {max(lat):.0f} ms   mean {statistics.fmean(lat):.0f} ms")
    print(f"server RSS (workers)      {result['rss_before'] / 1024:.1f} MiB before, "
          f"{result['rss_after'] / 1024:.1f} MiB with the watchers; threads {result['threads_before']} → "
          f"{result['threads_after']}")
    if result["connected"]:
        print(f"memory per watcher        {delta / result['connected']:.0f} KiB (RSS delta / watchers)")
    load = os.getloadavg()
    print(f"machine                   {os.cpu_count()} cores, load average {load[0]:.1f} at the end (the client, "
          f"the changes and the server share them)")
    ok = bool(lat) and missed == 0 and percentile(lat, 0.95) < 1000
    print(f"target p95 < 1 s           {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
