"""Client credentials and bearer tokens for the integration API.

A client system authenticates with its ``client_id`` and one of its secrets (OAuth2 client credentials) and gets
a bearer token valid for :data:`TOKEN_SECONDS`, signed with the portal's secret key (HMAC, itsdangerous).  The
token names the secret it was issued for, so revoking a secret ends its tokens at once.  Secrets are 256 random
bits kept only as their SHA-256; a client may hold several active secrets, so rotation needs no downtime.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets as pysecrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import roles
from portal.accounts.models import Account
from portal.api.models import ApiClient, ApiClientSecret
from portal.core import clock

TOKEN_SECONDS = 900
TOKEN_SALT = "esocial-api-token-v1"
# The role the client's service account holds in its agency: the back office's rules then apply unchanged.
SERVICE_ROLE = "case_worker"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return pysecrets.token_urlsafe(32)


def create_client(session: Session, *, client_id: str, name: str, agency_code: str, secret: str | None = None,
                  granted_by: str | None = None) -> tuple[ApiClient, str]:
    """A client system for ``agency_code`` with its service account and a first secret (returned once)."""
    account = Account(idnp="api" + pysecrets.token_hex(5), first_name=name[:100], last_name="(API)",
                      language="ro", notify_email=False, notify_sms=False)
    session.add(account)
    session.flush()
    roles.grant(session, granted_by, idnp=account.idnp, role=SERVICE_ROLE, scope=agency_code, check_idnp=False)
    client = ApiClient(client_id=client_id, name=name, agency_code=agency_code, account=account)
    session.add(client)
    session.flush()
    secret = secret or new_secret()
    add_secret(session, client, secret, label="initial")
    return client, secret


def add_secret(session: Session, client: ApiClient, secret: str, *, label: str = "",
               expires_at: dt.datetime | None = None) -> ApiClientSecret:
    row = ApiClientSecret(client=client, secret_hash=hash_secret(secret), label=label, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def revoke_secret(session: Session, row: ApiClientSecret) -> None:
    row.revoked_at = clock.now()
    session.flush()


def _usable(row: ApiClientSecret, now: dt.datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def check_credentials(session: Session, client_id: str, secret: str) -> tuple[ApiClient, ApiClientSecret] | None:
    """The client and the matching active secret, or ``None`` (same answer for unknown client and wrong secret)."""
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == (client_id or "")[:64]))
    digest = hash_secret(secret or "")
    if client is None or not client.active:
        return None
    now = clock.now()
    for row in client.secrets:
        if _usable(row, now) and hmac.compare_digest(row.secret_hash, digest):
            row.last_used_at = now
            return client, row
    return None


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def issue_token(secret_key: str, client: ApiClient, secret_row: ApiClientSecret) -> str:
    return _serializer(secret_key).dumps({"cid": client.client_id, "sid": secret_row.id})


def client_of_token(secret_key: str, token: str) -> str | None:
    try:
        data = _serializer(secret_key).loads(token, max_age=TOKEN_SECONDS)
    except (BadSignature, SignatureExpired):
        return None
    return str(data.get("cid")) if isinstance(data, dict) else None


@dataclass
class Caller:
    client: ApiClient
    account: Account

    @property
    def agency(self) -> str:
        return self.client.agency_code


def verify_token(session: Session, secret_key: str, token: str, *, max_age: int = TOKEN_SECONDS) -> Caller | None:
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == str(data.get("cid", ""))))
    if client is None or not client.active:
        return None
    row = next((s for s in client.secrets if s.id == data.get("sid")), None)
    if row is None or not _usable(row, clock.now()):
        return None
    return Caller(client, client.account)
