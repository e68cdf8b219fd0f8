"""Shared computers and slow connections: nothing personal stays in the browser, sessions end after
inactivity, static files are cached for a year under fingerprinted URLs, a large-text display."""
from __future__ import annotations

import re

from sqlalchemy import select

from inclusion_helpers import csrf, in_english, post, text
from portal.accounts.models import LoginSession
from portal.core.db import db


def test_personal_pages_are_never_stored_and_public_pages_are_revalidated(client, make_account, login):
    in_english(client)
    assert client.get("/benefits").headers["Cache-Control"] == "no-cache, private"
    login(client, make_account())
    for url in ("/applications", "/account", "/representation/", "/benefits"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_the_login_cookie_is_a_session_cookie(client):
    in_english(client)
    page = client.get("/").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf(page), "lang": "ru", "next": "/"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("esocial_session="))
    assert "Expires" not in cookie and "Max-Age" not in cookie and "HttpOnly" in cookie


def test_static_files_have_fingerprinted_urls_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/esocial\.css\?v=([0-9a-f]{12}))"', page)
    assert css, "the stylesheet URL carries its content hash"
    cached = client.get(css.group(1))
    assert cached.status_code == 200 and cached.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/static/css/esocial.css?v=000000000000")
    assert "max-age=31536000" not in stale.headers.get("Cache-Control", "") and stale.headers.get("ETag")


def test_an_idle_session_ends_and_the_browser_forgets_it(app, client, make_account, login):
    account = make_account()
    login(client, account)
    in_english(client)
    page = client.get("/applications").get_data(as_text=True)
    assert 'data-idle-seconds="1800"' in page and 'id="idle-dialog"' in page
    assert client.get("/session/alive").status_code == 204
    ended = client.get("/session/ended")
    assert ended.status_code == 200 and ended.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "Your session has ended" in text(ended)
    assert client.get("/session/alive").status_code == 401
    assert client.get("/applications").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(LoginSession.ended_at)) is not None


def test_logging_out_clears_what_the_browser_cached(client, make_account, login):
    login(client, make_account())
    page = client.get("/applications").get_data(as_text=True)
    response = client.post("/auth/logout", data={"csrf_token": csrf(page)})
    assert response.headers.get("Clear-Site-Data") == '"cache", "storage"'


def test_the_large_text_display_is_a_persistent_toggle(client):
    in_english(client)
    assert "large-text" not in client.get("/benefits").get_data(as_text=True).split("<body", 1)[1][:80]
    on = post(client, "/display", {"mode": "simple", "next": "/benefits"}, page="/benefits")
    assert on.status_code == 303 and on.headers["Location"] == "/benefits"
    cookie = next(h for h in on.headers.getlist("Set-Cookie") if h.startswith("esocial_display="))
    assert "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    page = client.get("/benefits").get_data(as_text=True)
    assert 'class="large-text simple' in page and 'aria-pressed="true"' in page
    off = post(client, "/display", {"mode": "standard", "next": "https://evil.example/"}, page="/benefits")
    assert off.headers["Location"] == "/"  # never sent off-site
    assert 'aria-pressed="false"' in client.get("/benefits").get_data(as_text=True)
