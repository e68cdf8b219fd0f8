"""A person's notification preferences: which channels, which addresses, which language."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit import services as audit
from portal.core.i18n import LANGUAGE_NAMES
from portal.notifications.sms import to_e164


def update(session: Session, account: Account, *, actor: Account, notify_email: bool, email: str | None,
           notify_sms: bool, phone: str | None, language: str) -> list[str]:
    """Save the preferences; returns the names of what changed (audited, never the addresses themselves).

    A channel is on only with an address to use; an empty address is kept
    empty (the person may not want to give one).  The phone number is stored
    in E.164.  Notices already written keep the language and address they were
    written with; the next ones use these.
    """
    if language not in LANGUAGE_NAMES:
        raise ValueError(f"unknown language {language!r}")
    email = (email or "").strip() or None
    phone = to_e164(phone) if phone and phone.strip() else None
    new = {"notify_email": bool(notify_email and email), "email": email,
           "notify_sms": bool(notify_sms and phone), "phone": phone, "language": language}
    changed = [name for name, value in new.items() if getattr(account, name) != value]
    for name in changed:
        setattr(account, name, new[name])
    if changed:
        audit.record(session, "notification_preferences_changed", actor_idnp=actor.idnp, subject_idnp=account.idnp,
                     object_type="account", object_id=account.id, changed=changed)
    session.flush()
    return changed
