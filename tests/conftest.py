"""Test fixtures.

The database is built once per run by the real Alembic migrations, on SQLite
by default or on PostgreSQL when ``ESOCIAL_TEST_DATABASE_URL`` names one; each
test starts from empty tables.  Logged-in clients are made per role.
"""
from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from portal import create_app
from portal.config import load_settings
from portal.core.db import db
from portal.core.migrate import upgrade
from portal.models import Base

TEST_DB_ENV = "ESOCIAL_TEST_DATABASE_URL"

pytest_plugins = ["saml_fixtures"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def database_url(instance_dir) -> str:
    return os.environ.get(TEST_DB_ENV) or f"sqlite:///{instance_dir / 'test.db'}"


@pytest.fixture(scope="session")
def settings(instance_dir, database_url, saml_settings_overrides):
    # saml_settings_overrides (tests/saml_fixtures.py): SP keys and the in-test MPass IdP's metadata.
    return load_settings("test", overrides={
        "database_url": database_url,
        "instance_path": str(instance_dir),
        "upload_dir": str(instance_dir / "uploads"),
        "secret_key": secrets.token_hex(32),
        **saml_settings_overrides,
    })


@pytest.fixture(scope="session")
def app(settings):
    upgrade(settings.database_url)
    app = create_app(settings)
    app.config.update(TESTING=True)
    return app


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_db(request):
    yield
    if "app" in request.fixturenames:
        db.session.remove()
        _empty_tables()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def make_account(app):
    from portal.accounts.models import Account
    from portal.core.idnp import make_idnp

    counter = iter(range(1, 10**6))

    def make(idnp: str | None = None, **attrs) -> Account:
        with app.app_context():
            account = Account(idnp=idnp or make_idnp(f"2001{next(counter):08d}"),
                              first_name=attrs.pop("first_name", "Ion"),
                              last_name=attrs.pop("last_name", "Popescu"),
                              email=attrs.pop("email", "ion@example.md"), **attrs)
            db.session.add(account)
            db.session.commit()
            db.session.refresh(account)
            db.session.expunge(account)
            return account

    return make


@pytest.fixture
def grant_role(app):
    from portal.accounts.models import RoleAssignment

    def grant(idnp: str, role: str, agency_code: str | None = None) -> None:
        with app.app_context():
            db.session.add(RoleAssignment(idnp=idnp, role=role, agency_code=agency_code))
            db.session.commit()

    return grant


@pytest.fixture
def login(app):
    """Log a test client in as ``account`` with a real server-side login session (no SAML)."""
    from portal.accounts.models import LoginSession

    def do_login(client, account, lang: str | None = "en") -> None:
        """``lang``: the UI language chosen in the session; tests read the English source texts
        unless they ask for another language (``None`` leaves the choice to the account)."""
        with app.app_context():
            sid = secrets.token_urlsafe(32)
            db.session.add(LoginSession(id=sid, account_id=account.id, name_id=account.idnp))
            db.session.commit()
        with client.session_transaction() as s:
            s["_user_id"] = sid
            s["_fresh"] = True
            if lang:
                s["lang"] = lang

    return do_login


@pytest.fixture
def client_as(app, login):
    """A new test client logged in as ``account`` (``lang`` as in :func:`login`): ``client_as(account)``."""

    def logged_in(account, lang: str | None = "en"):
        client = app.test_client()
        login(client, account, lang=lang)
        return client

    return logged_in
