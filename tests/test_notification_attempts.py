"""Every attempt is kept with its outcome; claims are leases; dead letters go back on an administrator's word."""
import dataclasses
import datetime as dt

import pytest
import requests
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.config import SettingsError
from portal.core.db import session_scope
from portal.notifications.delivery import (MAX_ATTEMPTS, _finish, backoff, claim, deliver_pending, idempotency_key,
                                           recover_stuck, retry_dead)
from portal.notifications.gateways import DeliveryError, HttpSmsGateway, SmsGateway, gateway_class, sms_gateway
from portal.notifications.models import NotificationAttempt
from test_notification_delivery import (T0, api, free_port, inbox, now, portal, rows, sink_settings,  # noqa: F401
                                        submit)


def history(notification_id):
    with session_scope() as s:
        return list(s.scalars(select(NotificationAttempt).where(NotificationAttempt.notification_id == notification_id)
                              .order_by(NotificationAttempt.number)))


def test_each_attempt_is_kept_with_channel_outcome_and_provider_reference(portal, inbox, make_account, now):
    account = make_account(email="kept@example.md", phone="+37369000021")
    submit(account)
    inbox.set_fault(sms="down")
    assert deliver_pending(portal).failed == 1
    inbox.set_fault(sms="ok")
    now.advance(backoff(1))
    assert deliver_pending(portal).sent == 1

    [email] = rows("email")
    [a] = history(email.id)
    [mail] = api(inbox, kind="email")
    assert (a.number, a.channel, a.address, a.outcome, a.error) == (1, "email", "kept@example.md", "sent", None)
    assert a.provider_ref == mail["message_id"] == f"<{idempotency_key(email)}@esocial.gov.md>"
    assert a.started_at == a.finished_at == T0

    [sms] = rows("sms")
    first, second = history(sms.id)
    assert (first.outcome, first.channel, first.address) == ("failed", "sms", "+37369000021")
    assert "503" in first.error and first.provider_ref is None
    [text] = api(inbox, kind="sms")
    assert (second.outcome, second.provider_ref, second.started_at) == ("sent", str(text["id"]), T0 + backoff(1))


def test_a_claim_taken_back_cannot_be_overwritten_by_its_late_worker(portal, make_account, now):
    submit(make_account(email="late@example.md", phone=None))
    [n] = rows("email")
    stale = claim(n.id)
    now.advance(dt.timedelta(minutes=10))
    assert recover_stuck() == 1
    fresh = claim(n.id)
    assert fresh is not None and fresh.token != stale.token

    # The first worker wakes up and reports a failure: it no longer holds the row, nothing changes.
    assert _finish(stale, DeliveryError("timeout")) == "skipped"
    [n] = rows("email")
    assert n.status == "sending" and n.claim_token == fresh.token
    # The second one's outcome counts.
    assert _finish(fresh, None, "<ref>") == "sent"
    assert [(a.outcome, a.provider_ref) for a in history(n.id)] == [("interrupted", None), ("sent", "<ref>")]


def test_a_late_success_is_recorded_even_after_the_claim_was_taken_back(portal, make_account, now):
    submit(make_account(email="slow@example.md", phone=None))
    [n] = rows("email")
    stale = claim(n.id)
    now.advance(dt.timedelta(minutes=10))
    recover_stuck()
    # The message did go out: the row must not be sent again.
    assert _finish(stale, None, "<first>") == "sent"
    [n] = rows("email")
    assert n.status == "sent"
    assert deliver_pending(portal).attempted == 0
    assert history(n.id)[0].outcome == "sent"


def test_dead_letters_go_back_to_the_queue_when_an_administrator_retries(portal, inbox, make_account, now):
    admin = make_account(idnp="2005001000095")
    submit(make_account(email=None, phone="+37369000031"))
    inbox.set_fault(sms="refuse")  # 422: the number is refused, which no automatic retry can fix
    assert deliver_pending(portal).dead == 1
    [n] = rows("sms")
    assert (n.status, n.attempts) == ("dead", 1)

    inbox.set_fault(sms="ok")
    with session_scope() as s:
        assert retry_dead(s, [n.id], actor=admin) == 1
        assert retry_dead(s, [n.id], actor=admin) == 0  # no longer dead
    [n] = rows("sms")
    assert (n.status, n.attempts, n.next_attempt_at) == ("pending", 0, T0)
    assert deliver_pending(portal).sent == 1
    assert [a.outcome for a in history(n.id)] == ["dead", "sent"]
    assert [a.number for a in history(n.id)] == [1, 2]
    with session_scope() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "notifications_retried"))
        assert event.actor_idnp == "2005001000095" and event.details["count"] == 1


def test_a_retried_dead_letter_gets_a_fresh_budget(portal, settings, make_account, now):
    closed = dataclasses.replace(settings, smtp_port=free_port())
    admin = make_account(idnp="2005001000095")
    submit(make_account(email="budget@example.md", phone=None))
    for _ in range(MAX_ATTEMPTS):
        deliver_pending(closed)
        now.advance(dt.timedelta(hours=7))
    [n] = rows("email")
    assert n.status == "dead"
    with session_scope() as s:
        assert retry_dead(s, None, actor=admin) == 1
    deliver_pending(closed)
    [n] = rows("email")
    assert (n.status, n.attempts) == ("failed", 1)  # not dead at once: a new round of retries
    assert len(history(n.id)) == MAX_ATTEMPTS + 1


def test_the_sms_gateway_sends_once_per_idempotency_key(inbox):
    settings = dataclasses.replace(__import__("portal.config", fromlist=["load_settings"]).load_settings("test"),
                                   sms_gateway_url=f"{inbox.http_url}/sms/send")
    gateway = HttpSmsGateway(settings)
    try:
        first = gateway.send_text("+37369000041", "eSocial: test", key="esocial-n1-abc")
        again = gateway.send_text("+37369000041", "eSocial: test", key="esocial-n1-abc")
        other = gateway.send_text("+37369000041", "eSocial: test", key="esocial-n2-abc")
    finally:
        gateway.close()
    assert first == again != other
    assert len(api(inbox, kind="sms")) == 2
    assert requests.get(f"{inbox.http_url}/api/messages", timeout=5).json()["duplicates_suppressed"] == 1


def test_the_sms_gateway_is_chosen_by_settings(settings):
    assert gateway_class("http") is HttpSmsGateway
    assert gateway_class("portal.notifications.gateways:HttpSmsGateway") is HttpSmsGateway
    assert isinstance(sms_gateway(settings), HttpSmsGateway)
    for bad in ("carrier-pigeon", "portal.notifications.gateways:Nope", "no.such.module:Gateway",
                "portal.notifications.gateways:DeliveryError"):
        with pytest.raises(SettingsError):
            gateway_class(bad)


def test_an_attempt_row_is_written_for_every_claim(portal, inbox, make_account, now):
    submit(make_account(email="count@example.md", phone="+37369000051"))
    deliver_pending(portal)
    with session_scope() as s:
        assert s.scalar(select(func.count(NotificationAttempt.id))) == 2


class OperatorGateway(SmsGateway):
    """An operator's own SMS provider, as the ``sms_gateway`` setting names one ("module:Class")."""

    sent: list = []
    refuse: str | None = None

    def send_text(self, to: str, text: str, *, key: str) -> str | None:
        if OperatorGateway.refuse:
            raise DeliveryError(OperatorGateway.refuse, permanent=True)
        OperatorGateway.sent.append((to, text, key))
        return f"op-{len(OperatorGateway.sent)}"


def test_an_operators_own_gateway_named_in_the_settings_carries_the_sms(portal, inbox, make_account, now,
                                                                        monkeypatch):
    settings = dataclasses.replace(portal.config["ESOCIAL"], sms_gateway=f"{__name__}:OperatorGateway")
    monkeypatch.setitem(portal.config, "ESOCIAL", settings)
    monkeypatch.setattr(OperatorGateway, "sent", [])
    submit(make_account(email="operator@example.md", phone="+37369000061"))
    assert deliver_pending(portal).sent == 2
    [sms] = rows("sms")
    assert [(to, key) for to, _, key in OperatorGateway.sent] == [("+37369000061", idempotency_key(sms))]
    assert "2025-000123" in OperatorGateway.sent[0][1]
    assert api(inbox, kind="sms") == [] and len(api(inbox, kind="email")) == 1  # e-mail still over SMTP
    assert [(a.outcome, a.provider_ref) for a in history(sms.id)] == [("sent", "op-1")]
    # What the provider refuses for good goes to the dead letters, with its words.
    monkeypatch.setattr(OperatorGateway, "refuse", "number not served by the operator")
    submit(make_account(email="operator2@example.md", phone="+37369000062"), number="2025-000124")
    assert deliver_pending(portal).dead == 1
    refused = rows("sms")[-1]
    assert refused.status == "dead" and "number not served" in history(refused.id)[-1].error
