"""The production job queue: RQ on a real Redis, a real worker process, the scheduler's one-enqueue-per-slot.

Runs when ``ESOCIAL_TEST_REDIS_URL`` names a Redis database that may be flushed (CI: db 15 on loopback, on the
PostgreSQL pass); skipped otherwise.  The worker is ``python -m portal.jobs.worker --burst`` in a subprocess,
configured through the environment exactly as in production, against this run's database.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core import correlation
from portal.core.db import session_scope
from portal.jobs import queue as jobqueue
from portal.notifications.models import Notification

REDIS_URL = os.environ.get("ESOCIAL_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="ESOCIAL_TEST_REDIS_URL is not set (no Redis to flush)")


@pytest.fixture
def redis_url():
    conn = jobqueue.connection(REDIS_URL)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()


@pytest.fixture
def worker_env(settings, redis_url):
    """Everything a worker process needs, as the environment gives it in production."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESOCIAL_")}
    env.update(ESOCIAL_ENV="test", ESOCIAL_DATABASE_URL=settings.database_url, ESOCIAL_REDIS_URL=redis_url,
               ESOCIAL_INSTANCE_PATH=settings.instance_path, ESOCIAL_SECRET_KEY=settings.secret_key,
               ESOCIAL_SP_CERT_FILE=settings.sp_cert_file, ESOCIAL_SP_KEY_FILE=settings.sp_key_file,
               ESOCIAL_IDP_METADATA_FILE=settings.idp_metadata_file, ESOCIAL_LOG_FORMAT="json",
               PYTHONPATH=str(ROOT))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@pytest.fixture
def inbox_sink():
    """The development SMTP sink and SMS gateway, on free ports."""
    from conftest import free_port
    from devstack.inbox import Inbox, create_app, serve_in_thread

    box = Inbox(smtp_host="127.0.0.1", smtp_port=free_port()).start()
    server = serve_in_thread(create_app(box))
    box.http_url = f"http://127.0.0.1:{server.port}"
    yield box
    server.shutdown()
    box.stop()


def run_worker(env: dict) -> list[dict]:
    """One burst of a real worker process; its JSON log lines."""
    done = subprocess.run([sys.executable, "-m", "portal.jobs.worker", "--burst"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = []
    for line in done.stderr.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_schedulers_enqueue_each_due_slot_once_across_the_cluster(redis_url):
    entries = [jobqueue.Entry("test.every_minute", 60, jobqueue.run_sweep, ("test.every_minute",)),
               jobqueue.Entry("notifications.deliver", 2, jobqueue.fan_out_deliveries)]
    first = jobqueue.Scheduler(redis_url, entries)
    second = jobqueue.Scheduler(redis_url, entries)  # another machine's scheduler
    q = jobqueue.get_queue(redis_url)

    assert sorted(first.tick(1200.5)) == ["sweep-notifications_deliver-600", "sweep-test_every_minute-20"]
    assert second.tick(1200.7) == []  # the same due times: already enqueued by the first
    assert first.tick(1201.0) == []  # same slots again
    assert q.count == 2

    # The fan-out's previous run is still waiting (no worker yet): it is not piled up behind itself.
    assert first.tick(1202.1) == [] and second.tick(1202.2) == []
    assert q.count == 2
    job = q.fetch_job("sweep-notifications_deliver-600")
    assert job.meta["correlation_id"] and job.func_name == "portal.jobs.queue.fan_out_deliveries"


def test_one_off_jobs_are_idempotent_by_id(redis_url):
    with correlation.bound("request-abc12345"):
        job = jobqueue.enqueue_notification(redis_url, 41, attempts=0)
        again = jobqueue.enqueue_notification(redis_url, 41, attempts=0)
        retry = jobqueue.enqueue_notification(redis_url, 41, attempts=1)
    assert job is not None and again is None and retry is not None
    assert job.id == "notification-41-0" and retry.id == "notification-41-1"
    assert job.meta["correlation_id"] == "request-abc12345"
    assert jobqueue.depth(redis_url)[(jobqueue.QUEUE_NAME, "queued")] == 2


def _pending_notifications(account, count=2):
    from portal.notifications.services import notify

    with session_scope() as s:
        for i in range(count):
            notify(s, s.merge(account), "status_changed",
                   {"number": f"ES-2025-000000{i}", "benefit": "social_aid", "status": "in_review"})


def test_a_real_worker_delivers_the_outbox_through_the_queue(app, make_account, worker_env, redis_url, inbox_sink):
    account = make_account(email="ion@example.md", phone="+37369000001")
    _pending_notifications(account, count=2)
    env = {**worker_env, "ESOCIAL_SMTP_PORT": str(inbox_sink.smtp_port),
           "ESOCIAL_SMS_GATEWAY_URL": f"{inbox_sink.http_url}/sms/send"}

    scheduler = jobqueue.Scheduler(redis_url, jobqueue.entries())
    assert "sweep-notifications_deliver-" in " ".join(scheduler.tick())
    with correlation.bound("request-5e1f00aa"):  # a request asking for one more send
        with session_scope() as s:
            first_email = s.scalar(select(Notification.id).where(Notification.channel == "email")
                                   .order_by(Notification.id))
        one_off = jobqueue.enqueue_notification(redis_url, first_email, 0)
    assert one_off is not None

    lines = run_worker(env)

    with session_scope() as s:
        rows = s.execute(select(Notification.channel, Notification.status, Notification.attempts)
                         .where(Notification.channel != "portal")).all()
    assert sorted(rows) == [("email", "sent", 1)] * 2 + [("sms", "sent", 1)] * 2  # each sent exactly once
    assert len(inbox_sink.messages(kind="email")) == 2 and len(inbox_sink.messages(kind="sms")) == 2

    done = [line for line in lines if line["message"].startswith("job ")]
    # The one-off job ran under the correlation id of the request that enqueued it.
    assert any(line["correlation_id"] == "request-5e1f00aa" and line.get("job_id") == one_off.id for line in done)
    # The fan-out enqueued the other three rows; the one already queued by id was not queued twice.
    assert sum(1 for line in done if line["message"].startswith("job notification done")) == 4
    assert jobqueue.depth(redis_url)[(jobqueue.QUEUE_NAME, "queued")] == 0


def test_a_failing_job_is_retried_then_kept_as_failed(worker_env, redis_url):
    job = jobqueue.enqueue(redis_url, jobqueue.run_sweep, "no.such.sweep", retry=(0, 0))
    lines = run_worker(worker_env)
    job.refresh()
    assert job.get_status() == "failed" and job.retries_left == 0
    failures = [line for line in lines if line["message"] == "job sweep:no.such.sweep failed"]
    assert len(failures) == 3  # the first try and two retries
    assert jobqueue.depth(redis_url)[(jobqueue.QUEUE_NAME, "failed")] == 1
