"""Managing an agency's client systems and webhook subscriptions: what the agency administrator does in the
portal (``portal/api/admin.py``) and the operators' command line. Services: they take the session and the
person acting, record an audit event for every change, and never commit.

Secrets are made here and returned once; only their SHA-256 is kept (the webhook signing secret excepted: it
must be usable to sign, so it is kept as is and shown only when the subscription is made). No secret is ever
written into the audit trail.
"""
from __future__ import annotations

import re
import secrets as pysecrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.accounts import roles
from portal.accounts.models import Account
from portal.api import auth, webhooks
from portal.api.models import ApiClient, ApiClientSecret, WebhookSubscription
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError

CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


def _actor_idnp(actor: Account | None) -> str | None:
    return actor.idnp if actor is not None else None


def create(session: Session, actor: Account | None, *, agency_code: str, client_id: str,
           name: str) -> tuple[ApiClient, str]:
    """A new client system of ``agency_code`` with its first secret (returned once, kept only as a hash)."""
    client_id = (client_id or "").strip().lower()
    if not CLIENT_ID.match(client_id):
        raise DomainError(_l("The client identifier must be 3 to 64 lower-case letters, digits or hyphens, "
                             "starting with a letter or digit."))
    if session.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)) is not None:
        raise DomainError(_l("A client system with this identifier already exists."))
    name = (name or "").strip()[:200] or client_id
    client, secret = auth.create_client(session, client_id=client_id, name=name, agency_code=agency_code,
                                        granted_by=_actor_idnp(actor))
    audit.record(session, "api_client_created", actor_idnp=_actor_idnp(actor), object_type="api_client",
                 object_id=client.client_id, agency=agency_code, name=name, secret_id=client.secrets[0].id)
    return client, secret


def add_secret(session: Session, actor: Account | None, client: ApiClient, *,
               label: str = "") -> tuple[ApiClientSecret, str]:
    """Another active secret: the first step of a rotation (the old one keeps working until it is revoked)."""
    if not client.active:
        raise DomainError(_l("This client system has been revoked."))
    secret = auth.new_secret()
    row = auth.add_secret(session, client, secret, label=(label or "").strip()[:100])
    audit.record(session, "api_client_secret_added", actor_idnp=_actor_idnp(actor), object_type="api_client",
                 object_id=client.client_id, agency=client.agency_code, secret_id=row.id, label=row.label)
    return row, secret


def active_secrets(client: ApiClient) -> list[ApiClientSecret]:
    now = clock.now()
    return [r for r in client.secrets if r.revoked_at is None and (r.expires_at is None or r.expires_at > now)]


def revoke_secret(session: Session, actor: Account | None, client: ApiClient, row: ApiClientSecret) -> None:
    """The last step of a rotation: tokens issued for this secret stop at once. The last active secret cannot be
    revoked this way (the system would stop without anyone meaning it to): revoke the client instead."""
    if row.client_pk != client.id:
        raise DomainError(_l("This secret belongs to another client system."))
    if row.revoked_at is not None:
        return
    if [r.id for r in active_secrets(client)] == [row.id]:
        raise DomainError(_l("This is the client's only active secret: add a new secret first, or revoke the "
                             "client system."))
    auth.revoke_secret(session, row)
    audit.record(session, "api_client_secret_revoked", actor_idnp=_actor_idnp(actor), object_type="api_client",
                 object_id=client.client_id, agency=client.agency_code, secret_id=row.id)


def revoke_client(session: Session, actor: Account | None, client: ApiClient) -> None:
    """The system loses access at once: every secret (so every token), its service account's role and its webhook
    subscriptions end. The client and its history stay, for the access log and the audit trail."""
    if not client.active:
        return
    now = clock.now()
    client.active = False
    for row in client.secrets:
        if row.revoked_at is None:
            row.revoked_at = now
    roles.revoke_all(session, _actor_idnp(actor), client.account.idnp)
    ended = session.execute(update(WebhookSubscription).where(WebhookSubscription.client_pk == client.id,
                                                              WebhookSubscription.active.is_(True))
                            .values(active=False).execution_options(synchronize_session=False)).rowcount
    session.flush()
    audit.record(session, "api_client_revoked", actor_idnp=_actor_idnp(actor), object_type="api_client",
                 object_id=client.client_id, agency=client.agency_code, subscriptions_ended=ended)


def check_webhook_url(url: str, *, production: bool) -> str:
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) < 10 or len(url) > 500 or any(c.isspace() for c in url):
        raise DomainError(_l("The address must be an http or https address of at most 500 characters."))
    if url.startswith("http://") and production:  # signed, but not secret in transit
        raise DomainError(_l("The address must be an https address."))
    return url


def check_events(events) -> list[str]:
    if (not isinstance(events, list) or not events or any(e not in webhooks.EVENT_TYPES for e in events)
            or len(set(events)) != len(events)):
        raise DomainError(_l("Choose at least one of the events: %(events)s."), events=", ".join(webhooks.EVENT_TYPES))
    return list(events)


def subscribe(session: Session, actor: Account | None, client: ApiClient, *, url: str, events: list[str],
              production: bool) -> WebhookSubscription:
    """A webhook subscription for ``client``'s agency; its signing secret is on the returned row (show it once)."""
    if not client.active:
        raise DomainError(_l("This client system has been revoked."))
    url = check_webhook_url(url, production=production)
    events = check_events(events)
    sub = WebhookSubscription(ref=pysecrets.token_urlsafe(12), client_pk=client.id, agency_code=client.agency_code,
                              url=url, events=events, secret=webhooks.new_secret(), active=True,
                              created_at=clock.now())
    session.add(sub)
    session.flush()
    audit.record(session, "webhook_subscribed", actor_idnp=_actor_idnp(actor), object_type="webhook_subscription",
                 object_id=sub.ref, client=client.client_id, agency=client.agency_code, url=url, events=events)
    return sub


def unsubscribe(session: Session, actor: Account | None, sub: WebhookSubscription) -> None:
    """No new deliveries; pending ones end as ``dead`` with "subscription ended" at their next attempt."""
    if not sub.active:
        return
    sub.active = False
    session.flush()
    audit.record(session, "webhook_unsubscribed", actor_idnp=_actor_idnp(actor), object_type="webhook_subscription",
                 object_id=sub.ref, client=sub.client.client_id, agency=sub.agency_code)
