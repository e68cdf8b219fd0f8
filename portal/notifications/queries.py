"""Reading a person's in-portal notifications. Views call these; nothing else touches the table for them."""
from __future__ import annotations

from flask import abort
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from portal.core import clock
from portal.notifications.models import Notification

PORTAL = "portal"


def portal_notifications(session: Session, account_id: int, limit: int = 100) -> list[Notification]:
    """The account's in-portal notifications, newest first."""
    return list(session.scalars(
        select(Notification)
        .where(Notification.account_id == account_id, Notification.channel == PORTAL)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ))


def unread_count(session: Session, account_id: int) -> int:
    return session.scalar(
        select(func.count(Notification.id))
        .where(Notification.account_id == account_id, Notification.channel == PORTAL,
               Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, account_id: int, ids: list[int] | None = None) -> int:
    """Mark the account's unread notifications (only ``ids`` if given) as read; returns how many.

    The account id is part of the condition, so an id of someone else's
    notification changes nothing.
    """
    if ids is not None and not ids:
        return 0
    stmt = (update(Notification)
            .where(Notification.account_id == account_id, Notification.channel == PORTAL,
                   Notification.read_at.is_(None))
            .values(read_at=clock.now())
            .execution_options(synchronize_session=False))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return session.execute(stmt).rowcount


# --- the dead-letter list (administrators) ---------------------------------------------------------------------

def dead_letters(session: Session, limit: int = 200) -> list[Notification]:
    """E-mails and SMS given up on, newest first, with their recipient."""
    return list(session.scalars(
        select(Notification)
        .where(Notification.status == "dead")
        .options(selectinload(Notification.account))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ))


def dead_count(session: Session) -> int:
    return session.scalar(select(func.count(Notification.id)).where(Notification.status == "dead")) or 0


def notification_with_history(session: Session, notification_id: int) -> Notification:
    """One e-mail or SMS notification with its attempts; 404 for a portal notice or an unknown id."""
    n = session.scalar(select(Notification)
                       .where(Notification.id == notification_id, Notification.channel != PORTAL)
                       .options(selectinload(Notification.history), selectinload(Notification.account)))
    if n is None:
        abort(404)
    return n
