"""``python -m portal.jobs.worker``: one RQ worker process running the portal's background jobs.

Run several (systemd ``esocial-worker@N``, or ``--scale worker=N`` with compose).  Each builds the portal
app once and runs jobs in its own process (RQ's SimpleWorker: no fork per job, so the database and SMTP
connections are reused).  One worker at a time also moves retries that are due back to the queue (RQ's
scheduler, elected through a Redis lock).  SIGTERM finishes the current job, then stops.
"""
from __future__ import annotations

import argparse
import logging
import os

log = logging.getLogger("esocial.jobs.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="run the jobs in the queue now, then exit")
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("ESOCIAL_WORKER_METRICS_PORT", 0)),
                        help="serve this process's Prometheus metrics on 127.0.0.1:PORT (0 = none; on a machine "
                             "with gunicorn, share PROMETHEUS_MULTIPROC_DIR instead and /metrics shows them)")
    args = parser.parse_args(argv)

    from portal.core import logs

    logs.configure()
    from rq import SimpleWorker

    from portal import create_app
    from portal.config import SettingsError, load_settings
    from portal.jobs import queue

    settings = load_settings()
    if not settings.redis_url:
        raise SettingsError("the worker needs ESOCIAL_REDIS_URL (the embedded default runs jobs in threads)")
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1")
    queue.set_app(create_app(settings))
    worker = SimpleWorker([queue.get_queue(settings.redis_url)], connection=queue.connection(settings.redis_url))
    log.info("worker %s listening on %s", worker.name, queue.QUEUE_NAME)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=logging.getLevelName(logging.getLogger().level))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
