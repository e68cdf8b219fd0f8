"""Write notifications (the outbox) and render them in the recipient's language.

Domain services call :func:`notify` inside their own transaction: the status
change and the notices about it are committed together or not at all, and the
delivery worker (:mod:`portal.notifications.delivery`) sends the e-mail and
SMS rows only after that commit.  Nothing here talks to the network.

Texts live in ``templates/notifications/messages/<template>.txt`` as three
Jinja macros (``subject``, ``message``, ``sms``) made of gettext strings with
English source and named placeholders, so one Babel extraction covers them.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.core import clock
from portal.core.i18n import LANGUAGE_NAMES
from portal.notifications.models import Notification
from portal.notifications.sms import compose_sms, to_e164

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "ro"
DEFAULT_TIMEZONE = "Europe/Chisinau"

# Template key → the params it needs (others, such as ``reason``, are optional).
TEMPLATES: dict[str, frozenset[str]] = {
    "application_submitted": frozenset({"number", "benefits"}),
    "info_requested": frozenset({"number", "benefit", "question"}),
    "decision_made": frozenset({"number", "benefit", "decision"}),
    "status_changed": frozenset({"number", "benefit", "status"}),
    # Reminders (portal.notifications.reminders); dates are ISO strings, "path" a portal link for staff notices.
    "info_reminder": frozenset({"number", "benefit", "question", "asked_on"}),
    "deadline_near": frozenset({"number", "benefit", "due_on"}),
    "deadline_passed": frozenset({"number", "benefit", "due_on"}),
    "renewal_due": frozenset({"number", "benefit", "decided_on", "renew_by"}),
    # A benefit offered without being asked for (portal.registries.offers); links to the offer.
    "benefit_offer": frozenset({"benefit", "offer_ref"}),
    # The back office (portal.backoffice, portal.decisions).
    "case_transferred": frozenset({"number", "benefit", "agency"}),
    "case_overdue": frozenset({"number", "benefits", "agency", "due_on", "case_ref"}),
    "appeal_assigned": frozenset({"number", "benefit", "case_ref"}),
}
DECISIONS = ("approved", "rejected")

# Stored with the params when an application is given: the link never needs a join.
REF_PARAM = "application_ref"


def notify(session: Session, account: Account, template: str, params: dict, *,
           application=None) -> list[Notification]:
    """Write the notices of one event for ``account``: one row per channel.

    Always a ``portal`` row (``sent`` at once: it is read in the portal); an
    ``email`` row if the account has an e-mail address and wants e-mail; an
    ``sms`` row if it has a phone number (normalised to E.164) and wants SMS.
    Each row carries the account's language and a snapshot of the address.
    Adds and flushes, never commits: the caller's transaction owns them.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    missing = TEMPLATES[template] - params.keys()
    if missing:
        raise ValueError(f"{template}: missing params {', '.join(sorted(missing))}")
    if template == "decision_made" and params["decision"] not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    stored = dict(params)
    application_id = None
    if application is not None:
        if application.id is None or application.ref is None:
            session.flush()  # the application's id and ref are given on insert
        application_id = application.id
        stored[REF_PARAM] = application.ref
        if not stored.get("number"):
            stored["number"] = application.number
    json.dumps(stored)  # refuse now what the JSON column could not store later

    language = account.language if account.language in LANGUAGE_NAMES else DEFAULT_LANGUAGE
    now = clock.now()
    common = dict(account_id=account.id, template=template, params=stored, language=language,
                  application_id=application_id, created_at=now)
    rows = [Notification(channel="portal", status="sent", sent_at=now, **common)]
    if account.email and account.notify_email:
        rows.append(Notification(channel="email", address=account.email.strip(), status="pending",
                                 next_attempt_at=now, **common))
    if account.phone and account.notify_sms:
        phone = to_e164(account.phone)
        if phone:
            rows.append(Notification(channel="sms", address=phone, status="pending", next_attempt_at=now, **common))
        else:
            log.warning("account %s: phone number is not E.164, no SMS written", account.id)
    session.add_all(rows)
    session.flush()
    return rows


# --- rendering -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A paragraph of a message: lines of text, or a bulleted list when ``bullets``."""

    lines: tuple[str, ...]
    bullets: bool = False


@dataclass(frozen=True)
class Rendered:
    subject: str
    message: str  # the message itself, plain text: shown in the portal, wrapped by the e-mail
    text: str  # the whole plain-text e-mail
    html: str  # the HTML alternative of the e-mail
    sms: str  # within sms.MAX_SEGMENTS segments
    link: str | None
    blocks: tuple[Block, ...] = field(default=())


@functools.lru_cache(maxsize=1)
def _catalogue():
    from portal.catalogue import load_catalogue

    return load_catalogue()


def benefit_title(code: str, language: str) -> str:
    """The benefit's title in ``language``; the code itself if the catalogue no longer has it."""
    benefit = _catalogue().benefits.get(code)
    return benefit.title_in(language) if benefit else code


def application_path(ref: str) -> str:
    return f"/applications/{ref}"


def offer_path(ref: str) -> str:
    return f"/offers/{ref}"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _blocks(message: str) -> tuple[Block, ...]:
    blocks = []
    for para in message.split("\n\n"):
        lines = tuple(line.strip() for line in para.strip().splitlines() if line.strip())
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append(Block(tuple(line[2:] for line in lines), bullets=True))
        else:
            blocks.append(Block(lines))
    return tuple(blocks)


def _context(n: Notification, language: str, base_url: str, timezone: str | None) -> dict:
    """What the message macros see: params with codes turned into words of ``language``."""
    from portal.applications import status as app_status

    p = dict(n.params or {})
    created = (n.created_at or clock.now()).astimezone(_zone(timezone))
    ref = p.get(REF_PARAM)
    m = {
        "number": p.get("number") or "",
        "date": format_date(created.date(), "long", locale=language),
        "link": (f"{base_url.rstrip('/')}{application_path(ref)}" if ref else
                 f"{base_url.rstrip('/')}{offer_path(p['offer_ref'])}" if p.get("offer_ref") else None),
        "child_name": (p.get("child_name") or "").strip(),
        "person_name": (p.get("person_name") or "").strip(),
        "event": p.get("event") or "",
        "question": (p.get("question") or "").strip(),
        "reason": (p.get("reason") or "").strip(),
        "decision_code": p.get("decision"),
    }
    if "benefits" in p:
        m["benefits"] = [benefit_title(code, language) for code in p["benefits"]]
    if "benefit" in p:
        m["benefit"] = benefit_title(p["benefit"], language)
    if p.get("decision"):
        m["decision"] = app_status.label(p["decision"])
    if p.get("status"):
        m["status"] = app_status.label(p["status"])
    _reminder_context(m, p, language, base_url)
    _backoffice_context(m, p, language, base_url)
    return m


def _backoffice_context(m: dict, p: dict, language: str, base_url: str) -> None:
    """Words for the back office's params: the agency's name, dates, the letter and the case links."""
    from datetime import date as _date

    from portal.routing.reference import territory

    base = base_url.rstrip("/")
    if p.get("agency"):
        agency = territory().agencies.get(p["agency"])
        m["agency"] = agency.name_in(language) if agency else p["agency"]
    for key in ("due_on", "appeal_until"):
        if p.get(key):
            m[key] = format_date(_date.fromisoformat(p[key]), "long", locale=language)
    if p.get("letter_path"):
        m["letter_link"] = f"{base}{p['letter_path']}"
    if p.get("case_ref"):
        m["case_link"] = f"{base}/backoffice/cases/{p['case_ref']}"
        if not m.get("link"):
            m["link"] = m["case_link"]


def _reminder_context(m: dict, p: dict, language: str, base_url: str) -> None:
    """Dates of the reminders in words of ``language``; a portal ``path`` as the link when no application is."""
    for key in ("asked_on", "due_on", "decided_on", "renew_by"):
        if isinstance(p.get(key), str):
            m[key] = format_date(dt.date.fromisoformat(p[key]), "long", locale=language)
    path = p.get("path")
    if not m.get("link") and isinstance(path, str) and path.startswith("/") and not path.startswith("//"):
        m["link"] = f"{base_url.rstrip('/')}{path}"


def render(n: Notification, *, base_url: str | None = None, timezone: str | None = None, name: str = "",
           language: str | None = None) -> Rendered:
    """Subject, plain text, HTML and SMS text of ``n``, in ``language`` (default: the notification's).

    Needs an application context (the Jinja environment and Flask-Babel).
    ``base_url`` defaults to the configured public address; pass ``""`` for
    links relative to the portal.  Dates are in ``timezone`` (the recipient's).
    """
    if n.template not in TEMPLATES:
        raise ValueError(f"unknown notification template {n.template!r}")
    env = current_app.jinja_env
    language = language or n.language or DEFAULT_LANGUAGE
    settings = current_app.config["ESOCIAL"]
    if base_url is None:
        base_url = settings.base_url
    timezone = timezone or settings.default_timezone
    with force_locale(language):
        m = _context(n, language, base_url, timezone)
        macros = env.get_template(f"notifications/messages/{n.template}.txt").make_module()
        subject = " ".join(str(macros.subject(m)).split())
        message = str(macros.message(m)).strip()
        sms_core = str(macros.sms(m)).strip()
        blocks = _blocks(message)
        layout = dict(subject=subject, message=message, blocks=blocks, link=m["link"], name=name, lang=language)
        text = env.get_template("notifications/email.txt").render(**layout).strip() + "\n"
        html = env.get_template("notifications/email.html").render(**layout)
    return Rendered(subject=subject, message=message, text=text, html=html,
                    sms=compose_sms(sms_core, m["link"] or ""), link=m["link"], blocks=blocks)


def render_for(n: Notification, account: Account | None, *, base_url: str | None = None) -> Rendered:
    """Render ``n`` for delivery: the recipient's name and time zone, the notification's language."""
    return render(n, base_url=base_url, timezone=getattr(account, "timezone", None),
                  name=getattr(account, "first_name", "") or "")
