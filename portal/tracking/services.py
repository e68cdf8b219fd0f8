"""Receipt codes and the public status lookup."""
from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.applications import status as st
from portal.applications.models import Application
from portal.tracking.models import TrackingCode

# No 0/O, 1/I/L: read from paper and typed by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
NUMBER = re.compile(r"^ES-\d{4}-\d{7}$")



def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(value: str | None) -> str:
    return re.sub(r"[\s-]", "", (value or "")).upper()[:CODE_LENGTH * 2]


def normalise_number(value: str | None) -> str:
    return re.sub(r"\s", "", (value or "")).upper()[:32]


def code_for(session: Session, application: Application) -> str:
    """The application's receipt code, made the first time a receipt is shown (only sent applications)."""
    if application.number is None:
        raise ValueError("a draft has no receipt")
    row = session.get(TrackingCode, application.id)
    if row is None:
        row = TrackingCode(application_id=application.id, code=new_code())
        session.add(row)
        session.flush()
    return row.code


@dataclass(frozen=True)
class PublicClaim:
    benefit: str
    status: str
    status_label: str
    since: dt.datetime


@dataclass(frozen=True)
class PublicStatus:
    """Everything the public lookup shows: no name, no IDNP, no agency's question, no amount."""

    number: str
    submitted_at: dt.datetime
    claims: list[PublicClaim]
    waiting_for_applicant: bool


def lookup(session: Session, number: str, code: str, catalogue, lang: str) -> PublicStatus | None:
    """The status of application ``number`` if ``code`` is its receipt code; ``None`` otherwise (one answer
    for a wrong number and a wrong code, so the lookup does not tell which numbers exist)."""
    number, code = normalise_number(number), normalise_code(code)
    row = None
    if NUMBER.match(number):
        row = session.execute(select(Application, TrackingCode.code)
                              .join(TrackingCode, TrackingCode.application_id == Application.id)
                              .where(Application.number == number)).first()
    expected = row[1] if row is not None else new_code()  # compare anyway: the same time either way
    if not hmac.compare_digest(expected.encode(), code.encode()) or row is None:
        return None
    application = row[0]
    claims = []
    for c in application.claims:
        last = max((e.created_at for e in application.events if e.claim_id == c.id), default=c.updated_at)
        claims.append(PublicClaim(benefit=catalogue.get(c.benefit_code).title_in(lang), status=c.status,
                                  status_label=st.label(c.status), since=last))
    return PublicStatus(number=application.number, submitted_at=application.submitted_at, claims=claims,
                        waiting_for_applicant=any(c.status == st.INFO_REQUESTED for c in application.claims))
