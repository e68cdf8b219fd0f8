"""The in-portal notifications page, and the unread count shown in the navigation."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import Blueprint, flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from portal.core import i18n
from portal.core.db import db
from portal.core.security import citizen
from portal.notifications import preferences as prefs
from portal.notifications import queries
from portal.notifications.forms import PreferencesForm
from portal.notifications.services import Block, render

log = logging.getLogger(__name__)

bp = Blueprint("notifications", __name__)


@dataclass(frozen=True)
class InboxItem:
    id: int
    subject: str
    blocks: tuple[Block, ...]
    link: str | None
    number: str
    created_at: dt.datetime
    when: str
    is_new: bool


def _item(n) -> InboxItem:
    # Rendered now, in the language the person is reading the portal in (they may have switched
    # since the notice was written); e-mail and SMS use the language saved with the notification.
    rendered = render(n, base_url=request.script_root, language=str(get_locale() or n.language),
                      timezone=getattr(current_user, "timezone", None))
    return InboxItem(id=n.id, subject=rendered.subject, blocks=rendered.blocks, link=rendered.link,
                     number=(n.params or {}).get("number") or "", created_at=n.created_at,
                     when=format_datetime(n.created_at, "medium"), is_new=n.read_at is None)


@bp.get("/notifications")
@citizen
def inbox():
    """The person's notifications, newest first; showing them marks them read."""
    notifications = queries.portal_notifications(db.session, current_user.id)
    items = [_item(n) for n in notifications]
    queries.mark_read(db.session, current_user.id, [i.id for i in items if i.is_new])
    return render_template("notifications/inbox.html", items=items)


@bp.route("/account/notifications", methods=["GET", "POST"])
@citizen
def preferences():
    """How the person wants to hear from eSocial: e-mail, SMS (with their addresses) and the language."""
    form = PreferencesForm()
    if request.method == "GET":
        form.notify_email.data = bool(current_user.notify_email and current_user.email)
        form.email.data = current_user.email or ""
        form.notify_sms.data = bool(current_user.notify_sms and current_user.phone)
        form.phone.data = current_user.phone or ""
        form.language.data = current_user.language if current_user.language in i18n.LANGUAGE_NAMES else "ro"
    elif form.validate_on_submit():
        prefs.update(db.session, current_user, actor=current_user, notify_email=form.notify_email.data,
                     email=form.email.data, notify_sms=form.notify_sms.data, phone=form.phone.data,
                     language=form.language.data)
        session[i18n.SESSION_KEY] = form.language.data  # the portal speaks it too from now on
        flash(_l("Your choices were saved."), "success")
        return redirect(url_for("notifications.preferences"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/preferences.html", form=form), status


def unread_count() -> int:
    """The person's unread notifications, counted once per request (the badge, a page's ETag)."""
    if "unread_notifications" not in g:
        g.unread_notifications = queries.unread_count(db.session, current_user.id)
    return g.unread_notifications


@bp.app_context_processor
def _unread_notifications() -> dict:
    """``unread_notifications`` for the navigation badge on every page."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": 0}
    try:
        return {"unread_notifications": unread_count()}
    except SQLAlchemyError:  # e.g. rendering the error page of a failed transaction
        log.warning("unread notifications could not be counted", exc_info=True)
        return {"unread_notifications": 0}
