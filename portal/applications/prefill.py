"""Fetch what the registries hold for an application and keep it as evidence."""
from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import services
from portal.applications.models import Application
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
    purpose = purpose or registry_services.application_purpose(application, actor)
    household = evidence.get("household")
    known = household.payload if household is not None and household.status == "fetched" else None
    results = registry_prefill.prefill(client(), items, application.applicant.idnp, purpose,
                                       household=known if "household" not in items else None)
    services.store_prefill(session, application, results)
    registry_services.sync_subjects(session, application)
    return results
