"""Live status: one watcher per process, woken streams, Server-Sent Events, Redis between processes."""
import os
import secrets
import threading
import time

import pytest
from sqlalchemy import event

from portal import live
from portal.applications.models import Application
from portal.core.db import db, session_scope


def make_application(account, number=None, status="submitted") -> int:
    with session_scope() as s:
        application = Application(applicant_id=account.id, created_by_id=account.id, status=status,
                                  number=number or f"ES-2025-{secrets.randbelow(10**7):07d}", benefits=["social_aid"])
        s.add(application)
        s.flush()
        return application.id


def touch(application_id: int) -> int:
    """A visible change, committed by another session (as another request or process would)."""
    with session_scope() as s:
        application = s.get(Application, application_id)
        application.touch()
        s.flush()
        return application.version


@pytest.fixture
def hub(app):
    h = live.Hub(poll_seconds=0.05)
    yield h
    h.stop()


def test_a_waiter_wakes_when_its_application_changes(hub, make_account):
    app_id = make_application(make_account())
    waiter = hub.watch((live.APP, app_id), seen="0", current="0")
    assert waiter.wait(0.3) is None  # nothing changed
    version = touch(app_id)
    assert waiter.wait(5) == str(version)
    assert waiter.wait(0.2) is None  # once per change
    hub.unwatch(waiter)
    assert hub.watching() == 0


def test_a_waiter_behind_the_current_value_wakes_at_once(hub, make_account):
    app_id = make_application(make_account())
    touch(app_id)
    waiter = hub.watch((live.APP, app_id), seen="0", current="1")  # the page showed 0, the database says 1
    assert waiter.wait(0.01) == "1"


def test_a_list_wakes_for_a_changed_or_a_new_application(hub, make_account):
    person = make_account()
    first = make_application(person)
    waiter = hub.watch((live.ACCOUNT, person.id), seen="1-0", current="1-0")
    touch(first)
    assert waiter.wait(5) == "1-1"
    make_application(person)
    assert waiter.wait(5) == "2-1"


def test_one_query_per_kind_per_tick_whatever_the_number_of_watchers(hub, app, make_account):
    people = [make_account() for _ in range(5)]
    apps = [make_application(p) for p in people for _ in range(4)]
    waiters = [hub.watch((live.APP, a), seen="0") for a in apps for _ in range(10)]  # 200 streams
    waiters += [hub.watch((live.ACCOUNT, p.id), seen="4-0") for p in people for _ in range(10)]  # 50 more
    statements = []

    me = threading.get_ident()

    def count(conn, cursor, statement, *args):
        if "FROM application" in statement and threading.get_ident() == me:  # not the hub's own tick
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        hub.poll()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    for w in waiters:
        hub.unwatch(w)


def test_a_commit_in_this_process_wakes_streams_before_the_next_tick(app, make_account, monkeypatch):
    slow = live.Hub(poll_seconds=60)  # the tick would be a minute away
    monkeypatch.setattr(live, "_hub", slow)
    person = make_account()
    app_id = make_application(person)
    waiter = slow.watch((live.APP, app_id), seen="0", current="0")
    time.sleep(0.1)  # the first full read is done
    with app.app_context():
        application = db.session.get(Application, app_id)
        application.touch()
        db.session.commit()  # the session hook tells this process's hub
        version = application.version
    assert waiter.wait(5) == str(version)  # the tick is a minute away: only the commit's hook can have woken it
    slow.stop()


def redis_url():
    url = os.environ.get("ESOCIAL_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        pytest.skip(f"no Redis at {url}")
    return url


def test_redis_carries_a_change_to_every_process_at_once(app, make_account):
    url = redis_url()
    channel = f"esocial:live:test:{secrets.token_hex(4)}"
    here = live.Hub(redis_url=url, channel=channel)  # the process where a case worker acts
    there = live.Hub(redis_url=url, channel=channel)  # another process, with the citizen's stream
    here.poll_seconds = there.poll_seconds = 60  # so only Redis can bring the change in time
    try:
        app_id = make_application(make_account())
        waiter = there.watch((live.APP, app_id), seen="0", current="0")
        client = there._redis()
        deadline = time.monotonic() + 5
        while client.pubsub_numsub(channel)[0][1] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        version = touch(app_id)
        here.changed({(live.APP, app_id)})
        assert waiter.wait(5) == str(version)  # the tick is a minute away: only Redis can have brought it
    finally:
        here.stop()
        there.stop()


# --- the Server-Sent Events endpoints -------------------------------------------------------------------------------

def read_event(chunks) -> str:
    text = ""
    while "\n\n" not in text:
        text += next(chunks).decode() if isinstance(text, str) else ""
    return text


def test_the_application_stream_sends_an_event_when_it_changes(app, client, make_account, login, monkeypatch):
    monkeypatch.setattr(live, "_hub", live.Hub(poll_seconds=0.05))
    person = make_account()
    login(client, person)
    app_id = make_application(person)
    with session_scope() as s:
        ref = s.get(Application, app_id).ref
    response = client.get(f"/applications/{ref}/stream?since=0", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache, no-transform"
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = iter(response.response)
    assert next(chunks).decode().startswith("retry: 2000\n")
    version = touch(app_id)
    assert next(chunks).decode() == f"id: {version}\nevent: changed\ndata: {version}\n\n"
    response.close()


def test_a_reconnecting_browser_catches_up_from_its_last_event_id(app, client, make_account, login, monkeypatch):
    monkeypatch.setattr(live, "_hub", live.Hub(poll_seconds=0.05))
    person = make_account()
    login(client, person)
    app_id = make_application(person)
    with session_scope() as s:
        ref = s.get(Application, app_id).ref
    touch(app_id)
    touch(app_id)  # two changes while the browser was reconnecting
    response = client.get(f"/applications/{ref}/stream", headers={"Last-Event-ID": "0"}, buffered=False)
    chunks = iter(response.response)
    next(chunks)
    assert next(chunks).decode() == "id: 2\nevent: changed\ndata: 2\n\n"
    response.close()


def test_idle_streams_send_heartbeats_and_end(app, client, make_account, login, monkeypatch):
    monkeypatch.setattr(live, "_hub", live.Hub(poll_seconds=0.05))
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.3)
    person = make_account()
    login(client, person)
    response = client.get("/applications/stream?since=0-0", buffered=False)
    body = b"".join(response.response).decode()
    assert body.count(": keep-alive\n\n") >= 2
    assert "event: changed" not in body
    assert live.hub().watching() == 0  # the waiter is gone with its stream


def test_my_applications_stream_and_list(app, client, make_account, login, monkeypatch):
    monkeypatch.setattr(live, "_hub", live.Hub(poll_seconds=0.05))
    person = make_account()
    login(client, person)
    page = client.get("/applications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-stream="/applications/stream?since=0-0"' in page and 'data-fragment="/applications/list"' in page
    response = client.get("/applications/stream?since=0-0", buffered=False)
    chunks = iter(response.response)
    next(chunks)
    make_application(person, number="ES-2025-0000777")
    assert next(chunks).decode() == "id: 1-0\nevent: changed\ndata: 1-0\n\n"
    response.close()
    fragment = client.get("/applications/list").get_data(as_text=True)
    assert "ES-2025-0000777" in fragment and "<html" not in fragment


def test_nobody_watches_someone_elses_application(app, client, make_account, login):
    owner, other = make_account(), make_account()
    app_id = make_application(owner)
    with session_scope() as s:
        ref = s.get(Application, app_id).ref
    login(client, other)
    assert client.get(f"/applications/{ref}/stream").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get("/applications/stream").status_code == 302


def test_without_javascript_both_pages_are_whole_and_offer_a_reload(app, client, make_account, login):
    """The stream only says "look again"; the pages themselves carry the status, and a link reloads them."""
    person = make_account()
    login(client, person)
    app_id = make_application(person, number="ES-2025-0000888")
    with session_scope() as s:
        ref = s.get(Application, app_id).ref
    listing = client.get("/applications").get_data(as_text=True)
    assert "ES-2025-0000888" in listing and '<noscript><p><a href="/applications">' in listing
    page = client.get(f"/applications/{ref}").get_data(as_text=True)
    assert "ES-2025-0000888" in page and f'<noscript><p><a href="/applications/{ref}">' in page
