"""The notifications' periodic sweeps (see :mod:`portal.jobs`)."""
from __future__ import annotations

from portal.jobs import periodic
from portal.notifications import reminders

REMINDERS_EVERY_SECONDS = 300.0


@periodic("notifications.reminders", every=REMINDERS_EVERY_SECONDS)
def send_reminders(app):
    """Requests for information left unanswered, decision deadlines near or passed, benefits to renew."""
    return reminders.run(app.config["ESOCIAL"])
