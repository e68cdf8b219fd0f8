"""The application page answered before Flask (``portal.citizen.fastpage``): one statement validates the
session and reads what the validator covers; whatever it cannot prove goes to the ordinary view.  Each test
here is a property that must survive the shortcut: an ended, idle or expired session, another person's
application, a change, a tampered cookie never get the kept page or a 304."""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from flask import request_started
from sqlalchemy import update

from backoffice_helpers import submitted, two_citizens_and_a_case_worker
from portal.accounts.models import LoginSession
from portal.applications import services as app_services
from portal.applications.models import Application
from portal.citizen import fastpage, pagecache
from portal.core import clock
from portal.core.db import db


@pytest.fixture
def world(app, client_as):
    pagecache.cache.clear()
    fastpage.pages.clear()
    with app.app_context():
        s = db.session
        ion, ana, elena = two_citizens_and_a_case_worker(s)
        mine = submitted(s, ion, ["social_aid"])
        hers = submitted(s, ana, ["social_aid"])
        s.commit()
        ids = {"application": mine.id, "ion": ion.id, "ana": ana.id, "elena": elena.id}
        refs = {"ion": mine.ref, "ana": hers.ref}
        for account in (ion, ana, elena):
            s.expunge(account)

    yield app, refs, ids, client_as, {"ion": ion, "ana": ana, "elena": elena}
    pagecache.cache.clear()
    fastpage.pages.clear()


class FlaskRequests:
    """Counts the requests Flask itself handled (those the fast path answered never reach it)."""

    def __init__(self, app):
        self.app, self.count = app, 0

    def __call__(self, sender, **extra):
        self.count += 1

    def __enter__(self):
        request_started.connect(self, self.app)
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self, self.app)


def _held(client, ref):
    """The page as a browser holds it after its first visit: (ETag, body)."""
    client.get(f"/applications/{ref}")  # the session gets its CSRF secret
    page = client.get(f"/applications/{ref}")
    assert page.status_code == 200
    return page.headers["ETag"], page.get_data(as_text=True)


def _answered_before_flask(app, client, ref, etag):
    with FlaskRequests(app) as flask:
        answer = client.get(f"/applications/{ref}", headers={"If-None-Match": etag})
    assert answer.status_code == 304 and flask.count == 0


def _sent_to_login(client, ref, etag):
    """Neither a revalidation nor a plain reload gets the page or a 304: both go to the login page."""
    for headers in ({"If-None-Match": etag}, {}):
        answer = client.get(f"/applications/{ref}", headers=headers)
        assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


def _end_sessions(app, account_id):
    with app.app_context():
        db.session.execute(update(LoginSession).where(LoginSession.account_id == account_id)
                           .values(ended_at=clock.now()))
        db.session.commit()


def test_a_reload_and_a_revalidation_are_one_statement_with_the_same_headers(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, body = _held(ion, refs["ion"])
    with FlaskRequests(app) as flask:
        again = ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag})
        reload = ion.get(f"/applications/{refs['ion']}")
    assert flask.count == 0  # both answered by the one read before Flask
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert reload.status_code == 200 and reload.get_data(as_text=True) == body and reload.headers["ETag"] == etag
    for answer in (again, reload):
        assert answer.headers["Cache-Control"] == "private, no-cache"
        assert "Cookie" in answer.headers["Vary"]
        assert answer.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in answer.headers
        assert "Set-Cookie" not in answer.headers


def test_a_logged_out_session_gets_no_page_and_no_304(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    _end_sessions(app, ids["ion"])  # logout here or through MPass ends the login session on the server
    _sent_to_login(ion, refs["ion"], etag)


def test_a_tampered_or_missing_cookie_gets_no_page(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    cookie = ion.get_cookie("esocial_session").value
    stranger = app.test_client()
    stranger.set_cookie("esocial_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    for client in (stranger, app.test_client()):
        _sent_to_login(client, refs["ion"], etag)


def test_another_persons_application_is_404_with_or_without_the_applicants_validator(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    ana = browser(people["ana"])
    _held(ana, refs["ana"])  # her own page is kept too: nothing of it may answer for his reference
    for headers in ({"If-None-Match": etag}, {}):
        assert ana.get(f"/applications/{refs['ion']}", headers=headers).status_code == 404
    # Her session with his reference, and his session with hers.
    assert ion.get(f"/applications/{refs['ana']}").status_code == 404


def test_a_change_is_a_new_page_for_a_reload_and_for_a_revalidation(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, body = _held(ion, refs["ion"])
    from portal.accounts.models import Account

    with app.test_request_context(), app.app_context():
        s = db.session
        application = s.get(Application, ids["application"])
        app_services.request_information(s, application.claims[0], actor=s.get(Account, ids["elena"]),
                                         question="Where is the lease contract?")
        s.commit()
    revalidated = ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag})
    reload = ion.get(f"/applications/{refs['ion']}")
    for answer in (revalidated, reload):
        assert answer.status_code == 200 and answer.headers["ETag"] != etag
        assert "Where is the lease contract?" in answer.get_data(as_text=True)
        assert answer.get_data(as_text=True) != body


def test_the_idle_and_absolute_timeouts_still_end_the_session(world, settings):
    app, refs, ids, browser, people = world
    start = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.timezone.utc)
    moment = [start]
    clock.set_clock(lambda: moment[0])
    try:
        # Idle: nothing for longer than the idle limit; the kept page and the validator are refused.
        ion = browser(people["ion"])
        etag, _ = _held(ion, refs["ion"])
        moment[0] = start + dt.timedelta(minutes=settings.session_idle_minutes, seconds=1)
        _sent_to_login(ion, refs["ion"], etag)
        with app.app_context():
            assert db.session.query(LoginSession).filter_by(account_id=ids["ion"]).one().ended_at is not None
        # Absolute: active all along (a page every 10 minutes), the session still ends at the absolute limit.
        moment[0] = start
        ion = browser(people["ion"])
        etag, _ = _held(ion, refs["ion"])
        limit = start + dt.timedelta(hours=settings.session_absolute_hours)
        while moment[0] + dt.timedelta(minutes=10) < limit:
            moment[0] += dt.timedelta(minutes=10)
            assert ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag}).status_code in (200, 304)
        moment[0] = limit + dt.timedelta(seconds=1)
        _sent_to_login(ion, refs["ion"], etag)
    finally:
        clock.set_clock(None)


def test_last_seen_is_written_once_a_minute_not_on_every_page(world):
    app, refs, ids, browser, people = world
    start = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.timezone.utc)
    moment = [start]
    clock.set_clock(lambda: moment[0])
    try:
        ion = browser(people["ion"])
        etag, _ = _held(ion, refs["ion"])

        def last_seen():
            with app.app_context():
                return db.session.query(LoginSession).filter_by(account_id=ids["ion"]).one().last_seen_at

        moment[0] = start + dt.timedelta(seconds=30)
        assert ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag}).status_code == 304
        assert last_seen() == start
        moment[0] = start + dt.timedelta(seconds=61)  # due: the request goes through the view, which writes it
        assert ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag}).status_code == 304
        assert last_seen() == moment[0]
    finally:
        clock.set_clock(None)


def test_staff_and_sessions_acting_for_someone_go_through_the_view(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    with ion.session_transaction() as s:
        s["acting_for"] = {"basis": "mandate", "subject": people["ana"].idnp, "mandate": "none-such",
                           "since": clock.now().isoformat()}
    with FlaskRequests(app) as flask:
        ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag})
    assert flask.count == 1  # not answered before the view: the representation is checked there
    elena = browser(people["elena"])
    with FlaskRequests(app) as flask:
        assert elena.get(f"/applications/{refs['ion']}").status_code == 404
    assert flask.count == 1


def test_a_cookie_whose_signature_was_checked_once_still_ages_out(world, monkeypatch):
    """The signature of a cookie is checked once per process; its age, on every request."""
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    _answered_before_flask(app, ion, refs["ion"], etag)
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 5
    monkeypatch.setattr(time, "time", lambda: later)  # the cookie's signed timestamp is now too old
    with FlaskRequests(app) as flask:
        _sent_to_login(ion, refs["ion"], etag)
    assert flask.count == 2  # refused before Flask, and Flask refuses the old cookie too


def test_a_new_secret_key_forgets_the_cookies_checked_under_the_old_one(world):
    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, _ = _held(ion, refs["ion"])
    old = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "another-" + old
    try:
        _sent_to_login(ion, refs["ion"], etag)
    finally:
        app.secret_key = app.config["SECRET_KEY"] = old


@pytest.mark.skipif(not os.environ.get("ESOCIAL_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="the statement goes to libpq directly on PostgreSQL only")
def test_a_connection_that_dies_sends_one_request_to_the_view_then_a_new_one_is_prepared(world):
    from sqlalchemy import text

    app, refs, ids, browser, people = world
    ion = browser(people["ion"])
    etag, body = _held(ion, refs["ion"])
    _answered_before_flask(app, ion, refs["ion"], etag)
    backend = fastpage._held.pgconn.backend_pid  # the test client answers on this thread
    with app.app_context():
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        db.session.commit()
    with FlaskRequests(app) as flask:
        answer = ion.get(f"/applications/{refs['ion']}", headers={"If-None-Match": etag})
    assert flask.count == 1 and answer.status_code == 304  # the view answered, the same way
    with FlaskRequests(app) as flask:
        reload = ion.get(f"/applications/{refs['ion']}")
    assert flask.count == 0 and reload.status_code == 200 and reload.get_data(as_text=True) == body
    assert fastpage._held.pgconn.backend_pid != backend
