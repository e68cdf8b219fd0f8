"""What the CUPS desk shows: the centre's visitors' open applications and what each is waiting for."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from portal.applications import status as st
from portal.applications.models import Application
from portal.core.idnp import mask
from portal.representation.models import OnBehalf

WAITING_VISITOR_DRAFT = _l("The visitor: the draft is not sent yet")
WAITING_VISITOR_ANSWER = _l("The visitor: an answer to the agency's question")
WAITING_REGISTRY = _l("A registry: data not received yet")
WAITING_AGENCY = _l("The agency's decision")
WAITING_APPEAL = _l("The review of the visitor's appeal")


@dataclass
class VisitorApplication:
    ref: str
    number: str | None
    visitor_name: str
    visitor_idnp: str  # masked
    benefits: list[str]
    statuses: list[str]
    waiting_for: str
    waiting_on_visitor: bool
    since: dt.datetime
    specialist: str
    centre: str


def waiting_for(application: Application) -> tuple[str, bool]:
    """What an open application waits for, and whether the visitor is the one to act."""
    if application.status == "draft":
        return str(WAITING_VISITOR_DRAFT), True
    statuses = {c.status for c in application.claims}
    if st.INFO_REQUESTED in statuses:
        return str(WAITING_VISITOR_ANSWER), True
    if st.AWAITING_DATA in statuses:
        return str(WAITING_REGISTRY), False
    if st.APPEALED in statuses:
        return str(WAITING_APPEAL), False
    return str(WAITING_AGENCY), False


def is_open(application: Application) -> bool:
    return application.status == "draft" or any(c.status not in st.FINAL for c in application.claims)


def centre_applications(session: Session, centre_codes: set[str], catalogue, lang: str) -> list[VisitorApplication]:
    """Applications filled in or sent at these centres that are not finished, the visitor's turn first."""
    if not centre_codes:
        return []
    rows = session.execute(
        select(OnBehalf, Application).join(Application, Application.id == OnBehalf.application_id)
        .where(OnBehalf.basis == "assisted",
               or_(OnBehalf.centre_code.in_(centre_codes), OnBehalf.submitted_centre_code.in_(centre_codes)))
        .options(selectinload(Application.claims), selectinload(Application.applicant))
        .order_by(Application.updated_at.desc())
    ).all()
    out = []
    for on_behalf, application in rows:
        if not is_open(application):
            continue
        waiting, visitor_turn = waiting_for(application)
        applicant = application.applicant
        out.append(VisitorApplication(
            ref=application.ref, number=application.number, visitor_name=applicant.full_name,
            visitor_idnp=mask(applicant.idnp),
            benefits=[catalogue.get(b).title_in(lang) for b in application.benefits if b in catalogue.benefits],
            statuses=[str(st.label(c.status)) for c in application.claims] or [str(st.label("draft"))],
            waiting_for=waiting, waiting_on_visitor=visitor_turn,
            since=application.submitted_at or application.created_at,
            specialist=(on_behalf.submitted_by or on_behalf.actor).full_name,
            centre=on_behalf.submitted_centre_code or on_behalf.centre_code or ""))
    out.sort(key=lambda r: (not r.waiting_on_visitor, r.since))
    return out
