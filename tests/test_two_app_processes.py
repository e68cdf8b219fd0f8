"""Two app processes, one database: a citizen moved between them at every request, as a load balancer
without session affinity would.

Each process is gunicorn serving ``wsgi:app`` with ``config/gunicorn.conf.py``, configured only through the
environment, exactly as production runs it.  The login starts on one process and the IdP's answer is posted
to the other; every step of the application alternates; submitting, the status page and logging out do too.
Nothing the user does depends on which process answered.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from conftest import free_port
from devstack.demo_people import by_idnp
from saml_helpers import post_form
from test_journey import answer_every_step, csrf

pytest_plugins = ["registry_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
ION = by_idnp("2005001000017")

pytestmark = pytest.mark.skipif(shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None,
                                reason="gunicorn is not installed in this environment")


class Response:
    """What the journey helpers read from a response (the shape of Flask's test client)."""

    def __init__(self, r: requests.Response, served_by: str):
        self.status_code, self.headers, self.served_by = r.status_code, r.headers, served_by
        self._text = r.text

    def get_data(self, as_text: bool = False):
        return self._text if as_text else self._text.encode()


class RoundRobin:
    """One browser (one cookie jar) whose requests go to each app process in turn."""

    def __init__(self, bases: list[str]):
        self.bases = bases
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        self.turn = 0
        self.served: list[str] = []

    def _base(self) -> str:
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        return base

    def request(self, method: str, path: str, **kwargs) -> Response:
        base = self._base()
        r = self.http.request(method, base + path, allow_redirects=False, timeout=30, **kwargs)
        served = r.headers.get("X-Served-By", base)
        self.served.append(base)
        return Response(r, served)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)


@pytest.fixture
def two_processes(settings, registry_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESOCIAL_", "GUNICORN_"))}
    env.update(ESOCIAL_ENV="test", ESOCIAL_DATABASE_URL=settings.database_url,
               ESOCIAL_SECRET_KEY=settings.secret_key, ESOCIAL_INSTANCE_PATH=settings.instance_path,
               ESOCIAL_UPLOAD_DIR=settings.upload_dir, ESOCIAL_SP_CERT_FILE=settings.sp_cert_file,
               ESOCIAL_SP_KEY_FILE=settings.sp_key_file, ESOCIAL_IDP_METADATA_FILE=settings.idp_metadata_file,
               ESOCIAL_REGISTRY_BASE_URL=registry_server.base_url, GUNICORN_WORKERS="1", GUNICORN_THREADS="4",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), PYTHONPATH=str(ROOT))
    (tmp_path / "metrics").mkdir()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    procs, bases = [], []
    for _ in range(2):
        port = free_port()
        procs.append(subprocess.Popen([gunicorn, "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                       "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        for proc, base in zip(procs, bases):
            while True:
                assert proc.poll() is None, proc.stderr.read()[-3000:]
                try:
                    if requests.get(base + "/readyz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or still importing the app
                    pass
                assert time.monotonic() < deadline, "gunicorn did not become ready"
                time.sleep(0.2)
        yield bases
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_citizen_moves_between_two_app_processes_mid_journey(app, two_processes, idp, make_account):
    from portal.accounts.models import LoginSession
    from portal.applications.models import Application
    from portal.core.db import db

    registry_pids = set()
    browser = RoundRobin(two_processes)

    # Log in: the AuthnRequest comes from one process, MPass posts the answer to the other.
    start = browser.get("/auth/login?next=/applications")
    assert start.status_code == 200
    _, fields = post_form(start.get_data(as_text=True))
    saml_response, _ = idp.respond(fields, person=ION)
    acs = browser.post("/auth/acs", data={"SAMLResponse": saml_response})
    assert acs.status_code == 303 and acs.headers["Location"] == "/applications"
    assert browser.served[-2] != browser.served[-1]
    # The same answer posted again to the process that did not take it is refused there: what was used is kept
    # in the database both processes share, not in the memory of the one that saw it.
    other = next(base for base in two_processes if base != browser.served[-1])
    replay = requests.post(other + "/auth/acs", data={"SAMLResponse": saml_response}, allow_redirects=False,
                           headers={"Accept-Language": "en"}, timeout=30)
    assert replay.status_code == 400 and "You have not been logged in" in replay.text
    with app.app_context():
        from portal.audit.models import AuditEvent

        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
        reasons = [e.details.get("reason") for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_refused"))]
        assert reasons and set(reasons) <= {"request_used", "replayed"}, reasons
    assert browser.get("/applications").status_code == 200

    # Apply: the form's steps (and their CSRF tokens) alternate between the processes.
    page = browser.get("/apply")
    chosen = browser.post("/apply", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                          "benefits": ["social_aid"]})
    assert chosen.status_code == 303, chosen.get_data(as_text=True)[:2000]
    check = answer_every_step(browser, chosen.headers["Location"])
    ref = check.split("/")[2]
    token = csrf(browser.get(check).get_data(as_text=True))
    submitted = browser.post(f"/applications/{ref}/submit", data={"csrf_token": token, "declaration": "y"})
    assert submitted.status_code == 303
    receipt = browser.get(submitted.headers["Location"])
    assert receipt.status_code == 200 and re.search(r"ES-\d{4}-\d{7}", receipt.get_data(as_text=True))
    status = browser.get(f"/applications/{ref}")
    assert status.status_code == 200 and ref in browser.get("/applications").get_data(as_text=True)
    assert len(set(browser.served)) == 2 and registry_pids == set()

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)
                                 .where(Application.ref == ref, Application.status == "submitted")) == 1

    # Logging out on one process ends the session on the other too (it is a database row, not process memory).
    page = browser.get("/applications")
    out = browser.post("/auth/logout", data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert out.status_code in (200, 302, 303)
    for _ in range(2):
        after = browser.get("/applications")
        assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)
                                 .where(LoginSession.ended_at.is_(None))) == 0
