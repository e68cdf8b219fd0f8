"""What one answer of the status page costs, part by part, in one process (no gunicorn, no wrk).

    .venv/bin/python -m bench.status_answer          # --answers 3000

The same fresh database and citizen as ``bench.status_ratio`` (``ESOCIAL_RATIO_DATABASE_URL``, default
``esocial_ratio`` on 127.0.0.1).  CPU time is this process's (``time.process_time``: user and system, so
the round trip's system calls count); PostgreSQL's is read from its server process's ``/proc`` entry when
the server runs on this machine.  Prints, in microseconds per call:

* a whole answer before Flask (revalidation, 304) and a bare Flask "hello" (``bench/hello.py``), both
  called as WSGI apps;
* the parts: the session cookie checked in full and as kept, the statement through psycopg's cursor and
  through libpq directly, and PostgreSQL's CPU per execution (and per ``SELECT 1``, for scale);
* a process's start: importing ``wsgi`` (which warms the app) and the first application page after it,
  and the first page of an app that was not warmed, each in a new interpreter.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time

from bench.load import ROOT, instance
from bench.status_ratio import DEFAULT_URL, seed


def cpu_per_call(fn, n: int) -> float:
    for _ in range(min(n, 200)):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return 1e6 * (time.process_time() - started) / n


def server_cpu(pid: int) -> float:
    """Seconds of CPU a local process has used (user + system)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


COLD = """
import json, sys, time
started = time.process_time()
if sys.argv[1] == "warm":
    import wsgi
    app = wsgi.app
else:
    from portal import create_app
    app = create_app()
loaded = time.process_time()
client = app.test_client()
client.set_cookie("esocial_session", sys.argv[2], domain="localhost")
page = client.get("/applications/" + sys.argv[3], headers={"Accept-Language": "en"})
assert page.status_code == 200, page.status_code
print(json.dumps({"load": loaded - started, "first": time.process_time() - loaded}))
"""


def cold_start(kind: str, env: dict, cookie: str, ref: str) -> dict:
    out = subprocess.run([sys.executable, "-c", COLD, kind, cookie, ref], cwd=ROOT, capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(ROOT)}, timeout=300)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ESOCIAL_RATIO_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--answers", type=int, default=3000)
    args = parser.parse_args(argv)
    n = args.answers

    from bench.generate import recreate_database
    from portal.core.migrate import upgrade

    recreate_database(args.database_url)
    upgrade(args.database_url)
    _work, settings, env = instance(args.database_url, "esocial-answer-")
    os.environ.update({k: v for k, v in env.items() if k.startswith(("ESOCIAL_", "PROMETHEUS_"))})

    from sqlalchemy import text

    from bench.hello import app as hello
    from portal import create_app
    from portal.citizen import fastpage
    from portal.core import clock
    from portal.core.db import db

    app = create_app(settings)
    cookie, ref = seed(app)
    client = app.test_client()
    client.set_cookie("esocial_session", cookie, domain="localhost")
    assert client.get(f"/applications/{ref}", headers={"Accept-Language": "en"}).status_code == 200
    cookie = client.get_cookie("esocial_session", domain="localhost").value  # now with its CSRF secret
    etag = client.get(f"/applications/{ref}", headers={"Accept-Language": "en"}).headers["ETag"]

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/applications/{ref}", "QUERY_STRING": "", "SCRIPT_NAME": "",
               "HTTP_COOKIE": f"esocial_session={cookie}", "HTTP_ACCEPT_LANGUAGE": "en", "HTTP_IF_NONE_MATCH": etag,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http"}
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call(wsgi, env):
        def once():
            b"".join(wsgi(dict(env, **{"wsgi.input": io.BytesIO()}), start_response))
        return once

    page, flask_hello = app.wsgi_app, hello.wsgi_app
    answer = cpu_per_call(call(page, environ), n)
    assert statuses[-1].startswith("304"), statuses[-1]
    hello_cpu = cpu_per_call(call(flask_hello, dict(environ, PATH_INFO="/hello")), n)
    print(f"per call, CPU of this process, {n:,} calls each ({settings.database_url.split('@')[-1]}):")
    print(f"  status page answered before Flask (304)   {answer:8.0f} µs")
    print(f"  bare Flask hello                           {hello_cpu:8.0f} µs   (ratio of CPU {hello_cpu / answer:.2f})")

    serializer, _verified = page.signing()
    max_age = int(app.permanent_session_lifetime.total_seconds())
    print(f"  the cookie checked in full (itsdangerous)  {cpu_per_call(lambda: serializer.loads(cookie, max_age=max_age), n):8.0f} µs")
    print(f"  the cookie as kept (its age only)          {cpu_per_call(lambda: page.session(cookie), n):8.0f} µs")

    with app.app_context():
        engine = page.engine(db.engine)
        sid = serializer.loads(cookie)["_user_id"]
    now = clock.now()
    params = {"sid": sid, "ref": ref, "seen_after": now - dt.timedelta(seconds=60),
              "started_after": now - dt.timedelta(hours=8)}
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            compiled = fastpage._statement().compile(dialect=engine.dialect)
            pyformat, values = str(compiled), compiled.construct_params(params)

            def through_cursor():
                cursor.execute(pyformat, values, prepare=True)
                cursor.fetchone()
            print(f"  the statement through psycopg's cursor     {cpu_per_call(through_cursor, n):8.0f} µs")
        print(f"  the statement through libpq (the fast path){cpu_per_call(lambda: fastpage._read(engine, params), n):8.0f} µs")
        pgconn = fastpage._held.pgconn
        try:
            backend = pgconn.backend_pid
            server_cpu(backend)
        except OSError:
            print("  (PostgreSQL is not on this machine: its CPU is not shown)")
        else:
            before = server_cpu(backend)
            for _ in range(n * 3):
                fastpage._read(engine, params)
            statement = 1e6 * (server_cpu(backend) - before) / (n * 3)
            pgconn.prepare(b"bench_select_1", b"SELECT 1")
            before = server_cpu(backend)
            for _ in range(n * 3):
                pgconn.exec_prepared(b"bench_select_1", [])
            select_1 = 1e6 * (server_cpu(backend) - before) / (n * 3)
            print(f"  PostgreSQL's CPU per execution             {statement:8.0f} µs   (SELECT 1: {select_1:.0f} µs)")
    else:
        print(f"  the statement (SQLAlchemy, {engine.dialect.name})        {cpu_per_call(lambda: fastpage._read(engine, params), n):8.0f} µs")
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()

    warm = cold_start("warm", env, cookie, ref)
    cold = cold_start("cold", env, cookie, ref)
    print("a new process (its CPU):")
    print(f"  import wsgi (create the app and warm it)   {warm['load']:8.2f} s;  first application page after it "
          f"{1000 * warm['first']:6.0f} ms")
    print(f"  create the app without warming             {cold['load']:8.2f} s;  first application page after it "
          f"{1000 * cold['first']:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
