"""What the back office pages show."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_date, format_datetime

from portal.applications import status as st
from portal.applications.models import Claim
from portal.catalogue import Catalogue
from portal.citizen.viewmodels import StatusView, evidence_views
from portal.core import clock
from portal.core.idnp import mask
from portal.core.i18n import localized
from portal.routing.reference import Territory


@dataclass
class QueueRow:
    ref: str
    number: str
    benefit: str
    applicant: str
    raion: str
    submitted: str
    status: str
    status_label: str
    deadline: str
    overdue: bool


def deadline_of(claim: Claim, catalogue: Catalogue) -> dt.date:
    """Calendar approximation of the legal processing time (working days × 7/5)."""
    days = catalogue.get(claim.benefit_code).processing_days
    start = claim.application.submitted_at or claim.created_at
    return (start + dt.timedelta(days=round(days * 7 / 5))).date()


class QueueView:
    def __init__(self, claims: list[Claim], decided: list[Claim], agencies: set[str], catalogue: Catalogue,
                 terr: Territory, lang: str):
        self.agencies = [terr.agencies[a].name_in(lang) for a in sorted(agencies) if a in terr.agencies]
        today = clock.today()
        self.rows = [self._row(c, catalogue, terr, lang, today) for c in claims]
        self.decided = [self._row(c, catalogue, terr, lang, today) for c in decided]

    @staticmethod
    def _row(c: Claim, catalogue, terr, lang, today) -> QueueRow:
        raion = terr.raions.get(c.application.raion_code or "")
        deadline = deadline_of(c, catalogue)
        return QueueRow(
            ref=c.ref, number=c.application.number or "", benefit=catalogue.get(c.benefit_code).title_in(lang),
            applicant=c.application.applicant.full_name, raion=raion.name_in(lang) if raion else "—",
            submitted=format_datetime(c.application.submitted_at, format="short") if c.application.submitted_at else "",
            status=c.status, status_label=st.label(c.status), deadline=format_date(deadline, format="medium"),
            overdue=deadline < today and c.status not in st.FINAL)


class CaseView:
    def __init__(self, claim: Claim, catalogue: Catalogue, terr: Territory, lang: str):
        application = claim.application
        self.claim = claim
        self.application = application
        self.benefit = catalogue.get(claim.benefit_code)
        self.benefit_title = self.benefit.title_in(lang)
        self.status_label = st.label(claim.status)
        self.applicant = application.applicant
        self.applicant_idnp = application.applicant.idnp
        self.masked_idnp = mask(application.applicant.idnp)
        self.deadline = format_date(deadline_of(claim, catalogue), format="long")
        self.evidence = evidence_views(application, list(catalogue.items_for([claim.benefit_code])), catalogue, lang)
        self.questions = [(localized(q.label, lang), self._answer(q, application, lang))
                          for q in catalogue.questions_for([claim.benefit_code])]
        self.documents = [(d, localized(catalogue.documents[d.kind].title, lang)) for d in application.documents]
        child = (application.answers or {}).get("child_idnp")
        self.child = child
        self.status = StatusView(application, catalogue, terr, lang)
        self.is_open = claim.status not in st.FINAL
        self.can_take = claim.status in (st.SUBMITTED, st.INFO_PROVIDED)
        self.waiting_for_applicant = claim.status == st.INFO_REQUESTED
        self.other_claims = [(catalogue.get(c.benefit_code).title_in(lang), terr.agencies[c.agency_code].name_in(lang),
                              st.label(c.status)) for c in application.claims if c.id != claim.id]

    @staticmethod
    def _answer(q, application, lang) -> str:
        value = (application.answers or {}).get(q.code)
        if value in (None, ""):
            return "—"
        if q.type == "choice":
            return next((localized(o.label, lang) for o in q.options if o.value == value), value)
        if q.type == "iban":
            return str(value)
        return f"{value} lei"
