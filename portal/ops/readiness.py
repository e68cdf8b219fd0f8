"""Readiness: can this process serve traffic now?  The database answers, Redis answers (when configured),
and the schema is at the head of every migration branch (a process of a newer release must not serve an
older schema, nor the reverse)."""
from __future__ import annotations

import functools

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from portal.core.migrate import alembic_config


@functools.lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))  # the code's migrations, read once


def expected_heads() -> frozenset[str]:
    """The head revisions of the code this process runs."""
    return frozenset(_script().get_heads())


def missing_revisions(current: set[str]) -> tuple[set[str], set[str]]:
    """(heads not applied, recorded revisions the code does not know) for the ``alembic_version`` rows.

    A head is applied when it is a recorded revision or below one: the table keeps only the tips, and a
    revision another one ``depends_on`` is not kept beside it.
    """
    script = _script()
    unknown = set()
    for rev in current:
        try:
            script.get_revision(rev)
        except CommandError:
            unknown.add(rev)
    applied: set[str] = set()
    for rev in current - unknown:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return set(expected_heads()) - applied, unknown


def check_database(engine) -> tuple[bool, str]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
        return False, f"database: {exc.__class__.__name__}"
    missing, unknown = missing_revisions(current)
    if missing or unknown:
        return False, (f"migrations not at head (missing {', '.join(sorted(missing)) or 'none'}; "
                       f"unknown {', '.join(sorted(unknown)) or 'none'})")
    return True, "ok"


def check_redis(url: str) -> tuple[bool, str]:
    if not url:
        return True, "not configured"
    from portal.jobs import queue as jobqueue

    try:
        jobqueue.connection(url).ping()
    except Exception as exc:  # noqa: BLE001
        return False, f"redis: {exc.__class__.__name__}"
    return True, "ok"


def readiness(engine, redis_url: str) -> tuple[bool, dict[str, str]]:
    db_ok, db_msg = check_database(engine)
    redis_ok, redis_msg = check_redis(redis_url)
    return db_ok and redis_ok, {"database": db_msg, "redis": redis_msg}
