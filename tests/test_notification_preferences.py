"""A person chooses channels, addresses and language; the next notices follow the choice."""
import re

from sqlalchemy import select

from portal.accounts.models import Account
from portal.audit.models import AuditEvent
from portal.core.db import session_scope
from portal.notifications.models import Notification
from portal.notifications.services import notify

EXAMPLE = {"number": "ES-2025-0000001", "benefit": "social_aid", "status": "in_review"}


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def account(account_id: int) -> Account:
    with session_scope() as s:
        return s.get(Account, account_id)


def test_the_page_shows_the_current_choices(client, make_account, login):
    person = make_account(email="ion@example.md", phone="+37369000001", language="ru", notify_sms=False)
    login(client, person)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert 'value="ion@example.md"' in html and 'value="+37369000001"' in html
    assert re.search(r'<input[^>]*checked[^>]*name="notify_email"|<input[^>]*name="notify_email"[^>]*checked', html)
    assert not re.search(r'<input[^>]*name="notify_sms"[^>]*checked', html)
    assert re.search(r'<input[^>]*checked[^>]*value="ru"|<input[^>]*value="ru"[^>]*checked', html)


def test_saving_changes_what_the_next_notices_use(app, client, make_account, login):
    person = make_account(email="old@example.md", phone=None, language="ro")
    login(client, person)
    page = client.get("/account/notifications").get_data(as_text=True)
    response = client.post("/account/notifications", data={
        "csrf_token": csrf(page), "notify_email": "y", "email": " new@example.md ", "notify_sms": "y",
        "phone": "069 123 456", "language": "en"})
    assert response.status_code == 303
    saved = account(person.id)
    assert (saved.email, saved.notify_email, saved.phone, saved.notify_sms, saved.language) == \
        ("new@example.md", True, "+37369123456", True, "en")
    # The portal now speaks English too.
    assert "Your choices were saved." in client.get("/account/notifications").get_data(as_text=True)

    with session_scope() as s:
        rows = notify(s, s.get(Account, person.id), "status_changed", EXAMPLE)
        assert {(r.channel, r.address, r.language) for r in rows} == {
            ("portal", None, "en"), ("email", "new@example.md", "en"), ("sms", "+37369123456", "en")}
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "notification_preferences_changed"))
        assert event.subject_idnp == person.idnp
        assert sorted(event.details["changed"]) == ["email", "language", "phone"]


def test_turning_a_channel_off_stops_it(client, make_account, login):
    person = make_account(email="ion@example.md", phone="+37369000001")
    login(client, person)
    page = client.get("/account/notifications").get_data(as_text=True)
    client.post("/account/notifications", data={"csrf_token": csrf(page), "email": "ion@example.md",
                                                "phone": "+37369000001", "language": "ro"})
    with session_scope() as s:
        rows = notify(s, s.get(Account, person.id), "status_changed", EXAMPLE)
        assert [r.channel for r in rows] == ["portal"]
    with session_scope() as s:
        assert s.scalars(select(Notification.channel)).all() == ["portal"]


def test_a_chosen_channel_needs_a_valid_address(client, make_account, login):
    person = make_account(email=None, phone=None, language="en")
    login(client, person)
    page = client.get("/account/notifications").get_data(as_text=True)
    response = client.post("/account/notifications", data={
        "csrf_token": csrf(page), "notify_email": "y", "email": "", "notify_sms": "y", "phone": "12345",
        "language": "en"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the e-mail address we should write to, or untick e-mail." in html
    assert "Enter a mobile number like 069 123 456 or +373 69 123 456" in html
    assert 'href="#email"' in html and 'href="#phone"' in html  # the error summary links to the fields
    saved = account(person.id)
    assert (saved.email, saved.phone) == (None, None)


def test_the_page_needs_a_login(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
