"""The application page answers conditional GETs (ETag, 304) and keeps its rendering per version, language
and viewer: a change to the application is never hidden behind a kept page or a 304, and one person's page
never reaches another."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from backoffice_helpers import csrf, submitted, two_citizens_and_a_case_worker
from portal.applications import services as app_services
from portal.applications.models import Application
from portal.citizen import pagecache
from portal.core import clock
from portal.core.db import db


@pytest.fixture
def world(app, client_as):
    pagecache.cache.clear()
    with app.app_context():
        s = db.session
        ion, ana, elena = two_citizens_and_a_case_worker(s)
        application = submitted(s, ion, ["social_aid"])
        s.commit()
        ids = {"application": application.id, "ion": ion.id, "elena": elena.id}
        ref = application.ref
        for account in (ion, ana, elena):
            s.expunge(account)

    yield app, ref, ids, client_as, {"ion": ion, "ana": ana}
    pagecache.cache.clear()


def _ask(app, ids, question):
    """The case worker asks the applicant something: a visible change, committed as another request would."""
    from portal.accounts.models import Account

    with app.test_request_context(), app.app_context():
        s = db.session
        application = s.get(Application, ids["application"])
        app_services.request_information(s, application.claims[0], actor=s.get(Account, ids["elena"]),
                                         question=question)
        s.commit()


def test_the_page_carries_a_private_validator_and_a_304_answers_the_same_page(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")  # the session gets its CSRF secret with the first page
    first = ion.get(f"/applications/{ref}")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in first.headers["Vary"]
    again = ion.get(f"/applications/{ref}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, no-cache"
    # Without the validator the same page comes whole, from the kept rendering.
    assert ion.get(f"/applications/{ref}").get_data(as_text=True) == first.get_data(as_text=True)


def test_a_change_to_the_application_is_never_hidden(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")
    before = ion.get(f"/applications/{ref}")
    fragment = ion.get(f"/applications/{ref}/status")
    assert "Where is the lease contract?" not in before.get_data(as_text=True)
    _ask(app, ids, "Where is the lease contract?")
    # The browser's copy is no longer valid: the whole new page comes, with the question.
    after = ion.get(f"/applications/{ref}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "Where is the lease contract?" in after.get_data(as_text=True)
    assert "Where is the lease contract?" in ion.get(f"/applications/{ref}").get_data(as_text=True)
    # The live-status fragment too.
    live = ion.get(f"/applications/{ref}/status", headers={"If-None-Match": fragment.headers["ETag"]})
    assert live.status_code == 200 and "Where is the lease contract?" in live.get_data(as_text=True)
    assert ion.get(f"/applications/{ref}/status",
                   headers={"If-None-Match": live.headers["ETag"]}).status_code == 304
    # The kept page's answer form works: its token is this session's.
    page = after.get_data(as_text=True)
    answered = ion.post(f"/applications/{ref}/answer", data={"csrf_token": csrf(page), "answer": "Attached."})
    assert answered.status_code in (302, 303)
    assert "Attached." in ion.get(f"/applications/{ref}").get_data(as_text=True)


def test_what_the_layout_shows_changes_the_validator(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")
    etag = ion.get(f"/applications/{ref}").headers["ETag"]
    # A new notification (its badge is on every page), with the application unchanged.
    from portal.accounts.models import Account
    from portal.notifications.services import notify

    with app.test_request_context(), app.app_context():
        notify(db.session, db.session.get(Account, ids["ion"]), "application_submitted",
               {"number": "ES-2026-0000001", "benefits": ["social_aid"]})
        db.session.commit()
    badge = ion.get(f"/applications/{ref}", headers={"If-None-Match": etag})
    assert badge.status_code == 200 and badge.headers["ETag"] != etag
    assert 'class="badge"' in badge.get_data(as_text=True)


def test_a_flashed_message_is_shown_and_never_answered_with_304(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")
    etag = ion.get(f"/applications/{ref}").headers["ETag"]
    with ion.session_transaction() as s:
        s["_flashes"] = [("success", "Your answer was sent.")]
    shown = ion.get(f"/applications/{ref}", headers={"If-None-Match": etag})
    assert shown.status_code == 200 and "Your answer was sent." in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers
    assert ion.get(f"/applications/{ref}", headers={"If-None-Match": etag}).status_code == 304


def test_language_viewer_and_day_each_have_their_own_page(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")
    english = ion.get(f"/applications/{ref}")
    in_russian = browser(people["ion"], lang="ru")
    in_russian.get(f"/applications/{ref}")
    russian = in_russian.get(f"/applications/{ref}", headers={"If-None-Match": english.headers["ETag"]})
    assert russian.status_code == 200 and russian.headers["ETag"] != english.headers["ETag"]
    assert 'lang="ru"' in russian.get_data(as_text=True)
    # The same person in another browser: another session, its own forms' tokens, its own validator.
    other = browser(people["ion"])
    other.get(f"/applications/{ref}")
    second = other.get(f"/applications/{ref}", headers={"If-None-Match": english.headers["ETag"]})
    assert second.status_code == 200 and csrf(second.get_data(as_text=True)) != csrf(english.get_data(as_text=True))
    # Someone else never gets the page, with or without the applicant's validator.
    ana = browser(people["ana"])
    for headers in ({}, {"If-None-Match": english.headers["ETag"]}):
        assert ana.get(f"/applications/{ref}", headers=headers).status_code == 404
        assert ana.get(f"/applications/{ref}/status", headers=headers).status_code == 404


def test_the_next_day_is_a_new_page(world):
    """Deadlines and "appeal until" are counted from today: a page kept yesterday is not today's."""
    app, ref, ids, browser, people = world
    moment = [dt.datetime(2026, 3, 3, 23, 55, tzinfo=dt.timezone.utc)]
    clock.set_clock(lambda: moment[0])
    try:
        ion = browser(people["ion"])
        ion.get(f"/applications/{ref}")
        evening = ion.get(f"/applications/{ref}").headers["ETag"]
        assert ion.get(f"/applications/{ref}", headers={"If-None-Match": evening}).status_code == 304
        moment[0] = dt.datetime(2026, 3, 4, 0, 5, tzinfo=dt.timezone.utc)
        morning = ion.get(f"/applications/{ref}", headers={"If-None-Match": evening})
        assert morning.status_code == 200 and morning.headers["ETag"] != evening
    finally:
        clock.set_clock(None)


def test_the_kept_rendering_is_keyed_by_version_and_viewer(world):
    app, ref, ids, browser, people = world
    ion = browser(people["ion"])
    ion.get(f"/applications/{ref}")
    ion.get(f"/applications/{ref}")
    keys = {k for k in pagecache.cache._items}  # noqa: SLF001 - what the cache holds, for this test
    assert keys and all(k[1] == ids["application"] and k[3] == ids["ion"] for k in keys)
    versions = {k[2] for k in keys}
    _ask(app, ids, "One more question?")
    ion.get(f"/applications/{ref}")
    new = {k[2] for k in pagecache.cache._items} - versions  # noqa: SLF001
    assert new and min(new) > max(versions)
    assert re.search(r"One more question\?", ion.get(f"/applications/{ref}").get_data(as_text=True))


def test_an_empty_answer_shows_the_page_with_the_error_not_a_kept_one(world):
    app, ref, ids, browser, people = world
    _ask(app, ids, "Where is the lease contract?")
    ion = browser(people["ion"])
    page = ion.get(f"/applications/{ref}").get_data(as_text=True)
    refused = ion.post(f"/applications/{ref}/answer", data={"csrf_token": csrf(page), "answer": ""})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Where is the lease contract?" in html and "Write your answer." in html
    assert "ETag" not in refused.headers


def test_a_session_without_a_csrf_secret_yet_gets_forms_that_work(world):
    """Two first visits of the same person (no CSRF secret in either session): each page's forms are its own."""
    app, ref, ids, browser, people = world
    _ask(app, ids, "Where is the lease contract?")
    pages = []
    for _ in range(2):
        ion = browser(people["ion"])
        pages.append((ion, ion.get(f"/applications/{ref}").get_data(as_text=True)))  # the session's first page
    ion, page = pages[1]
    answer = re.search(r'action="/applications/[^"]+/answer".*?name="csrf_token"[^>]*value="([^"]+)"', page,
                       re.S).group(1)
    sent = ion.post(f"/applications/{ref}/answer", data={"csrf_token": answer, "answer": "Attached."})
    assert sent.status_code == 303
