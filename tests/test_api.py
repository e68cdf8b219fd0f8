"""Integration API: credentials and tokens, one contract test per endpoint, agency isolation, idempotency,
webhook signatures, outbox and retries, the access log."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from api_helpers import agency_of, bearer, make_client, token
from backoffice_helpers import person, staff, submitted
from portal.api import webhooks
from portal.api.models import ApiAccessLog, ApiClientSecret, WebhookAttempt, WebhookDelivery, WebhookEvent
from portal.applications.models import Claim
from portal.core.db import db

RAION = "ialoveni"
BENEFIT = "social_aid"


@pytest.fixture
def world(app):
    """Two agencies' systems and one case for each."""
    with app.app_context():
        mine = agency_of(BENEFIT, RAION)
        other = agency_of("birth_allowance", RAION)
        assert mine != other
        ion = person(db.session, "Ion", "Rusu")
        a1 = submitted(db.session, ion, [BENEFIT], raion=RAION)
        maria = person(db.session, "Maria", "Lungu")
        a2 = submitted(db.session, maria, ["birth_allowance"], raion=RAION)
        db.session.commit()
        case1 = a1.claims[0].case_id
        from portal.backoffice.models import AgencyCase

        refs = {"mine": db.session.get(AgencyCase, case1).ref,
                "other": db.session.get(AgencyCase, a2.claims[0].case_id).ref,
                "claim": a1.claims[0].ref}
    cid, secret = make_client(app, mine)
    other_cid, other_secret = make_client(app, other)
    return {"agency": mine, "other_agency": other, "cid": cid, "secret": secret, "other_cid": other_cid,
            "other_secret": other_secret, **refs}


def _write(http, url, body, headers, key, method="post"):
    return getattr(http, method)(url, json=body, headers={**headers, "Idempotency-Key": key})


# --- credentials -------------------------------------------------------------------------------------------------

def test_token_needs_the_right_secret_and_rotation_keeps_both_secrets_working(app, client, world):
    bad = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": world["cid"],
                                                   "client_secret": "wrong"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "invalid_client"
    assert client.post("/api/v1/oauth/token", data={"grant_type": "password"}).status_code == 400
    old_token = token(client, world["cid"], world["secret"])
    from portal.api import auth
    from portal.api.models import ApiClient

    with app.app_context():
        c = db.session.scalar(select(ApiClient).where(ApiClient.client_id == world["cid"]))
        auth.add_secret(db.session, c, "the-new-secret-000000000000000000", label="rotation")
        db.session.commit()
        assert all(len(s.secret_hash) == 64 and s.secret_hash != world["secret"] for s in c.secrets)
    new_token = token(client, world["cid"], "the-new-secret-000000000000000000")
    for t in (old_token, new_token):  # both work during the rotation
        assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {t}"}).status_code == 200
    with app.app_context():  # the old secret is revoked: its tokens stop at once, the new one goes on
        first = db.session.scalar(select(ApiClientSecret).where(ApiClientSecret.label == "initial",
                                                                ApiClientSecret.client.has(client_id=world["cid"])))
        auth.revoke_secret(db.session, first)
        db.session.commit()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    basic = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(world["cid"], "the-new-secret-000000000000000000"))
    assert basic.status_code == 200


def test_no_token_or_a_forged_one_is_401_json(client, world):
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(app, client, world):
    from portal.api import auth

    t = token(client, world["cid"], world["secret"])
    with app.app_context():
        assert auth.verify_token(db.session, app.config["SECRET_KEY"], t) is not None
        assert auth.verify_token(db.session, app.config["SECRET_KEY"], t, max_age=-1) is None


# --- contract per endpoint ----------------------------------------------------------------------------------------

def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/cases", "/api/v1/cases/{ref}", "/api/v1/cases/{ref}/decisions", "/api/v1/webhooks",
            "/api/v1/oauth/token"} <= set(spec["paths"])
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "POST /api/v1/cases/{ref}/decisions" in page and "Idempotency-Key" in page


def test_list_cases_shows_only_the_agencys_cases_with_filters_and_pages(client, world):
    h = bearer(client, world["cid"], world["secret"])
    body = client.get("/api/v1/cases", headers=h).get_json()
    assert [c["ref"] for c in body["items"]] == [world["mine"]]
    assert body["total"] == 1 and body["page"] == 1 and body["cursor"] > 0
    assert body["items"][0]["claims"][0]["benefit"] == BENEFIT
    assert "registry_data" not in body["items"][0]
    assert client.get("/api/v1/cases?benefit=birth_allowance", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/cases?status=closed", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/cases?claim_status=submitted", headers=h).get_json()["total"] == 1
    assert client.get("/api/v1/cases?submitted_from=2000-01-01&submitted_to=2000-01-02",
                      headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/cases?page=2&per_page=1", headers=h).get_json()["items"] == []
    assert client.get("/api/v1/cases?page=zero", headers=h).status_code == 400
    assert client.get("/api/v1/cases?submitted_from=yesterday", headers=h).status_code == 400
    # changes since a cursor: nothing new, then the case that changed
    cursor = body["cursor"]
    assert client.get(f"/api/v1/cases?changed_since={cursor}", headers=h).get_json()["items"] == []
    _write(client, f"/api/v1/cases/{world['mine']}/status", {"status": "in_review"}, h, "k-review")
    changed = client.get(f"/api/v1/cases?changed_since={cursor}", headers=h).get_json()
    assert [c["ref"] for c in changed["items"]] == [world["mine"]] and changed["cursor"] > cursor


def test_read_one_case_with_registry_data_and_documents(app, client, world):
    h = bearer(client, world["cid"], world["secret"])
    body = client.get(f"/api/v1/cases/{world['mine']}", headers=h).get_json()
    assert body["ref"] == world["mine"] and body["agency"] == world["agency"]
    household = next(e for e in body["registry_data"] if e["item"] == "household")
    assert household["source"] == "rsp" and household["payload"]["members"][0]["first_name"] == "Ion"
    assert body["documents"] == []
    with app.app_context():
        from portal.audit.models import AuditEvent

        viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case_viewed"))
        assert viewed.object_id == world["mine"] and viewed.actor_idnp.startswith("api")


def test_document_download(app, client, world):
    from portal.applications import services
    from portal.applications.models import Application

    with app.test_request_context(headers={"Accept-Language": "en"}):
        claim = db.session.scalar(select(Claim).where(Claim.ref == world["claim"]))
        application = db.session.get(Application, claim.application_id)
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        application.status = "draft"
        settings = app.config["ESOCIAL"]
        doc = services.add_document(db.session, application, actor=application.applicant,
                                    kind="foreign_birth_certificate", filename="cert.pdf", data=pdf,
                                    upload_dir=settings.resolve(settings.upload_dir),
                                    max_bytes=settings.max_upload_bytes)
        application.status = "submitted"
        db.session.commit()
        doc_ref = doc.ref
    h = bearer(client, world["cid"], world["secret"])
    listed = client.get(f"/api/v1/cases/{world['mine']}", headers=h).get_json()["documents"]
    assert listed[0]["ref"] == doc_ref and listed[0]["download_url"].endswith(f"/documents/{doc_ref}")
    response = client.get(f"/api/v1/cases/{world['mine']}/documents/{doc_ref}", headers=h)
    assert response.status_code == 200 and response.data == pdf
    assert client.get(f"/api/v1/cases/{world['mine']}/documents/nope", headers=h).status_code == 404


def test_status_change_uses_the_transition_table(client, world):
    h = bearer(client, world["cid"], world["secret"])
    url = f"/api/v1/cases/{world['mine']}/status"
    moved = _write(client, url, {"status": "in_review"}, h, "s1")
    assert moved.status_code == 200 and moved.get_json()["claims"][0]["status"] == "in_review"
    again = _write(client, url, {"status": "in_review", "claim": world["claim"]}, h, "s2")
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"
    bogus = _write(client, url, {"status": "draft"}, h, "s3")
    assert bogus.status_code == 400
    assert _write(client, url, {"status": "in_review"}, h, "").status_code == 400  # no Idempotency-Key


def test_request_for_information_waits_for_the_citizen(client, world):
    h = bearer(client, world["cid"], world["secret"])
    url = f"/api/v1/cases/{world['mine']}/information-requests"
    empty = _write(client, url, {"question": "  "}, h, "q0")
    assert empty.status_code == 422
    asked = _write(client, url, {"question": "Send the rent contract."}, h, "q1")
    assert asked.status_code == 200
    body = asked.get_json()
    assert body["status"] == "waiting" and body["claims"][0]["status"] == "info_requested"


def test_decision_by_the_same_service_as_the_back_office(app, client, world):
    h = bearer(client, world["cid"], world["secret"])
    url = f"/api/v1/cases/{world['mine']}/decisions"
    no_reason = _write(client, url, {"claim": world["claim"], "outcome": "rejected"}, h, "d0")
    assert no_reason.status_code == 422
    done = _write(client, url, {"claim": world["claim"], "outcome": "approved", "amount": "1250.50",
                                "period": "monthly"}, h, "d1")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["claims"][0]["status"] == "approved" and done.get_json()["status"] == "closed"
    with app.app_context():
        from portal.decisions.models import Decision

        decision = db.session.scalar(select(Decision))
        assert str(decision.amount) == "1250.50" and decision.letter_pdf.startswith(b"%PDF")
    twice = _write(client, url, {"claim": world["claim"], "outcome": "rejected", "reason": "x"}, h, "d2")
    assert twice.status_code == 409


def test_webhook_subscriptions(client, world):
    h = bearer(client, world["cid"], world["secret"])
    made = _write(client, "/api/v1/webhooks", {"url": "https://agency.example/hook"}, h, "w1")
    assert made.status_code == 201
    sub = made.get_json()
    assert sub["secret"].startswith("whsec_") and set(sub["events"]) == set(webhooks.EVENT_TYPES)
    listed = client.get("/api/v1/webhooks", headers=h).get_json()["items"]
    assert [s["ref"] for s in listed] == [sub["ref"]] and "secret" not in listed[0]
    assert _write(client, "/api/v1/webhooks", {"url": "ftp://x/y"}, h, "w2").status_code == 400
    ended = _write(client, f"/api/v1/webhooks/{sub['ref']}", None, h, "w3", method="delete")
    assert ended.status_code == 200 and ended.get_json()["active"] is False
    other = bearer(client, world["other_cid"], world["other_secret"])
    assert _write(client, f"/api/v1/webhooks/{sub['ref']}", None, other, "w4", method="delete").status_code == 404


# --- authorization ----------------------------------------------------------------------------------------------

def test_a_client_cannot_reach_another_agencys_case(client, world):
    h = bearer(client, world["cid"], world["secret"])
    other = world["other"]
    assert client.get(f"/api/v1/cases/{other}", headers=h).status_code == 404
    assert client.get(f"/api/v1/cases/{other}/documents/x", headers=h).status_code == 404
    for path, body in (("status", {"status": "in_review"}), ("information-requests", {"question": "?"}),
                       ("decisions", {"claim": "x", "outcome": "approved"})):
        response = _write(client, f"/api/v1/cases/{other}/{path}", body, h, f"x-{path}")
        assert response.status_code == 404, path
    missing = client.get("/api/v1/cases/doesnotexist", headers=h)
    assert missing.status_code == 404 and missing.get_json() == client.get(f"/api/v1/cases/{other}",
                                                                           headers=h).get_json()
    theirs = bearer(client, world["other_cid"], world["other_secret"])
    assert client.get(f"/api/v1/cases/{other}", headers=theirs).status_code == 200


def test_every_call_is_logged_with_the_client(app, client, world):
    h = bearer(client, world["cid"], world["secret"])
    client.get("/api/v1/cases", headers=h)
    client.get(f"/api/v1/cases/{world['other']}", headers=h)
    client.get("/api/v1/cases")
    with app.app_context():
        rows = db.session.scalars(select(ApiAccessLog).order_by(ApiAccessLog.id)).all()
        calls = [(r.client_id, r.method, r.path.split("?")[0], r.status) for r in rows]
    assert (world["cid"], "GET", "/api/v1/cases", 200) in calls
    assert (world["cid"], "GET", f"/api/v1/cases/{world['other']}", 404) in calls
    assert (None, "GET", "/api/v1/cases", 401) in calls


# --- idempotency --------------------------------------------------------------------------------------------------

def test_a_retried_write_applies_once(app, client, world):
    h = bearer(client, world["cid"], world["secret"])
    url = f"/api/v1/cases/{world['mine']}/information-requests"
    first = _write(client, url, {"question": "Send the rent contract."}, h, "same-key")
    second = _write(client, url, {"question": "Send the rent contract."}, h, "same-key")
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json() and second.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        from portal.applications.models import StatusEvent

        assert db.session.scalar(select(func.count()).select_from(StatusEvent)
                                 .where(StatusEvent.to_status == "info_requested")) == 1
    different = _write(client, url, {"question": "Something else"}, h, "same-key")
    assert different.status_code == 409 and different.get_json()["error"] == "idempotency_key_reused"
    # another client may use the same key: keys are per client
    other = bearer(client, world["other_cid"], world["other_secret"])
    assert _write(client, f"/api/v1/cases/{world['other']}/information-requests",
                  {"question": "Send the certificate."}, other, "same-key").status_code == 200


def test_a_failed_write_keeps_nothing_so_it_can_be_retried(client, world):
    h = bearer(client, world["cid"], world["secret"])
    url = f"/api/v1/cases/{world['mine']}/decisions"
    body = {"claim": world["claim"], "outcome": "rejected", "reason": "Income above the threshold."}
    _write(client, f"/api/v1/cases/{world['mine']}/information-requests", {"question": "?"}, h, "q")
    refused = _write(client, url, body, h, "k")  # info_requested → rejected is not in the table
    assert refused.status_code == 409
    again = _write(client, url, body, h, "k")
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"


# --- webhooks -----------------------------------------------------------------------------------------------------

class _Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        code = type(self).answers.pop(0) if type(self).answers else 204
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.answers, _Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


def test_signature_over_timestamp_and_body():
    body = b'{"a":1}'
    signature = webhooks.sign("s3cret", 1700000000, body)
    assert signature.startswith("v1=") and len(signature) == 67
    assert webhooks.verify("s3cret", "1700000000", body, signature, now=1700000010)
    assert not webhooks.verify("s3cret", "1700000000", body + b" ", signature, now=1700000010)
    assert not webhooks.verify("other", "1700000000", body, signature, now=1700000010)
    assert not webhooks.verify("s3cret", "1700000001", body, signature, now=1700000010)
    assert not webhooks.verify("s3cret", "1700000000", body, signature, now=1700000000 + 3600)  # replayed later


def test_change_writes_the_outbox_and_a_signed_delivery_is_retried_with_backoff(app, client, world, receiver):
    url, handler = receiver
    h = bearer(client, world["cid"], world["secret"])
    secret = _write(client, "/api/v1/webhooks", {"url": url, "events": ["case.changed"]}, h, "sub").get_json()["secret"]
    handler.answers = [500]  # the first attempt fails
    _write(client, f"/api/v1/cases/{world['mine']}/status", {"status": "in_review"}, h, "rev")
    with app.app_context():
        event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.type == "case.changed"))
        assert event.payload["case"] == world["mine"] and event.payload["status"] == "in_review"
        counts = webhooks.deliver_due(db.new_session)
        assert counts["failed"] == 1
        delivery = db.session.scalar(select(WebhookDelivery))
        db.session.refresh(delivery)
        assert delivery.status == "failed" and delivery.attempts == 1 and delivery.last_error == "HTTP 500"
        assert webhooks.deliver_due(db.new_session) == {"delivered": 0, "failed": 0, "dead": 0}  # not due yet
        later = delivery.next_attempt_at + webhooks.LEASE
        assert webhooks.deliver_due(db.new_session, now=later)["delivered"] == 1
        db.session.refresh(delivery)
        assert delivery.status == "delivered"
        attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.number)).all()
        assert [(a.number, a.response_status) for a in attempts] == [(1, 500), (2, 204)]
    headers, body = handler.received[-1]
    assert webhooks.verify(secret, headers["X-eSocial-Timestamp"], body, headers["X-eSocial-Signature"])
    payload = json.loads(body)
    assert payload["type"] == "case.changed" and payload["data"]["case"] == world["mine"]
    assert handler.received[0][1] == body  # the same event body on every attempt


def test_backoff_grows_and_gives_up():
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert webhooks.backoff(30) == webhooks.BACKOFF_MAX


def test_dead_after_the_last_attempt_and_the_administrator_sees_it(app, client, world, receiver, login):
    url, handler = receiver
    h = bearer(client, world["cid"], world["secret"])
    _write(client, "/api/v1/webhooks", {"url": url}, h, "sub")
    handler.answers = [503] * 20
    _write(client, f"/api/v1/cases/{world['mine']}/status", {"status": "in_review"}, h, "rev")
    with app.app_context():
        from portal.core import clock

        now = clock.now()
        for _ in range(webhooks.MAX_ATTEMPTS):
            webhooks.deliver_due(db.new_session, now=now)
            now += webhooks.BACKOFF_MAX + webhooks.LEASE
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.status == "dead" and delivery.attempts == webhooks.MAX_ATTEMPTS
        admin = staff(db.session, "Ana", "Admin", ("agency_admin", world["agency"]))
        outsider = staff(db.session, "Oleg", "Admin", ("agency_admin", world["other_agency"]))
        db.session.commit()
        delivery_id = delivery.id
    browser = app.test_client()
    login(browser, admin)
    page = browser.get("/backoffice/integration/").get_data(as_text=True)
    assert f"dlv_{delivery_id}" in page and "HTTP 503" in page and page.count("<li>") >= webhooks.MAX_ATTEMPTS
    other_browser = app.test_client()
    login(other_browser, outsider)
    assert f"dlv_{delivery_id}" not in other_browser.get("/backoffice/integration/").get_data(as_text=True)


def test_the_demo_has_a_client_per_agency_with_its_documented_secret(app, client):
    from devstack import demo
    from portal.routing.reference import territory

    with app.app_context():
        assert demo.seed_api_clients(db.session) == len(territory().agencies)
        assert demo.seed_api_clients(db.session) == 0  # idempotent
        db.session.commit()
    t = token(client, "demo-atas-centru", demo.demo_api_secret("ATAS-CENTRU"))
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {t}"}).status_code == 200


def test_operators_rotate_secrets_from_the_command_line(app, client, world):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["api-clients", "create", "sys-cli", world["agency"], "--name", "CLI system"])
    assert made.exit_code == 0, made.output
    cid, first = made.output.split()
    added = runner.invoke(args=["api-clients", "add-secret", cid, "--label", "2027"])
    secret_id, second = added.output.removeprefix("secret ").split(": ")
    assert token(client, cid, first) and token(client, cid, second.strip())
    first_id = int(secret_id) - 1
    assert runner.invoke(args=["api-clients", "revoke-secret", cid, str(first_id)]).exit_code == 0
    refused = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                       "client_secret": first})
    assert refused.status_code == 401 and token(client, cid, second.strip())
    assert f"{cid}\t{world['agency']}\tactive secrets: {secret_id}" in runner.invoke(args=["api-clients", "list"]).output
