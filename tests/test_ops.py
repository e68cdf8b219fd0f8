"""Operations endpoints and plumbing: readiness, Prometheus metrics, correlation ids, JSON logs."""
from __future__ import annotations

import dataclasses
import io
import json
import logging
import re

import pytest
from sqlalchemy import create_engine

from portal.core import correlation, logs
from portal.core.migrate import upgrade
from portal.ops import metrics, readiness


def test_readyz_when_database_is_at_head_and_no_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "redis": "not configured"}}


def test_readyz_refuses_a_schema_behind_the_code(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "f7e96b9cf31c")  # the baseline only: every feature's branch is missing
    ok, message = readiness.check_database(create_engine(url))
    assert not ok and message.startswith("migrations not at head") and "ops_0001" in message
    upgrade(url)
    assert readiness.check_database(create_engine(url)) == (True, "ok")


def test_readyz_is_503_when_redis_does_not_answer(app, client, monkeypatch):
    settings = dataclasses.replace(app.config["ESOCIAL"], redis_url="redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.config, "ESOCIAL", settings)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"] == "ok" and response.json["checks"]["redis"].startswith("redis:")


def _sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_requests_by_endpoint_and_status(client):
    before = _sample(client.get("/metrics").get_data(as_text=True), "esocial_http_requests_total",
                     endpoint="citizen.benefit", status="404") or 0
    assert client.get("/benefits/no-such-benefit").status_code == 404
    assert client.get("/benefits/no-such-benefit").status_code == 404
    text = client.get("/metrics").get_data(as_text=True)
    assert _sample(text, "esocial_http_requests_total", endpoint="citizen.benefit", method="GET",
                   status="404") == before + 2
    assert _sample(text, "esocial_http_request_duration_seconds_count", endpoint="citizen.benefit") >= 2
    assert 'esocial_http_request_duration_seconds_bucket{endpoint="citizen.benefit",le="0.25"}' in text
    for status in metrics.OUTBOX_STATES:  # read from the database at scrape time
        assert _sample(text, "esocial_outbox", status=status) == 0
    assert "# TYPE esocial_queue_depth gauge" in text


def test_registry_errors_and_notification_outcomes_are_counted(client):
    metrics.registry_error("rsp", "unavailable")
    metrics.notification_outcome("sms", "dead")
    text = client.get("/metrics").get_data(as_text=True)
    assert _sample(text, "esocial_registry_errors_total", registry="rsp", code="unavailable") >= 1
    assert _sample(text, "esocial_notifications_total", channel="sms", status="dead") >= 1


def test_metrics_need_the_token_when_one_is_set(app, client, monkeypatch):
    settings = dataclasses.replace(app.config["ESOCIAL"], metrics_token="s3cret-token")
    monkeypatch.setitem(app.config, "ESOCIAL", settings)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "esocial_http_requests_total" in ok.get_data(as_text=True)


def test_every_response_carries_a_correlation_id(client):
    given = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a9c1e22"})
    assert given.headers["X-Request-Id"] == "lb-7f3a9c1e22"
    forged = client.get("/healthz", headers={"X-Request-Id": "bad id;<script>"})
    made = client.get("/healthz")
    for response in (forged, made):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    assert forged.headers["X-Request-Id"] != made.headers["X-Request-Id"]
    assert correlation.current() is None  # nothing leaks out of the request


def test_json_log_lines_carry_the_correlation_id():
    stream = io.StringIO()
    logger = logging.getLogger("esocial.test.json")
    logger.propagate = False
    logger.addHandler(logs.handler("json", stream))
    logger.setLevel(logging.INFO)
    try:
        with correlation.bound("req-1234abcd"):
            logger.info("registry query %s", "rsp/person", extra={"registry": "rsp"})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("outside any request")
    finally:
        logger.handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "registry query rsp/person" and first["correlation_id"] == "req-1234abcd"
    assert first["registry"] == "rsp" and first["level"] == "INFO" and first["logger"] == "esocial.test.json"
    assert second["correlation_id"] == "-" and "ValueError: boom" in second["exc"]


@pytest.mark.parametrize("value,ok", [("abcdef12", True), ("a" * 40, True), ("short", False), ("a" * 41, False),
                                      ("with space1", False), ("dots.and-dash_1", True)])
def test_correlation_ids_from_outside_are_checked(value, ok):
    assert correlation.is_valid(value) is ok
    assert (correlation.from_header(value) == value) is ok
