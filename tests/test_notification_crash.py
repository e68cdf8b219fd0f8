"""A worker killed mid-delivery and started again neither loses nor duplicates a notification.

The worker runs in a subprocess with the real delivery code and channels and
is killed with SIGKILL at each stage (tests/crash_worker.py); the restart is
the recovery a running worker does, then an ordinary delivery round.
"""
import dataclasses
import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core.db import session_scope
from portal.notifications.delivery import deliver_pending, idempotency_key, recover_stuck
from portal.notifications.models import NotificationAttempt
from test_notification_delivery import api, inbox, portal, rows, sink_settings, submit  # noqa: F401 - fixtures

HERE = Path(__file__).resolve().parent
OTHER = {"email": "sms", "sms": "email"}


def attempts_of(notification_id):
    with session_scope() as s:
        return list(s.scalars(select(NotificationAttempt).where(NotificationAttempt.notification_id == notification_id)
                              .order_by(NotificationAttempt.number)))


def run_crashing_worker(stage: str, channel: str, settings) -> subprocess.CompletedProcess:
    overrides = {"database_url": settings.database_url, "smtp_port": settings.smtp_port,
                 "sms_gateway_url": settings.sms_gateway_url, "secret_key": settings.secret_key,
                 "instance_path": settings.instance_path}
    return subprocess.run([sys.executable, str(HERE / "crash_worker.py"), stage, channel, json.dumps(overrides)],
                          cwd=HERE.parent, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("stage, channel", [
    ("after_claim", "email"),
    ("before_send", "sms"),
    ("after_send", "email"),  # the relay took it; the worker died before writing "sent"
    ("after_send", "sms"),  # the gateway took it; likewise
])
def test_a_worker_killed_mid_delivery_neither_loses_nor_duplicates(portal, inbox, sink_settings, make_account,
                                                                   stage, channel):
    account = make_account(email="crash@example.md", phone="+37369000077", first_name="Ion")
    submit(account)
    address = {"email": "crash@example.md", "sms": "+37369000077"}

    proc = run_crashing_worker(stage, channel, sink_settings)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]

    [n] = rows(channel)
    assert n.status == "sending" and n.attempts == 1
    [open_attempt] = attempts_of(n.id)
    assert open_attempt.outcome is None and open_attempt.finished_at is None
    reached = api(inbox, kind=channel, to=address[channel])
    assert len(reached) == (1 if stage == "after_send" else 0)
    assert rows(OTHER[channel])[0].status == "pending"  # the other channel was never touched

    # The restarted worker: take back what the dead one held (as after STUCK_AFTER), then deliver.
    assert recover_stuck(dt.timedelta(0)) == 1
    stats = deliver_pending(portal)
    assert stats.sent == 2 and stats.failed == stats.dead == 0

    for name in ("email", "sms"):
        [row] = rows(name)
        assert row.status == "sent", name
        assert len(api(inbox, kind=name, to=address[name])) == 1, f"{name} lost or sent twice"
    history = attempts_of(n.id)
    assert [a.outcome for a in history] == ["interrupted", "sent"]
    assert [a.number for a in history] == [1, 2]
    assert "interrupted" in history[0].error
    if stage == "after_send":
        # The retry reached the provider with the same key and was recognised: still one message.
        assert requests_duplicates(inbox) == 1
        [message] = reached
        if channel == "email":
            assert history[1].provider_ref == message["message_id"]
            assert message["message_id"] == f"<{idempotency_key(n)}@esocial.gov.md>"
        else:
            assert history[1].provider_ref == str(message["id"])
    else:
        assert requests_duplicates(inbox) == 0


def requests_duplicates(inbox) -> int:
    import requests

    response = requests.get(f"{inbox.http_url}/api/messages", timeout=5)
    response.raise_for_status()
    return response.json()["duplicates_suppressed"]


def test_the_crash_worker_dies_only_where_it_is_told(portal, inbox, sink_settings, make_account):
    """With nothing due, the worker reaches its end: the SIGKILL above came from the chosen stage."""
    proc = run_crashing_worker("after_send", "email", dataclasses.replace(sink_settings))
    assert proc.returncode == 3, proc.stderr[-3000:]
