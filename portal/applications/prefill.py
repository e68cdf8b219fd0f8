"""Fetch what the registries hold for an application and keep it as evidence.

While the citizen chooses the benefits, :func:`prepare` asks the population register who they are and
who lives with them, in the background: the members' registries can only be asked once the household
is known, so the prefill after the choice (:func:`refresh`) is left with one round of queries.
"""
from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from flask import current_app
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import services
from portal.applications.models import Application
from portal.registries import accesslog
from portal.registries import client as registry_client
from portal.registries import prefill as registry_prefill
from portal.registries import services as registry_services
from portal.registries.gateway import RegistryGateway

_lock = threading.Lock()


def client() -> RegistryGateway:
    """The registry gateway of this app: one connection pool, one circuit breaker per registry, one cache.

    ``app.extensions["esocial.registries"]`` holds the transport (made from the settings on first use;
    tests may put their own there); the gateway around it is made once per transport.
    """
    ext = current_app.extensions
    settings = current_app.config["ESOCIAL"]
    with _lock:
        transport = ext.get("esocial.registries")
        if transport is None:
            transport = ext["esocial.registries"] = registry_client.from_settings(settings)
        if isinstance(transport, RegistryGateway):
            return transport
        gateway = ext.get("esocial.registry_gateway")
        if gateway is None or gateway.transport is not transport:
            gateway = ext["esocial.registry_gateway"] = RegistryGateway.from_settings(transport, settings)
        return gateway


# --- asked ahead, while the citizen chooses ------------------------------------------------------------------------

_prepared_lock = threading.RLock()
_PREPARED = "esocial.prepared_prefill"


def _executor() -> ThreadPoolExecutor:
    ext = current_app.extensions
    with _prepared_lock:
        pool = ext.get("esocial.prepare_pool")
        if pool is None:
            pool = ext["esocial.prepare_pool"] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="prepare")
        return pool


def preparing_purpose(actor: Account, applicant: Account, benefits) -> registry_client.Purpose:
    """The purpose of the queries asked ahead: an application by ``applicant`` for one of ``benefits`` (those the
    citizen may choose), asked by the citizen, their representative or a CUPS specialist for them."""
    return registry_client.Purpose(
        purpose=registry_services.APPLICATION, legal_basis=registry_services.legal_basis_of(benefits),
        actor_idnp=actor.idnp,
        actor_role="citizen" if actor.idnp == applicant.idnp or not actor.is_staff else "official",
        on_behalf_of=applicant.idnp if actor.idnp != applicant.idnp else None)


def prepare(actor: Account, applicant: Account, benefits) -> Future | None:
    """Start asking the population register for the applicant's identity and household, in the background.

    Logged like every query (its own journal, written when the queries end) with the purpose of an
    application for one of ``benefits``; kept for :func:`refresh` for ``registry_cache_seconds`` in this
    process, for this actor and applicant.  Asked once while a previous answer is still fresh.
    """
    app = current_app._get_current_object()
    ttl = float(app.config["ESOCIAL"].registry_cache_seconds)
    if ttl <= 0:
        return None
    key = (actor.idnp, applicant.idnp)
    purpose = preparing_purpose(actor, applicant, benefits)
    gateway, idnp, source_ip = client(), applicant.idnp, accesslog.current().source_ip if accesslog.current() else None
    store = app.extensions.setdefault(_PREPARED, {})
    with _prepared_lock:
        now = time.monotonic()
        for k in [k for k, (expires, _, _) in store.items() if expires <= now]:
            del store[k]
        if key in store:
            return store[key][2]

        future: Future = Future()

        def run():
            # Its own journal, not the request's; the answers are handed over before the log is written (the
            # request waiting for them may hold the database's write lock the log's transaction needs).
            with app.app_context(), accesslog.journal(source_ip):
                try:
                    future.set_result(registry_prefill.prepare(gateway, idnp, purpose))
                except BaseException as exc:  # noqa: BLE001 - the prefill asks again itself
                    future.set_exception(exc)

        _executor().submit(contextvars.Context().run, run)
        store[key] = (now + ttl, purpose, future)
        return future


def _take_prepared(actor: Account, application: Application, items: dict[str, str]) -> dict:
    """The identity and household asked ahead for this actor and applicant, if any (waiting for them if they
    are still on their way); each use is logged for the application, like an answer from the cache."""
    if not any(item in items for item in registry_prefill.FIRST):
        return {}
    store = current_app.extensions.get(_PREPARED) or {}
    with _prepared_lock:
        entry = store.pop((actor.idnp, application.applicant.idnp), None)
    if entry is None or entry[0] <= time.monotonic():
        return {}
    _, asked_for, future = entry
    try:
        results = future.result(timeout=float(current_app.config["ESOCIAL"].registry_timeout_seconds) * 2)
    except Exception:  # noqa: BLE001 - asked again by the prefill itself
        return {}
    purpose = registry_services.application_purpose(application, actor)
    used = {}
    for item, result in results.items():
        if item not in items or not result.ok:
            continue
        used[item] = result
        accesslog.record(accesslog.AccessEntry(
            kind="query", actor_idnp=purpose.actor_idnp, actor_role=purpose.actor_role,
            on_behalf_of_idnp=purpose.on_behalf_of, institution=accesslog.ESOCIAL, registry_code=result.source,
            service=item, items=item, subject_idnp=application.applicant.idnp, purpose=purpose.purpose,
            legal_basis=purpose.legal_basis[:500], application_ref=application.ref,
            correlation_id=result.correlation_id, result="cached", attempts=0, duration_ms=0))
    return used


def refresh(session: Session, application: Application, *, actor: Account, only_missing: bool = False,
            items: dict[str, str] | None = None, purpose: registry_client.Purpose | None = None) -> dict:
    """Ask the registries for the data items the application needs; keep the answers as evidence.

    ``items`` (item → registry) defaults to everything the application's benefits need; with
    ``only_missing`` the items already fetched are left alone.  ``purpose`` defaults to the acting
    person's own (the citizen's, or an official's).  Returns the prefill's results per item.
    """
    items = dict(items if items is not None else services.catalogue().items_for(application.benefits))
    evidence = services.evidence_by_item(application)
    if only_missing:
        items = {item: reg for item, reg in items.items()
                 if item not in evidence or evidence[item].status != "fetched"}
    if not items:
        return {}
    ahead = _take_prepared(actor, application, items) if purpose is None else {}
    purpose = purpose or registry_services.application_purpose(application, actor)
    household = evidence.get("household")
    known = household.payload if household is not None and household.status == "fetched" else None
    results = registry_prefill.prefill(client(), items, application.applicant.idnp, purpose,
                                       household=known if "household" not in items else None, known=ahead)
    services.store_prefill(session, application, results)
    registry_services.sync_subjects(session, application)
    return results
