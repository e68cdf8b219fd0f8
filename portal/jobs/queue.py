"""Background work on a Redis-backed queue (RQ): the production shape of :mod:`portal.jobs`.

Three kinds of process share one Redis:

* **app processes** may enqueue one-off jobs (:func:`enqueue`): a notification
  to send now, an export.  A job id makes the enqueue idempotent: a second
  enqueue with the id of a job that still exists is a no-op.
* **the scheduler** (``python -m portal.jobs.scheduler``, :class:`Scheduler`)
  enqueues each periodic sweep when it is due.  The job id is the sweep's name
  and its time slot (``sweep-<name>-<slot>``), enqueued with RQ's atomic
  ``unique`` check: however many schedulers run (one per machine for
  availability), each due time is enqueued once across the cluster.  A sweep
  whose previous run is still waiting in the queue is not enqueued again.
* **workers** (``python -m portal.jobs.worker``) run the jobs, several per
  machine, with retries (RQ ``Retry``) for jobs that raise.

Every job runs under the correlation id of whoever enqueued it (kept in the
job's ``meta``), so its log lines and registry queries can be found with the
request's.  The embedded default does none of this: it runs the same sweeps in
a thread (:func:`portal.jobs.run_scheduler`) and needs no Redis.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from flask import Flask
from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from portal.core import correlation
from portal.ops import metrics

log = logging.getLogger("esocial.jobs")

QUEUE_NAME = "esocial"
# Jobs that raise are tried again after 10 s, 1 min and 5 min, then kept in RQ's failed registry for a week.
DEFAULT_RETRY = (10, 60, 300)
FAILURE_TTL = 7 * 24 * 3600
JOB_TIMEOUT = 600
# How often the production scheduler enqueues the notification fan-out and the stuck-row recovery.
DELIVER_EVERY = 2.0
RECOVER_EVERY = 60.0


# --- connections ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def connection(url: str) -> Redis:
    """One pooled client per URL and process."""
    return Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30)


def get_queue(url: str, name: str = QUEUE_NAME) -> Queue:
    return Queue(name, connection=connection(url))


def depth(url: str, name: str = QUEUE_NAME) -> dict[tuple[str, str], int]:
    """Jobs by state: ``queued`` (waiting), ``started``, ``scheduled`` (retries waiting), ``failed`` (gave up)."""
    q = get_queue(url, name)
    return {(name, "queued"): q.count,
            (name, "started"): q.started_job_registry.count,
            (name, "scheduled"): q.scheduled_job_registry.count,
            (name, "failed"): q.failed_job_registry.count}


def _retry(intervals: tuple[int, ...] | None) -> Retry | None:
    return Retry(max=len(intervals), interval=list(intervals)) if intervals else None


def enqueue(url: str, func: str | Callable, *args, job_id: str | None = None,
            retry: tuple[int, ...] | None = DEFAULT_RETRY, result_ttl: int = 3600, ttl: int | None = None,
            timeout: int = JOB_TIMEOUT) -> Job | None:
    """Put ``func(*args)`` on the queue under the current correlation id.

    With ``job_id`` the enqueue is idempotent: while a job with that id exists
    (queued, running, or kept as a result for ``result_ttl`` seconds) a second
    enqueue returns ``None`` and changes nothing.
    """
    meta = {"correlation_id": correlation.current() or correlation.new()}
    try:
        return get_queue(url).enqueue_call(func, args=args, job_id=job_id, unique=job_id is not None, meta=meta,
                                           retry=_retry(retry), result_ttl=result_ttl, ttl=ttl,
                                           failure_ttl=FAILURE_TTL, timeout=timeout)
    except DuplicateJobError:
        log.debug("job %s is already on the queue", job_id)
        return None


def job_id(*parts) -> str:
    """A job id from readable parts (RQ allows letters, digits, ``_`` and ``-``)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_]+", "_", str(p)) for p in parts)


# --- the worker side ------------------------------------------------------------------------------

_app: Flask | None = None
_app_lock = threading.Lock()


def set_app(app: Flask | None) -> None:
    """The portal app jobs run in (the worker process builds it once at start)."""
    global _app
    _app = app


def worker_app() -> Flask:
    global _app
    with _app_lock:
        if _app is None:
            from portal import create_app

            _app = create_app()
        return _app


@functools.lru_cache(maxsize=1)
def _channels(settings):
    from portal.notifications.channels import channels_for

    return channels_for(settings)  # kept for the worker's life: SMTP and HTTP connections are reused


def _job(name: str):
    """Run a job function under its enqueuer's correlation id, counting its outcome and time."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            current = get_current_job()
            cid = (current.meta or {}).get("correlation_id") if current is not None else None
            label = name(*args) if callable(name) else name
            with correlation.bound(cid):
                started = time.perf_counter()
                try:
                    result = fn(*args, **kwargs)
                except Exception:
                    metrics.JOBS.labels(label, "error").inc()
                    log.exception("job %s failed", label)
                    raise
                finally:
                    metrics.JOB_LATENCY.labels(label).observe(time.perf_counter() - started)
                metrics.JOBS.labels(label, "ok").inc()
                log.info("job %s done in %.0f ms: %s", label, (time.perf_counter() - started) * 1000,
                         repr(result)[:100], extra={"job_id": current.id if current is not None else None})
                return result

        return wrapper

    return decorator


@_job(lambda name: f"sweep:{name}")
def run_sweep(name: str) -> str:
    """One run of a sweep registered with :func:`portal.jobs.periodic`."""
    from portal.jobs import load_tasks

    task = load_tasks()[name]
    app = worker_app()
    with app.app_context():
        result = task.fn(app)
    return repr(result)[:200]


@_job("notification")
def deliver_notification(notification_id: int) -> str:
    """Send one notification (the job of a single send or retry): ``sent``, ``failed``, ``dead`` or ``skipped``."""
    from portal.notifications import delivery

    app = worker_app()
    return delivery.deliver_one(app, notification_id, channels=_channels(app.config["ESOCIAL"]))


@_job("notifications.fan_out")
def fan_out_deliveries(limit: int = 1000) -> int:
    """Enqueue one :func:`deliver_notification` job per due row, so that every worker sends in parallel.

    The job id holds the row's attempt count: the same try is never queued twice, the next retry is a new job.
    """
    from portal.notifications import delivery

    url = worker_app().config["ESOCIAL"].redis_url
    enqueued = 0
    for notification_id, attempts in delivery.due_ids(limit):
        if enqueue_notification(url, notification_id, attempts) is not None:
            enqueued += 1
    return enqueued


@_job("notifications.recover")
def recover_notifications() -> int:
    from portal.notifications import delivery

    worker_app()  # the database is configured by the app
    return delivery.recover_stuck()


def enqueue_notification(url: str, notification_id: int, attempts: int = 0) -> Job | None:
    """Send (or retry) one notification now, through the queue; idempotent per row and attempt."""
    return enqueue(url, deliver_notification, notification_id, job_id=job_id("notification", notification_id,
                                                                                   attempts),
                   retry=(5, 30), result_ttl=600)


# --- the scheduler -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Something the scheduler enqueues every ``every`` seconds."""

    name: str
    every: float
    func: Callable
    args: tuple = ()


def entries() -> list[Entry]:
    """Every registered sweep, plus the notification fan-out and recovery (the dev stack's delivery thread)."""
    from portal.jobs import load_tasks

    found = [Entry(task.name, task.every, run_sweep, (task.name,)) for task in load_tasks().values()]
    found.append(Entry("notifications.deliver", DELIVER_EVERY, fan_out_deliveries))
    found.append(Entry("notifications.recover", RECOVER_EVERY, recover_notifications))
    return found


@dataclass
class Scheduler:
    """Enqueue each entry once per due slot across every scheduler that shares the Redis."""

    redis_url: str
    entries: list[Entry]
    clock: Callable[[], float] = time.time
    _last: dict[str, str] = field(default_factory=dict)

    def slot_job_id(self, entry: Entry, now: float) -> str:
        return job_id("sweep", entry.name, int(now // entry.every))

    def _still_waiting(self, jid: str) -> bool:
        try:
            status = Job.fetch(jid, connection=connection(self.redis_url)).get_status()
        except NoSuchJobError:
            return False
        return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)

    def tick(self, now: float | None = None) -> list[str]:
        """Enqueue what is due now; returns the ids this scheduler enqueued (another may have been first)."""
        now = self.clock() if now is None else now
        enqueued = []
        for entry in self.entries:
            jid = self.slot_job_id(entry, now)
            previous = self._last.get(entry.name)
            if previous == jid:
                continue
            self._last[entry.name] = jid
            if previous is not None and self._still_waiting(previous):
                log.warning("sweep %s: the previous run is still waiting in the queue; not enqueued again",
                            entry.name)
                self._last[entry.name] = previous
                continue
            # Kept at least two slots, so a scheduler that ticks late in the slot still sees it.
            keep = int(max(2 * entry.every, 60))
            with correlation.bound():
                job = enqueue(self.redis_url, entry.func, *entry.args, job_id=jid, result_ttl=keep,
                              ttl=int(max(5 * entry.every, 300)), retry=DEFAULT_RETRY if entry.every >= 60 else None)
            if job is not None:
                enqueued.append(jid)
        return enqueued

    def run(self, stop_event: threading.Event, tick: float = 0.5) -> None:
        log.info("scheduler started: %s", ", ".join(f"{e.name} every {e.every:g} s" for e in self.entries))
        while not stop_event.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - Redis restarting: try again next tick
                log.exception("scheduler tick failed")
            stop_event.wait(tick)
        log.info("scheduler stopped")
