"""``/readyz``, ``/metrics``, and the hooks every request passes through (correlation id, request metrics)."""
from __future__ import annotations

import hmac
import logging
import time

from flask import Blueprint, Response, current_app, g, request

from portal.core import correlation
from portal.core.db import db
from portal.core.security import public
from portal.ops import metrics, readiness

bp = Blueprint("ops", __name__)
log = logging.getLogger("esocial.requests")


@bp.before_app_request
def _start():
    g.correlation_id = correlation.from_header(request.headers.get(correlation.HEADER))
    g.correlation_token = correlation.set_current(g.correlation_id)
    g.request_started = time.perf_counter()


@bp.after_app_request
def _finish(response):
    started = g.pop("request_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        elapsed = time.perf_counter() - started
        metrics.HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        metrics.HTTP_LATENCY.labels(endpoint).observe(elapsed)
        if response.status_code >= 500:
            log.error("%s %s -> %s in %.0f ms", request.method, endpoint, response.status_code, elapsed * 1000)
    if "correlation_id" in g:
        response.headers[correlation.HEADER] = g.correlation_id
    return response


@bp.teardown_app_request
def _forget(_exc):
    token = g.pop("correlation_token", None)
    if token is not None:
        try:
            correlation.reset(token)
        except ValueError:  # set in another context (a streamed response finishing elsewhere): nothing to undo
            pass


@bp.get("/readyz")
@public
def ready():
    settings = current_app.config["ESOCIAL"]
    ok, checks = readiness.readiness(db.engine, settings.redis_url)
    return {"status": "ready" if ok else "not ready", "checks": checks}, (200 if ok else 503)


@bp.get("/metrics")
@public
def prometheus():
    """Prometheus text format.  Keep it internal (the reverse proxy does not route it); with
    ``metrics_token`` set it also needs ``Authorization: Bearer <token>``."""
    token = current_app.config["ESOCIAL"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need a bearer token\n", status=401, mimetype="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
    state = metrics.StateCollector(current_app.config["ESOCIAL"].redis_url, db.new_session)
    body, content_type = metrics.exposition(state)
    return Response(body, mimetype=None, content_type=content_type)
