"""Settings of a person: residence, time zone, channels."""
from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit import services as audit
from portal.core.errors import DomainError
from portal.preferences import countries


def timezone_of(account: Account) -> str:
    """The zone a person's dates and times are shown in: theirs, else their country's, else the portal's."""
    if account.timezone:
        return account.timezone
    if account.country:
        return countries.default_timezone(account.country)
    if has_app_context():
        return current_app.config["ESOCIAL"].default_timezone
    return countries.HOME_TIMEZONE


def lives_abroad(account: Account) -> bool:
    return bool(account.country) and account.country != countries.HOME


def learn_residence(account: Account, address: dict | None) -> None:
    """The population register gave the person's address: take the country and its defaults if unset.

    Abroad, e-mail becomes the default channel (SMS to foreign numbers is slow, costly and often lost);
    the person can switch SMS back on in their settings.
    """
    if not address or account.country:
        return
    country = (address.get("country") or countries.HOME).upper()
    if len(country) != 2:
        return
    account.country = country
    if not account.timezone:
        account.timezone = countries.default_timezone(country)
    if country != countries.HOME and account.email:
        account.notify_sms = False


def save_residence(session: Session, account: Account, *, country: str, timezone: str) -> None:
    """Where the person lives and the time zone they read dates in (channels: portal.notifications)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if country not in countries.countries():
        raise DomainError(_l("Choose a country from the list."))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DomainError(_l("Choose a time zone from the list.")) from exc
    account.country = country
    account.timezone = timezone
    audit.record(session, "residence_changed", actor_idnp=account.idnp, subject_idnp=account.idnp,
                 object_type="account", object_id=account.id, country=country, timezone=timezone)
