"""Readiness: can this process serve traffic now?  The database answers, Redis answers (when configured),
and the schema is at the head of every migration branch (a process of a newer release must not serve an
older schema, nor the reverse)."""
from __future__ import annotations

import functools

from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal.core.migrate import alembic_config


@functools.lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """The head revisions of the code this process runs (read once: the files do not change under it)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def check_database(engine) -> tuple[bool, str]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
        return False, f"database: {exc.__class__.__name__}"
    if current != expected_heads():
        missing = sorted(expected_heads() - current)
        return False, f"migrations not at head (missing {', '.join(missing) or 'none'}; " \
                      f"unknown {', '.join(sorted(current - expected_heads())) or 'none'})"
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
