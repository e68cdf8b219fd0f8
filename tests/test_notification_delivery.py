"""Delivery over real SMTP and HTTP to the development sinks: languages, retries, recovery, concurrency."""
import dataclasses
import datetime as dt
import socket
import threading
import time

import pytest
import requests
from sqlalchemy import select

from devstack.inbox import Inbox, create_app, serve_in_thread
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import session_scope
from portal.notifications import delivery
from portal.notifications.delivery import (MAX_ATTEMPTS, backoff, claim, deliver_pending, recover_stuck,
                                           run_worker)
from portal.notifications.models import Notification
from portal.notifications.services import notify

T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone.utc)


def free_port() -> int:
    """aiosmtpd's Controller cannot start on port 0: pick a free port first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clock:
    def __init__(self, start):
        self.value = start

    def __call__(self):
        return self.value

    def advance(self, delta):
        self.value += delta


@pytest.fixture
def now():
    c = Clock(T0)
    clock.set_clock(c)
    yield c
    clock.set_clock(None)


@pytest.fixture
def inbox():
    box = Inbox(smtp_host="127.0.0.1", smtp_port=free_port()).start()
    server = serve_in_thread(create_app(box))
    box.http_url = f"http://127.0.0.1:{server.port}"
    yield box
    server.shutdown()
    box.stop()


@pytest.fixture
def sink_settings(settings, inbox):
    return dataclasses.replace(settings, smtp_port=inbox.smtp_port, sms_gateway_url=f"{inbox.http_url}/sms/send")


@pytest.fixture
def portal(app, sink_settings, monkeypatch):
    """The portal app, pointed at this test's sinks."""
    monkeypatch.setitem(app.config, "ESOCIAL", sink_settings)
    return app


def api(inbox, **query):
    response = requests.get(f"{inbox.http_url}/api/messages", params=query, timeout=5)
    response.raise_for_status()
    return response.json()["messages"]


def submit(account, number="2025-000123", template="application_submitted", params=None):
    """What a domain service does: change something and notify, in one transaction."""
    with session_scope() as s:
        application = Application(applicant_id=account.id, created_by_id=account.id, number=number,
                                  status="submitted", benefits=["social_aid", "birth_allowance"])
        s.add(application)
        s.flush()
        notify(s, account, template, params or {"number": number, "benefits": ["social_aid", "birth_allowance"]},
               application=application)
        return application.ref


def rows(channel=None):
    with session_scope() as s:
        q = select(Notification).order_by(Notification.id)
        if channel:
            q = q.where(Notification.channel == channel)
        return list(s.scalars(q))


GREETING = {"en": "Hello %s,", "ro": "Bună ziua, %s,", "ru": "Здравствуйте, %s!"}
RECEIVED = {"en": "Application %s received", "ro": "Am primit cererea %s", "ru": "Заявление %s получено"}


def test_email_and_sms_arrive_in_each_recipients_language(portal, inbox, make_account, sink_settings, now):
    people = {
        "ro": make_account(first_name="Ion", email="ion@example.md", phone="+37369000001", language="ro"),
        "ru": make_account(first_name="Мария", email="maria@example.md", phone="+37369000002", language="ru"),
        "en": make_account(first_name="Ana", email="ana@example.md", phone="+37369000003", language="en"),
    }
    numbers = {lang: f"2025-00000{i}" for i, lang in enumerate(people)}
    refs = {lang: submit(account, number=numbers[lang]) for lang, account in people.items()}

    stats = deliver_pending(portal)
    assert (stats.sent, stats.failed, stats.dead) == (6, 0, 0)

    # Until the ro/ru catalogues are translated gettext returns English; the benefit titles (from the
    # catalogue) and the CLDR date already follow the recipient's language, so they prove the plumbing.
    expected = {"ro": ("Ajutor social", "1 martie 2025"), "ru": ("Социальная помощь", "1 марта 2025"),
                "en": ("Social aid", "March 1, 2025")}
    for lang, account in people.items():
        [mail] = api(inbox, to=account.email, kind="email")
        title, date = expected[lang]
        assert title in mail["text"] and date in mail["text"]
        assert mail["text"].startswith(GREETING[lang] % account.first_name)
        assert mail["subject"] == RECEIVED[lang] % numbers[lang]
        assert f"{sink_settings.base_url}/applications/{refs[lang]}" in mail["text"]
        assert mail["html"] and f'lang="{lang}"' in mail["html"]
        assert mail["from"] == sink_settings.mail_from
        [sms] = api(inbox, to=account.phone, kind="sms")
        assert sms["text"].startswith("eSocial: ") and sms["text"].endswith(f"/applications/{refs[lang]}")
        assert sms["segments"] <= 2

    for n in rows():
        assert n.status == "sent" and n.sent_at == T0
        assert n.attempts == (0 if n.channel == "portal" else 1)
    assert deliver_pending(portal).attempted == 0  # nothing is sent twice


def test_a_worker_process_can_deliver_with_settings_alone(app, inbox, make_account, sink_settings, now):
    account = make_account(email="solo@example.md", phone=None, first_name="Ion")
    submit(account)
    stats = deliver_pending(sink_settings)  # no portal app: rendering uses a minimal one
    assert stats.sent == 1
    [mail] = api(inbox, to="solo@example.md")
    assert "Ajutor social" in mail["text"]


def test_smtp_down_fails_with_backoff_then_dead(app, settings, make_account, now):
    closed = dataclasses.replace(settings, smtp_port=free_port())  # nothing listens there
    account = make_account(email="down@example.md", phone=None)
    submit(account)

    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        stats = deliver_pending(closed)
        [n] = rows("email")
        assert n.attempts == attempt and "SMTP" in n.last_error
        if attempt < MAX_ATTEMPTS:
            assert stats.failed == 1 and n.status == "failed"
            waits.append(n.next_attempt_at - now.value)
            assert deliver_pending(closed).attempted == 0  # not due yet
            now.advance(waits[-1])
        else:
            assert stats.dead == 1 and n.status == "dead" and n.next_attempt_at is None
    assert waits == [backoff(i) for i in range(1, MAX_ATTEMPTS)]
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    now.advance(dt.timedelta(days=1))
    assert deliver_pending(closed).attempted == 0  # dead stays dead


def test_a_refusing_mail_sink_is_retried_and_then_delivered(portal, inbox, make_account, now):
    account = make_account(email="later@example.md", phone=None)
    submit(account)
    inbox.set_fault(smtp="down")  # answers 451 to RCPT TO
    assert deliver_pending(portal).failed == 1
    [n] = rows("email")
    assert n.status == "failed" and "451" in n.last_error
    inbox.set_fault(smtp="ok")
    now.advance(backoff(1))
    assert deliver_pending(portal).sent == 1
    assert len(api(inbox, to="later@example.md")) == 1
    [n] = rows("email")
    assert (n.status, n.attempts, n.last_error) == ("sent", 2, None)


def test_sms_gateway_down_then_up(portal, inbox, make_account, now):
    account = make_account(email=None, phone="+37369000009")
    submit(account)
    requests.post(f"{inbox.http_url}/_faults", json={"mode": "down"}, timeout=5).raise_for_status()
    assert deliver_pending(portal).failed == 1
    [n] = rows("sms")
    assert n.status == "failed" and "503" in n.last_error
    requests.post(f"{inbox.http_url}/_faults", json={"mode": "ok"}, timeout=5).raise_for_status()
    now.advance(backoff(1))
    assert deliver_pending(portal).sent == 1
    assert [m["to"] for m in api(inbox, kind="sms")] == ["+37369000009"]


def test_a_number_the_gateway_refuses_is_not_retried(portal, inbox, make_account, now):
    account = make_account(email=None, phone=None)
    with session_scope() as s:
        s.add(Notification(account_id=account.id, channel="sms", template="status_changed", language="ro",
                           address="12345", status="pending", next_attempt_at=T0,
                           params={"number": "1", "benefit": "social_aid", "status": "in_review"}))
    assert deliver_pending(portal).dead == 1
    [n] = rows("sms")
    assert n.status == "dead" and n.attempts == 1 and "422" in n.last_error


def test_sms_gateway_token_is_sent(app, inbox, make_account, sink_settings, now):
    server = serve_in_thread(create_app(inbox, token="s3cret"))
    try:
        url = f"http://127.0.0.1:{server.port}/sms/send"
        account = make_account(email=None, phone="+37369000010")
        submit(account)
        assert deliver_pending(dataclasses.replace(sink_settings, sms_gateway_url=url)).failed == 1  # 401
        now.advance(backoff(1))
        good = dataclasses.replace(sink_settings, sms_gateway_url=url, sms_gateway_token="s3cret")
        assert deliver_pending(good).sent == 1
    finally:
        server.shutdown()


def test_recover_stuck_returns_abandoned_claims_to_the_queue(portal, inbox, make_account, now):
    account = make_account(email="stuck@example.md", phone=None)
    submit(account)
    [n] = rows("email")
    assert claim(n.id)  # a worker claimed it, then died
    assert deliver_pending(portal).attempted == 0  # nobody else may send it meanwhile

    now.advance(dt.timedelta(minutes=4))
    assert recover_stuck(dt.timedelta(minutes=5)) == 0  # could still be in flight
    now.advance(dt.timedelta(minutes=2))
    assert recover_stuck(dt.timedelta(minutes=5)) == 1
    [n] = rows("email")
    assert n.status == "pending" and n.attempts == 1 and "interrupted" in n.last_error

    assert deliver_pending(portal).sent == 1
    assert len(api(inbox, to="stuck@example.md")) == 1


def test_a_message_that_keeps_killing_workers_ends_dead(app, make_account, now):
    account = make_account(email="poison@example.md", phone=None)
    submit(account)
    [n] = rows("email")
    with session_scope() as s:
        s.get(Notification, n.id).attempts = MAX_ATTEMPTS - 1
    assert claim(n.id)
    now.advance(dt.timedelta(hours=1))
    assert recover_stuck(dt.timedelta(minutes=5)) == 1
    [n] = rows("email")
    assert n.status == "dead" and n.attempts == MAX_ATTEMPTS


def test_only_one_claim_wins(app, make_account, now):
    account = make_account(email="once@example.md", phone=None)
    submit(account)
    [n] = rows("email")
    lease = claim(n.id)
    assert lease is not None and lease.notification_id == n.id
    assert claim(n.id) is None


def test_concurrent_workers_never_send_a_notification_twice(portal, inbox, make_account, now):
    count = 24
    for i in range(count):
        submit(make_account(email=f"person{i}@example.md", phone=None), number=f"2025-{i:06d}")
    start = threading.Barrier(3)
    results = []

    def work():
        start.wait()
        results.append(deliver_pending(portal))

    workers = [threading.Thread(target=work) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert len(results) == 3
    assert sum(r.sent for r in results) == count
    assert sum(r.failed + r.dead for r in results) == 0
    mails = api(inbox, kind="email")
    assert len(mails) == count
    assert len({m["to"] for m in mails}) == count
    assert all(n.status == "sent" and n.attempts == 1 for n in rows("email"))


def test_run_worker_delivers_until_stopped(portal, inbox, make_account):
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(portal, stop), kwargs={"interval": 0.05}, daemon=True)
    worker.start()
    try:
        submit(make_account(email="worker@example.md", phone="+37369000011"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(inbox.messages()) < 2:
            time.sleep(0.02)
        assert {m["kind"] for m in inbox.messages()} == {"email", "sms"}
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()


def test_run_worker_survives_a_failing_round(app, monkeypatch):
    calls = []
    stop = threading.Event()

    def boom(*args, **kwargs):
        calls.append(1)
        if len(calls) >= 3:
            stop.set()
        raise RuntimeError("database restarting")

    monkeypatch.setattr(delivery, "deliver_pending", boom)
    run_worker(app, stop, interval=0.01)
    assert len(calls) == 3
