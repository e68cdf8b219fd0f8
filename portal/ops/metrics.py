"""Prometheus metrics: what every process counts, and what is read from the state at scrape time.

Counters and histograms live in the process that observes them.  Under
gunicorn (and for workers on the same machine) ``PROMETHEUS_MULTIPROC_DIR``
names a directory shared by all processes: each writes its own files there and
``/metrics`` adds them up (prometheus_client's multiprocess mode).  The
variable must be set before the first import of ``prometheus_client``;
``config/gunicorn.conf.py`` and the deployment files do that.

Queue depth and the outbox by status are not counted but read when scraped
(:class:`StateCollector`): they are facts about Redis and the database, the
same whichever process answers.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
                               multiprocess)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("esocial.metrics")

HTTP_REQUESTS = Counter("esocial_http_requests", "HTTP requests answered, by endpoint, method and status",
                        ["endpoint", "method", "status"])
HTTP_LATENCY = Histogram("esocial_http_request_duration_seconds", "Time to answer a request, by endpoint",
                         ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
REGISTRY_ERRORS = Counter("esocial_registry_errors", "Registry queries that failed, by registry and error code",
                          ["registry", "code"])
NOTIFICATIONS = Counter("esocial_notifications", "Notification delivery attempts, by channel and outcome "
                        "(sent, failed = will retry, dead = given up)", ["channel", "status"])
JOBS = Counter("esocial_jobs", "Background jobs run, by job and outcome", ["job", "outcome"])
JOB_LATENCY = Histogram("esocial_job_duration_seconds", "Time a background job ran, by job", ["job"],
                        buckets=(.01, .05, .1, .5, 1, 5, 15, 60, 300))

OUTBOX_STATES = ("pending", "sending", "failed", "dead")


def registry_error(registry: str, code: str) -> None:
    REGISTRY_ERRORS.labels(registry or "unknown", code or "error").inc()


def notification_outcome(channel: str, status: str) -> None:
    NOTIFICATIONS.labels(channel or "unknown", status).inc()


class StateCollector:
    """Gauges read at scrape time: the job queue in Redis and the notification outbox in the database."""

    def __init__(self, redis_url: str = "", session_factory=None):
        self.redis_url = redis_url
        self.session_factory = session_factory

    def collect(self):
        depth = GaugeMetricFamily("esocial_queue_depth", "Jobs in the background queue, by queue and state",
                                  labels=["queue", "state"])
        if self.redis_url:
            try:
                from portal.jobs import queue as jobqueue

                for (name, state), count in jobqueue.depth(self.redis_url).items():
                    depth.add_metric([name, state], count)
            except Exception:  # noqa: BLE001 - a scrape must not fail because Redis is down; /readyz says so
                log.warning("queue depth unavailable", exc_info=True)
        yield depth
        outbox = GaugeMetricFamily("esocial_outbox", "E-mail and SMS notifications not yet sent, by status",
                                   labels=["status"])
        if self.session_factory is not None:
            try:
                from sqlalchemy import func, select

                from portal.notifications.models import Notification

                session = self.session_factory()
                try:
                    rows = dict(session.execute(
                        select(Notification.status, func.count())
                        .where(Notification.status.in_(OUTBOX_STATES)).group_by(Notification.status)).all())
                finally:
                    session.close()
                for status in OUTBOX_STATES:
                    outbox.add_metric([status], rows.get(status, 0))
            except Exception:  # noqa: BLE001
                log.warning("outbox counts unavailable", exc_info=True)
        yield outbox


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


def exposition(state: StateCollector | None = None) -> tuple[bytes, str]:
    """The text exposition of every process's metrics (multiprocess mode when configured) plus the state gauges."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(DEFAULT_REGISTRY)
    if state is not None:
        extra = CollectorRegistry()
        extra.register(state)
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST
