"""The dead-letter page: system administrators only, every attempt shown, retry one or all."""
import re

import pytest
from sqlalchemy import select

from portal.core.db import session_scope
from portal.notifications.delivery import deliver_pending
from portal.notifications.models import Notification
from test_notification_delivery import inbox, now, portal, rows, sink_settings, submit  # noqa: F401 - fixtures

SYSADMIN = "2005001000095"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def admin(portal, make_account, grant_role, login):
    account = make_account(idnp=SYSADMIN, first_name="Ana", last_name="Ciobanu", language="en")
    grant_role(SYSADMIN, "sysadmin")
    client = portal.test_client()
    login(client, account)
    return client


@pytest.fixture
def dead(portal, inbox, make_account, now):
    """Two SMS the gateway refused (dead at once), one e-mail delivered."""
    inbox.set_fault(sms="refuse")
    for i in range(2):
        submit(make_account(first_name=f"Ion{i}", email=f"ion{i}@example.md", phone=f"+3736900010{i}"),
               number=f"ES-2025-000010{i}")
    stats = deliver_pending(portal)
    assert (stats.dead, stats.sent) == (2, 2)
    inbox.set_fault(sms="ok")
    return [n.id for n in rows("sms")]


def test_only_system_administrators_see_the_page(portal, client, make_account, grant_role, login):
    assert client.get("/admin/notifications/").status_code == 302  # to the login
    citizen = make_account()
    login(client, citizen)
    assert client.get("/admin/notifications/").status_code == 403
    grant_role(citizen.idnp, "case_worker", "ATAS-CENTRU")
    assert client.get("/admin/notifications/").status_code == 403
    assert client.post("/admin/notifications/retry", data={"everything": "1"}).status_code in (400, 403)


def test_the_list_shows_dead_letters_with_their_error_and_nothing_else(admin, dead):
    html = admin.get("/admin/notifications/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 notifications were not delivered." in html
    assert html.count("Send again<span") == 2
    assert "+37369000100" in html and "+37369000101" in html
    assert "422" in html  # the gateway's answer
    assert "ion0@example.md" not in html  # delivered e-mails are not dead letters
    assert "ES-2025-0000100" in html  # the message's subject names the application


def test_the_attempts_page_shows_each_try(admin, dead):
    html = admin.get(f"/admin/notifications/{dead[0]}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Given up" in html and "422" in html
    assert admin.get("/admin/notifications/999999").status_code == 404


def test_retry_one_then_all(admin, dead, portal, inbox):
    page = admin.get("/admin/notifications/").get_data(as_text=True)
    response = admin.post("/admin/notifications/retry", data={"csrf_token": csrf(page), "notification_id": dead[0]})
    assert response.status_code == 303
    assert [n.status for n in rows("sms")] == ["pending", "dead"]
    follow = admin.get("/admin/notifications/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 notification will be sent again in a moment." in follow
    assert "1 notification was not delivered." in follow

    admin.post("/admin/notifications/retry", data={"csrf_token": csrf(follow), "everything": "1"})
    assert [n.status for n in rows("sms")] == ["pending", "pending"]
    assert deliver_pending(portal).sent == 2
    assert len(inbox.messages("sms")) == 2
    html = admin.get("/admin/notifications/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing is waiting here." in html


def test_retry_needs_the_form_token(admin, dead):
    assert admin.post("/admin/notifications/retry", data={"everything": "1"}).status_code == 400
    with session_scope() as s:
        assert {n.status for n in s.scalars(select(Notification).where(Notification.channel == "sms"))} == {"dead"}
