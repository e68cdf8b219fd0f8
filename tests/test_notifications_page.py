"""The in-portal notifications page: lists the person's own notices, marks them read."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.applications.models import Application
from portal.core import clock
from portal.core.db import session_scope
from portal.core.security import permission_of
from portal.notifications.models import Notification
from portal.notifications.services import notify


@pytest.fixture
def at():
    """Set the clock: ``at(datetime)``; restored afterwards."""
    yield lambda moment: clock.set_clock(lambda: moment)
    clock.set_clock(None)


def notice(account, number, template="status_changed", **params):
    with session_scope() as s:
        application = Application(applicant_id=account.id, created_by_id=account.id, number=number,
                                  status="submitted", benefits=["social_aid"])
        s.add(application)
        s.flush()
        notify(s, account, template, {"number": number, "benefit": "social_aid", "status": "in_review", **params},
               application=application)
        return application.ref


def unread(account):
    with session_scope() as s:
        return s.scalars(select(Notification.id).where(Notification.account_id == account.id,
                                                       Notification.channel == "portal",
                                                       Notification.read_at.is_(None))).all()


def test_the_page_is_for_logged_in_people(app, client):
    assert permission_of(app.view_functions["notifications.inbox"]) == "citizen"
    assert app.url_map.bind("localhost").match("/notifications") == ("notifications.inbox", {})
    response = client.get("/notifications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_lists_newest_first_then_marks_read(app, client, make_account, login, at):
    person = make_account(language="en", timezone="Europe/Chisinau", phone="+37369000001")
    at(dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.timezone.utc))
    first = notice(person, "2025-000001")
    at(dt.datetime(2025, 3, 1, 22, 30, tzinfo=dt.timezone.utc))  # 00:30 on 2 March in Chișinău
    second = notice(person, "2025-000002", template="info_requested", question="Send your bank statement.")
    login(client, person)

    # Every page shows the unread count in the navigation (here: the 404 page, which extends base.html).
    page = client.get("/no-such-page").get_data(as_text=True)
    assert re.search(r'class="badge">2<span class="visually-hidden"> unread', page)

    response = client.get("/notifications", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Notifications</h1>" in html
    assert html.count('<li class="notification notification-new">') == 2  # the portal rows only, not e-mail/SMS
    newer, older = html.index("2025-000002"), html.index("2025-000001")
    assert newer < older
    assert "Send your bank statement." in html
    assert f'href="/applications/{second}"' in html and f'href="/applications/{first}"' in html
    assert "Mar 2, 2025" in html  # the person's time zone, not UTC
    assert 'class="badge"' not in html  # read as soon as shown
    assert unread(person) == []

    again = client.get("/notifications").get_data(as_text=True)
    assert "notification-new" not in again and "2025-000002" in again


def test_another_person_sees_only_their_own(app, client, make_account, login):
    owner = make_account(language="en")
    other = make_account(language="en", email="other@example.md")
    notice(owner, "2025-000777", reason="private")
    login(client, other)

    html = client.get("/notifications").get_data(as_text=True)
    assert "2025-000777" not in html
    assert "You have no notifications yet" in html
    assert len(unread(owner)) == 1  # the owner's notice is still unread


def test_page_follows_the_chosen_language(app, client, make_account, login):
    person = make_account(language="ro")
    notice(person, "2025-000003")
    login(client, person, lang=None)  # no language chosen in the browser: the account's applies
    html = client.get("/notifications").get_data(as_text=True)
    assert 'lang="ro"' in html and "Ajutor social" in html
    with client.session_transaction() as s:
        s["lang"] = "ru"
    html = client.get("/notifications").get_data(as_text=True)
    assert 'lang="ru"' in html and "Социальная помощь" in html
