"""Who filled in and who sent an application, for whom: the sentence everyone who sees it reads.

"Sent by Ana Cojocaru, CUPS specialist at CUPS Lozova (Strășeni), on behalf of Maria Lungu, on …"
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_datetime, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.applications.models import Application
from portal.assisted import centres
from portal.representation.models import Mandate, OnBehalf


@dataclass(frozen=True)
class Provenance:
    basis: str
    started: str  # who filled it in, for whom
    sent: str | None  # who sent it, for whom, when (None: a draft)
    centre_code: str | None

    @property
    def lines(self) -> list[str]:
        return [x for x in (self.started, self.sent) if x]


def _role(basis: str, centre_code: str | None, mandate_ref: str | None, lang: str) -> str:
    if basis == "assisted":
        centre = centres.get(centre_code)
        return gettext("CUPS specialist at %(centre)s", centre=centre.name_in(lang) if centre else centre_code or "")
    if basis == "parent":
        return gettext("parent")
    if basis == "guardian":
        return gettext("legal guardian")
    if basis == "mandate":
        return gettext("representative under mandate %(ref)s", ref=mandate_ref or "")
    return ""


def _when(value: dt.datetime | None, tzinfo: str | None) -> str:
    if value is None:
        return ""
    if tzinfo:
        from babel.dates import format_datetime as babel_format
        from flask_babel import get_locale

        return babel_format(value, "medium", tzinfo=tzinfo, locale=get_locale())
    return format_datetime(value, "medium")


def of(session: Session, application: Application, lang: str, *, tzinfo: str | None = None) -> Provenance | None:
    """The provenance of ``application``, or ``None`` when its applicant did everything themselves."""
    row = session.scalar(select(OnBehalf).where(OnBehalf.application_id == application.id))
    if row is None:
        return None
    mandate_ref = session.scalar(select(Mandate.ref).where(Mandate.id == row.mandate_id)) if row.mandate_id else None
    subject = application.applicant.full_name or application.applicant.idnp
    started = gettext("Filled in by %(actor)s, %(role)s, on behalf of %(subject)s.", actor=row.actor.full_name,
                      role=_role(row.basis, row.centre_code, mandate_ref, lang), subject=subject)
    sent = None
    if application.submitted_at is not None:
        if row.submitted_by is not None:
            sent = gettext("Sent by %(actor)s, %(role)s, on behalf of %(subject)s, on %(when)s.",
                           actor=row.submitted_by.full_name,
                           role=_role(row.submitted_basis or row.basis, row.submitted_centre_code, mandate_ref, lang),
                           subject=subject, when=_when(application.submitted_at, tzinfo))
        else:
            sent = gettext("Sent by %(subject)s, on %(when)s.", subject=subject,
                           when=_when(application.submitted_at, tzinfo))
        if row.submitted_by_id == row.actor_id:
            started = ""
    return Provenance(basis=row.submitted_basis or row.basis, started=started, sent=sent,
                      centre_code=row.submitted_centre_code or row.centre_code)
