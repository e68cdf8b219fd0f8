"""Fetch what the registries hold for an application and keep it as evidence."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import services
from portal.applications.models import Application
from portal.registries import client as registry_client
from portal.registries import prefill as registry_prefill

LEGAL_BASIS = {
    "social_aid": "Legea nr. 133/2008",
    "cold_season_aid": "Legea nr. 133/2008",
    "birth_allowance": "Legea nr. 289/2004",
}


def client() -> registry_client.RegistryClient:
    """The registry client of this app (one connection pool per process)."""
    ext = current_app.extensions
    if "esocial.registries" not in ext:
        ext["esocial.registries"] = registry_client.from_settings(current_app.config["ESOCIAL"])
    return ext["esocial.registries"]


def refresh(session: Session, application: Application, *, actor: Account, only_missing: bool = False) -> None:
    """Ask the registries for the data items the application needs; keep the answers as evidence."""
    items = services.catalogue().items_for(application.benefits)
    if only_missing:
        have = {e.item for e in application.evidence if e.status == "fetched"}
        items = {item: reg for item, reg in items.items() if item not in have}
    if not items:
        return
    purpose = registry_client.Purpose(
        purpose="application",
        legal_basis="; ".join(sorted({LEGAL_BASIS.get(b, "") for b in application.benefits} - {""})),
        actor_idnp=actor.idnp,
        application_ref=application.ref,
    )
    results = registry_prefill.prefill(client(), items, application.applicant.idnp, purpose)
    services.store_prefill(session, application, results)
