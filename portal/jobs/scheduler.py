"""``python -m portal.jobs.scheduler``: enqueue every periodic sweep when it is due.

Run one per machine or two for availability: each due time is enqueued once across all of them (the job id
is the sweep and its time slot, enqueued with RQ's atomic uniqueness check).  It runs no job itself.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading

log = logging.getLogger("esocial.jobs.scheduler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="enqueue what is due now and exit")
    args = parser.parse_args(argv)

    from portal.core import logs

    logs.configure()
    from portal.config import SettingsError, load_settings
    from portal.jobs import queue

    settings = load_settings()
    if not settings.redis_url:
        raise SettingsError("the scheduler needs ESOCIAL_REDIS_URL (the embedded default runs sweeps in a thread)")
    scheduler = queue.Scheduler(settings.redis_url, queue.entries())
    if args.once:
        for jid in scheduler.tick():
            print(jid)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler.run(stop)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
