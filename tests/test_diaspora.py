"""Citizens living abroad: foreign address and phone, e-mail first, dates in their own time zone."""
from __future__ import annotations

import re

from babel.dates import format_datetime
from sqlalchemy import select

from devstack.demo_people import by_idnp
from inclusion_helpers import registries  # noqa: F401 - a fixture
from inclusion_helpers import answer_every_step, in_english, person, post, start, submit, text
from portal.accounts.models import Account
from portal.applications.models import Application
from portal.core.db import db
from portal.notifications.models import Notification

pytest_plugins = ["registry_fixtures"]

ANDREI = by_idnp("2005001000040")  # lives in Italy (Rome time), speaks Russian


def test_a_citizen_abroad_gets_email_first_and_their_own_time(app, client, make_account, login, registries):
    andrei = person(make_account, ANDREI, phone=None)
    login(client, andrei)
    in_english(client)
    location = start(client, ["cold_season_aid"])

    # The population register's foreign address is shown as it is, with its country.
    about = text(client.get(location))
    assert "Address abroad" in about and "Country Italy" in about
    with app.app_context():
        account = db.session.get(Account, andrei.id)
        assert (account.country, account.timezone, account.notify_sms) == ("IT", "Europe/Rome", False)

    # An Italian mobile number, typed the way people type it, is kept in E.164.
    check = answer_every_step(client, location, email=ANDREI.email, phone="0039 333 100 0040", language="ru")
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == check.split("/")[2]))
        assert application.contact_phone == "+393331000040"
    sent, ref = submit(client, check)
    assert sent.status_code == 303

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        rome = format_datetime(application.submitted_at, "medium", tzinfo="Europe/Rome", locale="en")
        chisinau = format_datetime(application.submitted_at, "medium", tzinfo="Europe/Chisinau", locale="en")
        channels = sorted(db.session.scalars(select(Notification.channel).where(
            Notification.application_id == application.id)))
    page = text(client.get(f"/applications/{ref}"))
    assert text(f"Sent on {rome}.") in page and rome != chisinau
    assert channels == ["email", "portal"]  # e-mail is the channel abroad; SMS only if he asks for it


def test_moving_country_moves_the_time_zone(app, client, make_account, login):
    account = make_account(country="IT", timezone="Europe/Rome")
    login(client, account)
    in_english(client)
    page = client.get("/account")
    assert page.status_code == 200 and re.search(r'<option selected value="Europe/Rome">|<option value="Europe/Rome" selected',
                                                 page.get_data(as_text=True))
    saved = post(client, "/account", {"country": "DE", "timezone": "Europe/Rome"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Account, account.id).timezone == "Europe/Berlin"
    # Choosing a zone explicitly is kept.
    post(client, "/account", {"country": "DE", "timezone": "Europe/London"})
    with app.app_context():
        assert db.session.get(Account, account.id).timezone == "Europe/London"
    assert post(client, "/account", {"country": "XX", "timezone": "Mars/Base"}).status_code == 400


def test_names_of_countries_follow_the_language(app, client, make_account, login):
    login(client, make_account())
    with client.session_transaction() as s:
        s["lang"] = "ru"
    page = client.get("/account").get_data(as_text=True)
    assert re.search(r'<option value="IT">Италия</option>', page)
