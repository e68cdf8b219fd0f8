"""Background work of the integration API: deliver webhooks, forget old idempotency records."""
from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import delete

from portal.api import webhooks
from portal.api.models import ApiIdempotency
from portal.core import clock
from portal.core.db import db
from portal.jobs import periodic

IDEMPOTENCY_DAYS = 7


@periodic("api.webhooks", every=2.0)
def deliver_webhooks(app: Flask):
    return webhooks.deliver_due(db.new_session)


@periodic("api.idempotency_purge", every=3600.0)
def purge_idempotency(app: Flask):
    s = db.new_session()
    try:
        n = s.execute(delete(ApiIdempotency).where(
            ApiIdempotency.created_at < clock.now() - dt.timedelta(days=IDEMPOTENCY_DAYS))).rowcount
        s.commit()
        return n
    finally:
        s.close()
