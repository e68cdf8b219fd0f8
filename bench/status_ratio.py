"""The status page against a bare Flask route, alone: the wrk phase of ``bench.load`` without the load run.

    .venv/bin/python -m bench.status_ratio        # --seconds 15 --rounds 3 --workers 4 --threads 8

A fresh database (``ESOCIAL_RATIO_DATABASE_URL``, default ``esocial_ratio`` on 127.0.0.1) with one citizen,
a login session made directly in the database (SAML has its own tests) and one submitted application. The
portal and ``bench/hello.py`` run under ``config/gunicorn.conf.py`` with the same workers and threads, one
after the other; ``wrk`` (2 threads, 64 connections) reads the application page with the session cookie a
browser holds after its first page, as a plain reload (no validator: the whole page, 200) and as a browser
revalidating what it holds (``If-None-Match``: 304), and "hello", in rounds (hello, reload, revalidation).
Prints requests per second, each round's ratios with the load average, and their medians.
"""
from __future__ import annotations

import argparse
import os
import secrets

import requests

from bench.load import free_port, gunicorn, instance, ratio_rounds, stop, wait_ready

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/esocial_ratio"


def seed(app) -> tuple[str, str]:
    """One citizen with a login session and a submitted application: (signed session cookie, reference)."""
    from portal.accounts.models import Account, LoginSession
    from portal.applications.models import Application, Claim, Evidence
    from portal.backoffice import cases
    from portal.core import clock
    from portal.core.db import db
    from portal.core.idnp import make_idnp
    from portal.routing.rules import route

    with app.app_context():
        s = db.session
        account = Account(idnp=make_idnp("200900000001"), first_name="Ion", last_name="Rusu", language="en",
                          email="ion@example.md")
        s.add(account)
        s.flush()
        application = Application(applicant=account, created_by=account, benefits=["social_aid"], language="en",
                                  raion_code="ialoveni", status="submitted", submitted_at=clock.now(), answers={},
                                  contact_email=account.email)
        s.add(application)
        s.flush()
        application.number = f"ES-2026-{application.id:07d}"
        s.add(Evidence(application=application, item="household", source="rsp", status="fetched",
                       payload={"members": [{"idnp": account.idnp, "first_name": "Ion", "last_name": "Rusu",
                                             "birth_date": "1980-01-01", "relation": "applicant"}]},
                       fetched_at=clock.now()))
        s.add(Claim(application=application, benefit_code="social_aid", agency_code=route("social_aid", "ialoveni"),
                    status="submitted"))
        s.flush()
        s.refresh(application, ["claims"])
        cases.open_cases(s, application)
        sid = secrets.token_urlsafe(32)
        s.add(LoginSession(id=sid, account_id=account.id, name_id=account.idnp))
        ref = application.ref
        s.commit()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": sid, "_fresh": True}), ref


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ESOCIAL_RATIO_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from bench.generate import recreate_database
    from portal import create_app
    from portal.core.migrate import upgrade

    recreate_database(args.database_url)
    upgrade(args.database_url)
    work, settings, env = instance(args.database_url, "esocial-ratio-")
    cookie, ref = seed(create_app(settings))
    print(f"gunicorn {args.workers} workers × {args.threads} threads, wrk 2 threads × {args.connections} "
          f"connections, {args.seconds} s each; load average {os.getloadavg()[0]:.1f}", flush=True)
    port, hello_port = free_port(), free_port()
    portal = gunicorn("wsgi:app", port, env, args.workers, args.threads, work / "portal.log")
    hello = gunicorn("bench.hello:app", hello_port, env, args.workers, args.threads, work / "hello.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", portal)
        wait_ready(f"http://127.0.0.1:{hello_port}/hello", hello)
        url = f"http://127.0.0.1:{port}/applications/{ref}"
        # The cookie as the browser holds it after its first page (with the session's CSRF secret).
        first = requests.get(url, cookies={"esocial_session": cookie}, headers={"Accept-Language": "en"}, timeout=30)
        assert first.status_code == 200, first.status_code
        cookie = first.cookies.get("esocial_session") or cookie
        etag = requests.get(url, cookies={"esocial_session": cookie}, headers={"Accept-Language": "en"},
                            timeout=30).headers["ETag"]
        check = requests.get(url, cookies={"esocial_session": cookie},
                             headers={"Accept-Language": "en", "If-None-Match": etag}, timeout=30)
        assert check.status_code == 304, check.status_code
        ratio_rounds(url, f"http://127.0.0.1:{hello_port}/hello", cookie, etag, args.seconds, args.connections,
                     args.rounds)
    finally:
        stop(portal)
        stop(hello)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
