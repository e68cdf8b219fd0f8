"""Server-side login sessions behind Flask-Login.

The browser's cookie holds only a random session id.  Ending a session here
(logout, SAML single logout started by the IdP, idle timeout) ends it for
every app process at once.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, LoginSession
from portal.audit import services as audit
from portal.core import clock
from portal.core.db import db

# Write last_seen_at at most this often, so reading pages is not a write each time.
_TOUCH_EVERY = dt.timedelta(seconds=60)


def load_user(session_id: str) -> Account | None:
    # One round trip for the login session, its account and the account's roles (every page reads them).
    login = db.session.execute(
        select(LoginSession).where(LoginSession.id == session_id)
        .options(joinedload(LoginSession.account).joinedload(Account.roles))
    ).unique().scalar_one_or_none()
    if login is None or login.ended_at is not None:
        return None
    now = clock.now()
    settings = current_app.config["ESOCIAL"]
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    absolute = dt.timedelta(hours=settings.session_absolute_hours)
    if now - login.last_seen_at > idle or now - login.created_at > absolute:
        login.ended_at = now
        audit.record(db.session, "session_expired", actor_idnp=login.account.idnp, subject_idnp=login.account.idnp,
                     reason="idle" if now - login.last_seen_at > idle else "absolute")
        db.session.commit()
        return None
    if now - login.last_seen_at > _TOUCH_EVERY:
        login.last_seen_at = now
        db.session.commit()
    account = login.account
    account.login_session_id = login.id
    return account


def upsert_account(idnp: str, **attributes) -> Account:
    """Create or refresh the account of the person MPass vouched for."""
    account = db.session.scalar(select(Account).where(Account.idnp == idnp))
    if account is None:
        account = Account(idnp=idnp, language=attributes.get("language") or "ro")
        db.session.add(account)
    for name in ("first_name", "last_name", "birth_date", "email", "phone"):
        value = attributes.get(name)
        if value:
            setattr(account, name, value)
    return account


def start(account: Account, name_id: str, session_index: str | None) -> LoginSession:
    """Open a login session for ``account`` and put its id in the browser's cookie."""
    login = LoginSession(id=secrets.token_urlsafe(32), account=account, name_id=name_id,
                         saml_session_index=session_index)
    db.session.add(login)
    account.last_login_at = clock.now()
    db.session.flush()
    account.login_session_id = login.id
    login_user(account)
    audit.record(db.session, "login", actor_idnp=account.idnp, subject_idnp=account.idnp,
                 object_type="login_session", object_id=login.id[:8])
    return login


def end_current(account: Account) -> LoginSession | None:
    login = db.session.get(LoginSession, account.login_session_id) if account.login_session_id else None
    if login is not None and login.ended_at is None:
        login.ended_at = clock.now()
        audit.record(db.session, "logout", actor_idnp=account.idnp, subject_idnp=account.idnp)
    logout_user()
    return login


def end_by_saml(name_id: str, session_indexes: list[str] | None) -> int:
    """End the sessions an IdP-initiated LogoutRequest names. Returns how many ended."""
    query = update(LoginSession).where(LoginSession.name_id == name_id, LoginSession.ended_at.is_(None))
    if session_indexes:
        query = query.where(LoginSession.saml_session_index.in_(session_indexes))
    result = db.session.execute(query.values(ended_at=clock.now()))
    return result.rowcount or 0
