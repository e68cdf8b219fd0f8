"""The agency administrator's page: the agency's API clients, webhook subscriptions and every delivery attempt."""
from __future__ import annotations

import click
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api import webhooks
from portal.api.models import ApiClient, WebhookDelivery, WebhookSubscription
from portal.citizen.forms import EmptyForm
from portal.core.db import db
from portal.core.security import staff

bp = Blueprint("api_admin", __name__, url_prefix="/backoffice/integration", cli_group="api-clients")


def _agencies() -> set[str]:
    return current_user.agencies_for("agency_admin")


@bp.get("/")
@staff("agency_admin")
def overview():
    agencies = _agencies()
    clients = list(db.session.scalars(select(ApiClient).where(ApiClient.agency_code.in_(agencies))
                                      .options(selectinload(ApiClient.secrets)).order_by(ApiClient.client_id)))
    subs = list(db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.agency_code.in_(agencies))
                                   .order_by(WebhookSubscription.id)))
    deliveries = list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.agency_code.in_(agencies))
        .options(selectinload(WebhookDelivery.attempt_rows), selectinload(WebhookDelivery.event),
                 selectinload(WebhookDelivery.subscription))
        .order_by(WebhookDelivery.id.desc()).limit(100)))
    return render_template("api/admin.html", clients=clients, subs=subs, deliveries=deliveries, form=EmptyForm())


@bp.post("/deliveries/<int:delivery_id>/retry")
@staff("agency_admin")
def retry(delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.agency_code not in _agencies():
        abort(404)
    if EmptyForm().validate_on_submit():
        webhooks.retry(db.session, delivery)
        flash(_l("The delivery will be tried again in a moment."), "success")
    return redirect(url_for("api_admin.overview"), code=303)


# --- operators: ``flask --app wsgi api-clients create|add-secret|revoke-secret|list`` -----------------------------

@bp.cli.command("create")
@click.argument("client_id")
@click.argument("agency")
@click.option("--name", default="", help="What the system is called")
def cli_create(client_id: str, agency: str, name: str):
    """A client system for AGENCY; prints its first secret (shown once)."""
    from portal.api import auth

    with db.session.begin():
        _client, secret = auth.create_client(db.session, client_id=client_id, name=name or client_id,
                                             agency_code=agency, granted_by="cli")
    click.echo(f"{client_id} {secret}")


@bp.cli.command("add-secret")
@click.argument("client_id")
@click.option("--label", default="")
def cli_add_secret(client_id: str, label: str):
    """Another active secret for CLIENT_ID (rotation: switch the system to it, then revoke the old one)."""
    from portal.api import auth

    with db.session.begin():
        client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        if client is None:
            raise click.ClickException(f"no client {client_id}")
        secret = auth.new_secret()
        row = auth.add_secret(db.session, client, secret, label=label)
    click.echo(f"secret {row.id}: {secret}")


@bp.cli.command("revoke-secret")
@click.argument("client_id")
@click.argument("secret_id", type=int)
def cli_revoke_secret(client_id: str, secret_id: int):
    """Revoke one secret; tokens issued for it stop working at once."""
    from portal.api import auth

    with db.session.begin():
        client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        row = next((r for r in (client.secrets if client else []) if r.id == secret_id), None)
        if row is None:
            raise click.ClickException("no such secret")
        auth.revoke_secret(db.session, row)
    click.echo(f"revoked secret {secret_id} of {client_id}")


@bp.cli.command("list")
def cli_list():
    for client in db.session.scalars(select(ApiClient).order_by(ApiClient.client_id)):
        active = [str(r.id) for r in client.secrets if r.revoked_at is None]
        click.echo(f"{client.client_id}\t{client.agency_code}\tactive secrets: {', '.join(active) or '-'}")
