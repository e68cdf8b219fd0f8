"""``python -m portal.ops.migrate``: bring the configured database to the head of every migration branch.

Run once per release before the new processes start (the ``esocial-migrate`` unit, the compose ``migrate``
service).  ``/readyz`` answers 503 on a process whose code expects a schema the database does not have.
"""
from __future__ import annotations

import logging


def main() -> int:
    from portal.config import load_settings
    from portal.core import logs
    from portal.core.migrate import upgrade

    logs.configure()
    settings = load_settings()
    logging.getLogger("esocial.migrate").info("migrating %s", settings.database_url.rsplit("@", 1)[-1])
    upgrade(settings.database_url)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
