"""Read-only queries of the integration API. The API's "case" is the back office's unit of work
(:class:`portal.backoffice.models.AgencyCase`: the claims of one application that go to one agency); everything
the API reads about cases goes through this module, so a change of that unit changes one file.

A client sees only its own agency's cases: another agency's case is "not found", exactly like a missing one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.api.models import WebhookEvent
from portal.applications.models import Application, Claim
from portal.backoffice.models import AgencyCase

CASE_STATUSES = ("open", "waiting", "closed")
MAX_PER_PAGE = 100
MAX_CURSOR = 2**31 - 1  # event ids are 32-bit integers on PostgreSQL


@dataclass
class Page:
    items: list[AgencyCase]
    total: int
    page: int
    per_page: int
    cursor: int  # the newest change of this agency: pass it back as ``changed_since`` to get only what changed after


def _load():
    return (selectinload(AgencyCase.application).selectinload(Application.evidence),
            selectinload(AgencyCase.application).selectinload(Application.documents),
            selectinload(AgencyCase.claims))


def cursor_of(session: Session, agency: str) -> int:
    return session.scalar(select(func.max(WebhookEvent.id)).where(WebhookEvent.agency_code == agency)) or 0


def list_cases(session: Session, agency: str, *, status: str | None = None, benefit: str | None = None,
               claim_status: str | None = None, submitted_from: dt.date | None = None,
               submitted_to: dt.date | None = None, changed_since: int | None = None,
               page: int = 1, per_page: int = 20) -> Page:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    head = cursor_of(session, agency)
    q = select(AgencyCase).join(AgencyCase.application).where(AgencyCase.agency_code == agency)
    if status:
        q = q.where(AgencyCase.status == status)
    if benefit or claim_status:
        cond = [Claim.case_id == AgencyCase.id]
        if benefit:
            cond.append(Claim.benefit_code == benefit)
        if claim_status:
            cond.append(Claim.status == claim_status)
        q = q.where(exists().where(*cond))
    if submitted_from:
        q = q.where(Application.submitted_at >= dt.datetime.combine(submitted_from, dt.time.min, dt.timezone.utc))
    if submitted_to and submitted_to < dt.date.max:
        q = q.where(Application.submitted_at < dt.datetime.combine(submitted_to + dt.timedelta(days=1), dt.time.min,
                                                                   dt.timezone.utc))
    if changed_since is not None:
        changed = select(WebhookEvent.case_id).where(WebhookEvent.agency_code == agency,
                                                     WebhookEvent.id > changed_since, WebhookEvent.case_id.is_not(None))
        via_claims = (select(Claim.case_id).join(WebhookEvent, WebhookEvent.claim_id == Claim.id)
                      .where(WebhookEvent.agency_code == agency, WebhookEvent.id > changed_since))
        q = q.where(or_(AgencyCase.id.in_(changed), AgencyCase.id.in_(via_claims)))
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    items = list(session.scalars(q.options(*_load()).order_by(AgencyCase.id.asc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, total, page, per_page, head)


def case_of_agency(session: Session, agency: str, ref: str) -> AgencyCase | None:
    case = session.scalar(select(AgencyCase).where(AgencyCase.ref == ref).options(*_load()))
    if case is None or case.agency_code != agency:
        return None
    return case


def _iso(value):
    return value.isoformat() if value is not None else None


def claim_json(claim: Claim) -> dict:
    return {"ref": claim.ref, "benefit": claim.benefit_code, "status": claim.status,
            "decided_at": _iso(claim.decided_at), "decision_reason": claim.decision_reason,
            "updated_at": _iso(claim.updated_at)}


def case_json(case: AgencyCase, *, full: bool = False, document_url=None) -> dict:
    application = case.application
    out = {
        "ref": case.ref, "agency": case.agency_code, "status": case.status,
        "application_number": application.number, "channel": application.channel, "raion": application.raion_code,
        "submitted_at": _iso(application.submitted_at), "due_on": _iso(case.due_on),
        "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
        "claims": [claim_json(c) for c in case.claims],
    }
    if full:
        out["registry_data"] = [{"item": e.item, "source": e.source, "status": e.status, "payload": e.payload,
                                 "fetched_at": _iso(e.fetched_at), "confirmed": e.confirmed,
                                 "dispute_note": e.dispute_note} for e in application.evidence]
        out["documents"] = [{"ref": d.ref, "kind": d.kind, "filename": d.filename, "content_type": d.content_type,
                             "size": d.size, "uploaded_at": _iso(d.uploaded_at),
                             "download_url": document_url(d) if document_url else None}
                            for d in application.documents]
    return out
