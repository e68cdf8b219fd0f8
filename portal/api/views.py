"""``/api/v1``: the integration API. Token-authenticated JSON (no cookies, so no CSRF); each view is thin:
validate the body → the same service function the back office calls → the case as JSON."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json

from flask import Blueprint, current_app, g, jsonify, make_response, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal import csrf
from portal.api import auth, cases, clients, webhooks
from portal.api.models import ApiAccessLog, ApiIdempotency, WebhookSubscription
from portal.api.openapi import document as openapi_document
from portal.applications import services as app_services
from portal.applications import status as st
from portal.audit import services as audit
from portal.backoffice import cases as case_service
from portal.core import clock, limits
from portal.core.db import db
from portal.core.errors import DomainError, InvalidTransition, NotAllowed
from portal.core.security import api_client, public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

UNAUTHENTICATED = {"api.token", "api.openapi", "api.docs"}


def _limit_key() -> str:
    """The client a bearer token was signed for (checked by signature only: the view still authenticates)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        client_id = auth.client_of_token(current_app.config["SECRET_KEY"], header[7:].strip())
        if client_id:
            return "client:" + client_id
    return "addr:" + (request.remote_addr or "")


_limit = limits.api(key=_limit_key)


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def _error(status: int, error: str, message: str, **headers):
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.errorhandler(ApiError)
def _api_error(e: ApiError):
    return _error(e.status, e.error, e.message)


@bp.errorhandler(InvalidTransition)
def _transition(e):
    return _error(409, "invalid_transition", str(e))


@bp.errorhandler(NotAllowed)
def _not_allowed(e):
    return _error(403, "not_allowed", str(e))


@bp.errorhandler(DomainError)
def _domain(e):
    return _error(422, "rejected", str(e))


@bp.errorhandler(429)
def _too_many(e):
    """The OpenAPI document promises JSON here too (the site's own 429 handler answers with a page)."""
    retry_after = getattr(e, "retry_after", None)
    return _error(429, "too_many_requests", "Too many requests from this client; wait, then try again.",
                  **({"Retry-After": str(retry_after)} if retry_after else {}))


@bp.errorhandler(HTTPException)
def _http(e: HTTPException):
    headers = {"WWW-Authenticate": 'Bearer realm="esocial"'} if e.code == 401 else {}
    return _error(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or "", **headers)


@bp.before_request
def _authenticate():
    g.api_client = None
    if request.endpoint in UNAUTHENTICATED:
        return None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        g.api_client = auth.verify_token(db.session, current_app.config["SECRET_KEY"], header[7:].strip())
    return None


@bp.after_request
def _status(response):
    g.api_status = response.status_code
    return response


@bp.teardown_request
def _log(exc):
    """Every call, with the client's identity, in its own transaction after the request's own commit or rollback
    (so refused calls are logged too)."""
    caller = g.get("api_client")
    s = db.new_session()
    try:
        s.add(ApiAccessLog(client_id=caller.client.client_id if caller else None,
                           agency_code=caller.agency if caller else None, method=request.method,
                           path=request.full_path.rstrip("?")[:500],
                           status=500 if exc is not None else g.get("api_status", 500),
                           correlation_id=request.headers.get("X-Correlation-ID", "")[:64] or None,
                           source_ip=(request.remote_addr or "")[:64] or None))
        s.commit()
    except Exception:  # noqa: BLE001 - the log must never turn an answer into an error
        s.rollback()
        import logging

        logging.getLogger("esocial.api").exception("could not write the API access log")
    finally:
        s.close()


def _caller() -> auth.Caller:
    return g.api_client


# --- idempotency -----------------------------------------------------------------------------------------------

def idempotent(view):
    """Every write takes an ``Idempotency-Key``: the first answer (if it succeeded) is kept and returned to a
    retry with the same key and body; the same key with another body is a 409. A failed call keeps nothing."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            raise ApiError(400, "idempotency_key_required", "Send an Idempotency-Key header (at most 200 characters).")
        caller = _caller()
        digest = hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(),
                                            request.get_data() or b""])).hexdigest()
        row = db.session.scalar(select(ApiIdempotency).where(ApiIdempotency.client_pk == caller.client.id,
                                                             ApiIdempotency.key == key))
        if row is not None:
            if row.request_hash != digest:
                raise ApiError(409, "idempotency_key_reused", "This Idempotency-Key was used with another request.")
            if row.status_code is None:
                raise ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress.")
            response = make_response(jsonify(row.response), row.status_code)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        row = ApiIdempotency(client_pk=caller.client.id, key=key, request_hash=digest)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress.")
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400 and response.is_json:
            row.status_code = response.status_code
            row.response = response.get_json()
        return response

    return wrapper


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "Send a JSON object.")
    return data


def _string(data: dict, name: str, *, required: bool = False, max_length: int = 4000) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(400, "invalid_body", f"'{name}' is required.")
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ApiError(400, "invalid_body", f"'{name}' must be a string of at most {max_length} characters.")
    return value


# --- token, document, docs ---------------------------------------------------------------------------------------

@bp.post("/oauth/token")
@public
@_limit
def token():
    """OAuth2 client credentials (RFC 6749 §4.4): client_id and client_secret in the body or HTTP Basic."""
    if request.form.get("grant_type") != "client_credentials":
        return jsonify({"error": "unsupported_grant_type"}), 400
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    basic = request.headers.get("Authorization", "")
    if basic[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id = secret = None
    found = auth.check_credentials(db.session, client_id or "", secret or "")
    if found is None:
        return jsonify({"error": "invalid_client"}), 401
    client, row = found
    response = jsonify({"access_token": auth.issue_token(current_app.config["SECRET_KEY"], client, row),
                        "token_type": "Bearer", "expires_in": auth.TOKEN_SECONDS})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(request.host_url))


@bp.get("/docs")
@public
def docs():
    return render_template("api/docs.html", spec=openapi_document(request.host_url))


# --- cases ---------------------------------------------------------------------------------------------------------

def _int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be an integer.") from None
    if not lo <= value <= hi:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be between {lo} and {hi}.")
    return value


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be a date (YYYY-MM-DD).") from None


def _enum_arg(name: str, allowed) -> str | None:
    raw = request.args.get(name) or None
    if raw is not None and raw not in allowed:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be one of {', '.join(allowed)}.")
    return raw


@bp.get("/cases")
@api_client
@_limit
def list_cases():
    from portal.api.openapi import CLAIM_STATUSES

    page = cases.list_cases(
        db.session, _caller().agency, status=_enum_arg("status", cases.CASE_STATUSES),
        claim_status=_enum_arg("claim_status", CLAIM_STATUSES), benefit=request.args.get("benefit") or None,
        submitted_from=_date_arg("submitted_from"), submitted_to=_date_arg("submitted_to"),
        changed_since=_int_arg("changed_since", None, 0, cases.MAX_CURSOR), page=_int_arg("page", 1, 1, 100000),
        per_page=_int_arg("per_page", 20, 1, cases.MAX_PER_PAGE))
    return jsonify({"items": [cases.case_json(c) for c in page.items], "total": page.total, "page": page.page,
                    "per_page": page.per_page, "cursor": page.cursor})


def _case(ref: str):
    case = cases.case_of_agency(db.session, _caller().agency, ref)
    if case is None:
        raise ApiError(404, "not_found", "No such case.")
    return case


def _detail(case) -> dict:
    return cases.case_json(case, full=True, document_url=lambda d: url_for(
        "api.document", ref=case.ref, doc_ref=d.ref, _external=True))


@bp.get("/cases/<ref>")
@api_client
@_limit
def get_case(ref: str):
    case = _case(ref)
    caller = _caller()
    audit.record(db.session, "case_viewed", actor_idnp=caller.account.idnp,
                 subject_idnp=case.application.applicant.idnp, object_type="case", object_id=case.ref,
                 agency=case.agency_code, purpose="api", api_client=caller.client.client_id)
    from portal.registries.services import record_reading  # the data-access log: every person shown

    record_reading(case.application, actor=caller.account, institution=case.agency_code,
                   benefits=[c.benefit_code for c in case.claims], reference=case.ref)
    return jsonify(_detail(case))


@bp.get("/cases/<ref>/documents/<doc_ref>")
@api_client
@_limit
def document(ref: str, doc_ref: str):
    case = _case(ref)
    doc = next((d for d in case.application.documents if d.ref == doc_ref), None)
    if doc is None or not case.claims:
        raise ApiError(404, "not_found", "No such document.")
    app_services.record_document_download(db.session, case.claims[0], doc, actor=_caller().account)
    from portal.core import vault  # decrypted in memory; stored encrypted

    return vault.serve(doc)


def _claim_of(case, ref: str | None):
    if ref is None:
        return None
    claim = next((c for c in case.claims if c.ref == ref), None)
    if claim is None:
        raise ApiError(404, "not_found", "No such claim in this case.")
    return claim


def _after(case):
    db.session.flush()
    db.session.refresh(case)
    db.session.expire(case, ["claims"])
    return jsonify(_detail(case))


def _decide(case, claim, data: dict, outcome: str, text: str | None):
    from decimal import Decimal, InvalidOperation

    from portal.decisions import services as decisions

    amount = _string(data, "amount", max_length=12)
    if amount is not None:
        try:
            amount = Decimal(amount)
        except InvalidOperation:
            raise ApiError(400, "invalid_body", "'amount' must be a number.") from None
    start = _string(data, "start_date", max_length=10)
    try:
        start = dt.date.fromisoformat(start) if start else None
    except ValueError:
        raise ApiError(400, "invalid_body", "'start_date' must be a date (YYYY-MM-DD).") from None
    period = _string(data, "period", max_length=16)
    st.check(claim.status, outcome, st.STAFF)
    decisions.decide(db.session, case, claim, actor=_caller().account, outcome=outcome, amount=amount,
                     period=period, start_date=start, reason_code=_string(data, "reason_code", max_length=64),
                     text=text or "")


def _request_information(case, claim, question: str | None):
    if not (question or "").strip():
        raise DomainError("Write what the applicant must tell or send you.")
    asked = [claim] if claim is not None else [c for c in case.claims if c.status in st.OPEN_FOR_AGENCY]
    if not asked:
        raise InvalidTransition("Nothing in this case waits for the agency.")
    for c in asked:
        st.check(c.status, st.INFO_REQUESTED, st.STAFF)
        app_services.request_information(db.session, c, actor=_caller().account, question=question)


@bp.post("/cases/<ref>/status")
@api_client
@_limit
@idempotent
def change_status(ref: str):
    case = _case(ref)
    data = _body()
    target = _string(data, "status", required=True, max_length=32)
    claim = _claim_of(case, _string(data, "claim", max_length=32))
    note = _string(data, "note")
    if target == st.IN_REVIEW:
        movable = [claim] if claim is not None else [c for c in case.claims if c.status in (st.SUBMITTED,
                                                                                           st.INFO_PROVIDED)]
        if not movable:
            raise InvalidTransition("Nothing in this case can go under review.")
        for c in movable:
            st.check(c.status, st.IN_REVIEW, st.STAFF)
            app_services.open_case(db.session, c, actor=_caller().account)
    elif target == st.INFO_REQUESTED:
        _request_information(case, claim, note)
    elif target in (st.APPROVED, st.REJECTED):
        if claim is None:
            raise ApiError(400, "invalid_body", "'claim' is required for a decision.")
        _decide(case, claim, data, target, note)
    else:
        raise ApiError(400, "invalid_body", "'status' must be in_review, info_requested, approved or rejected.")
    return _after(case)


@bp.post("/cases/<ref>/information-requests")
@api_client
@_limit
@idempotent
def request_information(ref: str):
    case = _case(ref)
    data = _body()
    _request_information(case, None, _string(data, "question", required=True))
    return _after(case)


@bp.post("/cases/<ref>/decisions")
@api_client
@_limit
@idempotent
def decide(ref: str):
    case = _case(ref)
    data = _body()
    claim = _claim_of(case, _string(data, "claim", required=True, max_length=32))
    outcome = _string(data, "outcome", required=True, max_length=16)
    if outcome not in (st.APPROVED, st.REJECTED):
        raise ApiError(400, "invalid_body", "'outcome' must be approved or rejected.")
    _decide(case, claim, data, outcome, _string(data, "reason"))
    return _after(case)


# --- webhooks --------------------------------------------------------------------------------------------------------

def _webhook_json(sub: WebhookSubscription) -> dict:
    return {"ref": sub.ref, "url": sub.url, "events": list(sub.events or []), "active": sub.active,
            "created_at": sub.created_at.isoformat() if sub.created_at else None}


@bp.get("/webhooks")
@api_client
@_limit
def list_webhooks():
    subs = db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.client_pk == _caller().client.id)
                              .order_by(WebhookSubscription.id))
    return jsonify({"items": [_webhook_json(s) for s in subs]})


@bp.post("/webhooks")
@api_client
@_limit
@idempotent
def subscribe():
    data = _body()
    url = _string(data, "url", required=True, max_length=500)
    if not url.startswith(("https://", "http://")) or len(url) < 10:
        raise ApiError(400, "invalid_body", "'url' must be an http(s) address.")
    if url.startswith("http://") and current_app.config["ESOCIAL"].is_production:
        raise ApiError(400, "invalid_body", "'url' must be an https address.")  # signed, but not secret in transit
    events = data.get("events", list(webhooks.EVENT_TYPES))
    if (not isinstance(events, list) or not events or any(e not in webhooks.EVENT_TYPES for e in events)
            or len(set(events)) != len(events)):
        raise ApiError(400, "invalid_body", "'events' must list some of: " + ", ".join(webhooks.EVENT_TYPES))
    caller = _caller()
    try:  # the same rules as the administrator's page; a refusal is a 400 here
        sub = clients.subscribe(db.session, caller.account, caller.client, url=url, events=list(events),
                                production=current_app.config["ESOCIAL"].is_production)
    except DomainError as e:
        raise ApiError(400, "invalid_body", str(e)) from None
    return jsonify({**_webhook_json(sub), "secret": sub.secret}), 201


@bp.delete("/webhooks/<ref>")
@api_client
@_limit
@idempotent
def unsubscribe(ref: str):
    sub = db.session.scalar(select(WebhookSubscription).where(WebhookSubscription.ref == ref,
                                                              WebhookSubscription.client_pk == _caller().client.id))
    if sub is None:
        raise ApiError(404, "not_found", "No such subscription.")
    clients.unsubscribe(db.session, _caller().account, sub)
    return jsonify(_webhook_json(sub))
