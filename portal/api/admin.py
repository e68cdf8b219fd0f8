"""The agency administrator's pages: the agency's API client systems (created, secrets rotated without downtime,
revoked), its webhook subscriptions and every delivery attempt. An administrator sees and changes only the
agencies they administer; another agency's client or subscription answers 404, like one that does not exist.
A new secret is shown once, on the answer to the request that made it, and never again."""
from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api import clients as client_service
from portal.api import webhooks
from portal.api.forms import NewClientForm, SecretForm, SubscriptionForm
from portal.api.models import ApiClient, WebhookDelivery, WebhookSubscription
from portal.citizen.forms import EmptyForm
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import staff
from portal.routing.reference import territory

bp = Blueprint("api_admin", __name__, url_prefix="/backoffice/integration", cli_group="api-clients")
ROLE = "agency_admin"


def _agencies() -> set[str]:
    return current_user.agencies_for(ROLE)


def _agency_names() -> dict[str, str]:
    lang = str(get_locale() or "ro")
    return {code: a.name_in(lang) for code, a in territory().agencies.items()}


def _new_client_form() -> NewClientForm:
    form = NewClientForm()
    names = _agency_names()
    form.agency.choices = sorted(((code, names.get(code, code)) for code in _agencies()), key=lambda kv: kv[1])
    return form


def _client(client_id: str) -> ApiClient:
    client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)
                               .options(selectinload(ApiClient.secrets)))
    if client is None or client.agency_code not in _agencies():
        abort(404)
    return client


def _secret_page(*, kind: str, client: ApiClient, secret: str, subscription: WebhookSubscription | None = None):
    """The only time a secret is shown: the answer to the request that made it (never stored by the browser)."""
    return render_template("api/secret.html", kind=kind, client=client, secret=secret, subscription=subscription,
                           agency_names=_agency_names())


@bp.get("/")
@staff(ROLE)
def overview():
    return _overview()


def _overview(new_client_form: NewClientForm | None = None, status: int = 200):
    agencies = _agencies()
    clients = list(db.session.scalars(select(ApiClient).where(ApiClient.agency_code.in_(agencies))
                                      .options(selectinload(ApiClient.secrets)).order_by(ApiClient.client_id)))
    subs = list(db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.agency_code.in_(agencies))
                                   .options(selectinload(WebhookSubscription.client))
                                   .order_by(WebhookSubscription.id)))
    deliveries = list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.agency_code.in_(agencies))
        .options(selectinload(WebhookDelivery.attempt_rows), selectinload(WebhookDelivery.event),
                 selectinload(WebhookDelivery.subscription))
        .order_by(WebhookDelivery.id.desc()).limit(100)))
    return render_template("api/admin.html", clients=clients, subs=subs, deliveries=deliveries, form=EmptyForm(),
                           new_client_form=new_client_form or _new_client_form(), agency_names=_agency_names(),
                           active_secrets=client_service.active_secrets), status


@bp.post("/clients")
@staff(ROLE)
def create_client():
    form = _new_client_form()
    if form.validate_on_submit():
        try:
            client, secret = client_service.create(db.session, current_user, agency_code=form.agency.data,
                                                   client_id=form.client_id.data, name=form.name.data)
        except DomainError as e:
            form.client_id.errors = list(form.client_id.errors) + [str(e)]
        else:
            return _secret_page(kind="client", client=client, secret=secret)
    return _overview(new_client_form=form, status=400)


def _client_page(client: ApiClient, *, secret_form=None, subscription_form=None, status: int = 200):
    subs = list(db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.client_pk == client.id)
                                   .order_by(WebhookSubscription.id)))
    return render_template("api/client.html", client=client, subs=subs, form=EmptyForm(),
                           secret_form=secret_form or SecretForm(formdata=None),
                           subscription_form=subscription_form or SubscriptionForm(formdata=None),
                           active=client_service.active_secrets(client), agency_names=_agency_names()), status


@bp.get("/clients/<client_id>")
@staff(ROLE)
def client_page(client_id: str):
    return _client_page(_client(client_id))


@bp.post("/clients/<client_id>/secrets")
@staff(ROLE)
def add_secret(client_id: str):
    client = _client(client_id)
    form = SecretForm()
    if form.validate_on_submit():
        try:
            _row, secret = client_service.add_secret(db.session, current_user, client, label=form.label.data or "")
        except DomainError as e:
            form.label.errors = list(form.label.errors) + [str(e)]
        else:
            return _secret_page(kind="secret", client=client, secret=secret)
    return _client_page(client, secret_form=form, status=400)


@bp.post("/clients/<client_id>/secrets/<int:secret_id>/revoke")
@staff(ROLE)
def revoke_secret(client_id: str, secret_id: int):
    client = _client(client_id)
    row = next((r for r in client.secrets if r.id == secret_id), None)
    if row is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            client_service.revoke_secret(db.session, current_user, client, row)
        except DomainError as e:
            flash(str(e), "error")
        else:
            flash(_l("The secret is revoked: tokens issued for it no longer work."), "success")
    return redirect(url_for("api_admin.client_page", client_id=client.client_id), code=303)


@bp.post("/clients/<client_id>/revoke")
@staff(ROLE)
def revoke_client(client_id: str):
    client = _client(client_id)
    if EmptyForm().validate_on_submit():
        client_service.revoke_client(db.session, current_user, client)
        flash(_l("The client system is revoked: its secrets, tokens and webhook subscriptions no longer work."),
              "success")
    return redirect(url_for("api_admin.client_page", client_id=client.client_id), code=303)


@bp.post("/clients/<client_id>/webhooks")
@staff(ROLE)
def subscribe(client_id: str):
    client = _client(client_id)
    form = SubscriptionForm()
    if form.validate_on_submit():
        try:
            sub = client_service.subscribe(db.session, current_user, client, url=form.url.data,
                                           events=list(form.events.data),
                                           production=current_app.config["ESOCIAL"].is_production)
        except DomainError as e:
            form.url.errors = list(form.url.errors) + [str(e)]
        else:
            return _secret_page(kind="webhook", client=client, secret=sub.secret, subscription=sub)
    return _client_page(client, subscription_form=form, status=400)


@bp.post("/webhooks/<ref>/end")
@staff(ROLE)
def unsubscribe(ref: str):
    sub = db.session.scalar(select(WebhookSubscription).where(WebhookSubscription.ref == ref))
    if sub is None or sub.agency_code not in _agencies():
        abort(404)
    if EmptyForm().validate_on_submit():
        client_service.unsubscribe(db.session, current_user, sub)
        flash(_l("The subscription has ended: no more events are sent to this address."), "success")
    return redirect(url_for("api_admin.client_page", client_id=sub.client.client_id), code=303)


@bp.post("/deliveries/<int:delivery_id>/retry")
@staff(ROLE)
def retry(delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.agency_code not in _agencies():
        abort(404)
    if EmptyForm().validate_on_submit():
        webhooks.retry(db.session, delivery)
        flash(_l("The delivery will be tried again in a moment."), "success")
    return redirect(url_for("api_admin.overview"), code=303)


# --- operators: ``flask --app wsgi api-clients create|add-secret|revoke-secret|revoke|list`` ----------------------
# The same services as the pages above (audited, with no person as the actor).

def _cli_client(client_id: str) -> ApiClient:
    client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise click.ClickException(f"no client {client_id}")
    return client


@bp.cli.command("create")
@click.argument("client_id")
@click.argument("agency")
@click.option("--name", default="", help="What the system is called")
def cli_create(client_id: str, agency: str, name: str):
    """A client system for AGENCY; prints its first secret (shown once)."""
    if agency not in territory().agencies:
        raise click.ClickException(f"no agency {agency}")
    try:
        with db.session.begin():
            client, secret = client_service.create(db.session, None, agency_code=agency, client_id=client_id,
                                                   name=name or client_id)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{client.client_id} {secret}")


@bp.cli.command("add-secret")
@click.argument("client_id")
@click.option("--label", default="")
def cli_add_secret(client_id: str, label: str):
    """Another active secret for CLIENT_ID (rotation: switch the system to it, then revoke the old one)."""
    try:
        with db.session.begin():
            row, secret = client_service.add_secret(db.session, None, _cli_client(client_id), label=label)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"secret {row.id}: {secret}")


@bp.cli.command("revoke-secret")
@click.argument("client_id")
@click.argument("secret_id", type=int)
def cli_revoke_secret(client_id: str, secret_id: int):
    """Revoke one secret; tokens issued for it stop working at once."""
    try:
        with db.session.begin():
            client = _cli_client(client_id)
            row = next((r for r in client.secrets if r.id == secret_id), None)
            if row is None:
                raise click.ClickException("no such secret")
            client_service.revoke_secret(db.session, None, client, row)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"revoked secret {secret_id} of {client_id}")


@bp.cli.command("revoke")
@click.argument("client_id")
def cli_revoke(client_id: str):
    """Revoke a client system: its secrets, tokens, role and webhook subscriptions end at once."""
    with db.session.begin():
        client_service.revoke_client(db.session, None, _cli_client(client_id))
    click.echo(f"revoked {client_id}")


@bp.cli.command("list")
def cli_list():
    for client in db.session.scalars(select(ApiClient).order_by(ApiClient.client_id)):
        active = [str(r.id) for r in client.secrets if r.revoked_at is None]
        state = "" if client.active else "\trevoked"
        click.echo(f"{client.client_id}\t{client.agency_code}\tactive secrets: {', '.join(active) or '-'}{state}")
