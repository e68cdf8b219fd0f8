"""The retention purge as a periodic sweep (portal.jobs)."""
from __future__ import annotations

from portal.core.db import db
from portal.jobs import periodic
from portal.privacy import retention


@periodic("privacy.retention", every=3600)
def purge_expired_records(app):
    return retention.purge(db.new_session, app.config["ESOCIAL"])
