"""The agency administrator's page: the agency's API clients, webhook subscriptions and every delivery attempt."""
from __future__ import annotations

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

bp = Blueprint("api_admin", __name__, url_prefix="/backoffice/integration")


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
