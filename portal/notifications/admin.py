"""The dead-letter list: e-mails and SMS the worker gave up on, each attempt, and "retry" (system administrators)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, ngettext, pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core.db import db
from portal.core.i18n import lazy
from portal.core.idnp import mask
from portal.core.security import staff
from portal.notifications import delivery, queries
from portal.notifications.forms import RetryForm
from portal.notifications.models import Notification
from portal.notifications.services import render

log = logging.getLogger(__name__)

bp = Blueprint("notifications_admin", __name__, url_prefix="/admin/notifications")
ADMIN_ROLES = ("sysadmin",)

CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS"), "portal": _l("Portal")}
SENT = lazy(lambda: pgettext("a message handed to the mail relay or SMS gateway", "Sent"))
OUTCOME_LABELS = {"sent": SENT, "failed": _l("Failed, to be retried"), "dead": _l("Given up"),
                  "interrupted": _l("Interrupted"), None: _l("In progress")}
STATUS_LABELS = {"pending": _l("Waiting to be sent"), "sending": _l("Being sent"), "sent": SENT,
                 "failed": _l("Failed, to be retried"), "dead": _l("Given up")}


@dataclass(frozen=True)
class DeadLetter:
    id: int
    created_at: dt.datetime
    when: str
    recipient: str
    idnp: str
    channel: str
    address: str
    subject: str
    attempts: int
    last_error: str


def _subject(n: Notification) -> str:
    """What the message is about, in the administrator's language; the template's name if it cannot render."""
    try:
        return render(n, base_url="").subject
    except Exception:  # noqa: BLE001 - a notice may be dead precisely because it cannot be rendered
        log.warning("dead notification %s cannot be rendered for the list", n.id, exc_info=True)
        return n.template


def _row(n: Notification) -> DeadLetter:
    return DeadLetter(id=n.id, created_at=n.created_at, when=format_datetime(n.created_at, "short"),
                      recipient=n.account.full_name if n.account else "", idnp=mask(n.account.idnp) if n.account else "",
                      channel=str(CHANNEL_LABELS.get(n.channel, n.channel)), address=n.address or "",
                      subject=_subject(n), attempts=n.attempts or 0, last_error=n.last_error or "")


@bp.get("/")
@staff(*ADMIN_ROLES)
def dead_letters():
    rows = [_row(n) for n in queries.dead_letters(db.session)]
    return render_template("notifications/admin/dead_letters.html", rows=rows, total=queries.dead_count(db.session),
                           form=RetryForm())


@bp.get("/<int:notification_id>")
@staff(*ADMIN_ROLES)
def attempts(notification_id: int):
    n = queries.notification_with_history(db.session, notification_id)
    return render_template("notifications/admin/attempts.html", n=n, row=_row(n), form=RetryForm(),
                           channel_labels=CHANNEL_LABELS, outcome_labels=OUTCOME_LABELS, status_labels=STATUS_LABELS)


@bp.post("/retry")
@staff(*ADMIN_ROLES)
def retry():
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    if form.everything.data == "1":
        ids = None
    elif (form.notification_id.data or "").isdigit():
        ids = [int(form.notification_id.data)]
    else:
        abort(400)
    count = delivery.retry_dead(db.session, ids, actor=current_user)
    if count:
        flash(ngettext("%(num)d notification will be sent again in a moment.",
                       "%(num)d notifications will be sent again in a moment.", count), "success")
    else:
        flash(_l("Nothing to retry: the notification is no longer in the list."), "warning")
    back = request.form.get("next") or ""
    if not back.startswith("/admin/notifications") or back.startswith("//"):
        back = url_for(".dead_letters")
    return redirect(back, code=303)
