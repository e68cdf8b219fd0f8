"""gunicorn settings for the portal: ``gunicorn -c config/gunicorn.conf.py wsgi:app``.

Every value can be changed through the environment (``GUNICORN_*``), so the systemd unit, the compose
file and the benchmarks use this one file.

* Several worker processes (default: 2 per core), each with threads.  The app keeps nothing per process
  that matters to the next request (login sessions, SAML state, drafts and CSRF secrets are in the
  database or in the signed cookie), so any worker, on any machine, can answer any request.
* The worker class is ``gthread`` by default; Server-Sent Events hold one thread per open stream, so a
  deployment with many open status pages raises ``GUNICORN_THREADS`` or chooses the class the live-status
  work (``GUNICORN_WORKER_CLASS``) names in the README.
* Prometheus multiprocess mode: every process writes its metrics under ``PROMETHEUS_MULTIPROC_DIR``;
  ``/metrics`` adds them up.  Files of processes that have gone are removed at start and when a worker
  exits (gauges) — counters of a finished process keep counting in the totals, as Prometheus expects.
* Logs: gunicorn's own error log goes through the portal's JSON formatter when ``ESOCIAL_LOG_FORMAT=json``;
  the access log is off by default (the portal counts requests in /metrics and logs errors itself).
"""
import glob
import multiprocessing
import os
import re
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# gthread serves at most this many connections at once per worker; each open status page holds one.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", max(1000, threads + 100)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
backlog = 2048
# Recycle workers now and then (a slow leak never becomes an outage); jitter so they do not restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10
# The app is loaded (and warmed, wsgi.py) once, in the master, and each worker is a fork of it: a recycled
# worker no longer imports the portal again (about 2 s of CPU, then half a second on its first application
# page, while its share of the requests waits), and the loaded code's memory starts shared (copy-on-write).
# New code needs a restart, not a HUP (README: Production).  GUNICORN_PRELOAD=0 loads the app in each worker
# instead.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# The TLS-terminating proxy in front: trust its X-Forwarded-* headers only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("ESOCIAL_LOG_LEVEL", "info").lower()
proc_name = "esocial-portal"

if os.environ.get("ESOCIAL_LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.core.logs.JsonFormatter"}},
        "filters": {"correlation": {"()": "portal.core.correlation.Filter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["correlation"],
                                "stream": "ext://sys.stderr"}},
        "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
                    "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
    }

# Must be in the environment before any process imports prometheus_client.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "esocial-metrics"))
_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for name in glob.glob(os.path.join(path, "*.db")):
        match = _PID_IN_NAME.search(name)
        if match and not _alive(int(match.group(1))):
            os.remove(name)


def post_fork(server, worker):
    # Nothing the master opened while loading the app is shared with a worker: a pool made before the fork
    # is emptied without closing the master's sockets (SQLAlchemy's advice for forked processes).
    import sys

    core_db = sys.modules.get("portal.core.db")
    if core_db is not None and core_db.db.engine is not None:
        core_db.db.engine.dispose(close=False)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
