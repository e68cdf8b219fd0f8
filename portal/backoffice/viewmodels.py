"""What the back office pages show."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import format_date, format_datetime

from portal.applications import status as st
from portal.applications.models import Claim
from portal.backoffice import calendar
from portal.backoffice import cases as case_service
from portal.backoffice.models import CLOSED, WAITING, AgencyCase
from portal.catalogue import Catalogue
from portal.citizen.viewmodels import StatusView, evidence_views
from portal.core import clock
from portal.core.i18n import localized, money
from portal.core.idnp import mask
from portal.routing.reference import Territory


def deadline_of(claim: Claim, catalogue: Catalogue) -> dt.date:
    """The legal deadline of one claim in working days (weekends and public holidays skipped)."""
    start = (claim.application.submitted_at or claim.created_at).date()
    return calendar.deadline(start, catalogue.get(claim.benefit_code).processing_days)


@dataclass
class Due:
    """A deadline as the pages show it."""

    date: str
    iso: str
    days_left: int | None
    paused: bool
    near: bool
    overdue: bool

    @classmethod
    def of(cls, due: dt.date | None, *, paused: bool, today: dt.date) -> "Due | None":
        if due is None:
            return None
        rules = calendar.rules()
        left = calendar.days_left(due, today)
        return cls(date=format_date(due, format="medium"), iso=due.isoformat(), days_left=left, paused=paused,
                   near=not paused and 0 <= left <= rules.near_working_days, overdue=not paused and due < today)


@dataclass
class QueueRow:
    ref: str
    number: str
    benefits: list[tuple[str, str]]  # (claim ref, title)
    applicant: str
    raion: str
    submitted: str
    status: str
    status_label: str
    due: Due | None
    assignee: str | None
    mine: bool
    escalated: bool
    appeal: bool
    claim_refs: list[str] = field(default_factory=list)
    risk: int = 0  # the worst risk level of the case's claims (0 none)

    # Kept for the earlier templates and tests: the first benefit and the deadline as text.
    @property
    def benefit(self) -> str:
        return ", ".join(t for _, t in self.benefits)

    @property
    def deadline(self) -> str:
        return self.due.date if self.due else "—"

    @property
    def overdue(self) -> bool:
        return bool(self.due and self.due.overdue)


def _case_status(case: AgencyCase) -> tuple[str, str]:
    """The status to show for a case: its claims' when they agree, else the most pressing one."""
    statuses = [c.status for c in case.claims]
    for s in (st.APPEALED, st.INFO_PROVIDED, st.SUBMITTED, st.IN_REVIEW, st.INFO_REQUESTED, st.REJECTED,
              st.APPROVED):
        if s in statuses:
            return s, st.label(s)
    return case.status, case.status


def row(case: AgencyCase, catalogue: Catalogue, terr: Territory, lang: str, today: dt.date,
        me_id: int | None) -> QueueRow:
    application = case.application
    raion = terr.raions.get(application.raion_code or "")
    status, label = _case_status(case)
    return QueueRow(
        ref=case.ref, number=application.number or "",
        benefits=[(c.ref, catalogue.get(c.benefit_code).title_in(lang)) for c in case.claims],
        applicant=application.applicant.full_name, raion=raion.name_in(lang) if raion else "—",
        submitted=format_datetime(application.submitted_at, format="short") if application.submitted_at else "",
        status=status, status_label=label,
        due=Due.of(case.due_on, paused=case.status == WAITING, today=today) if case.status != CLOSED else None,
        assignee=case.assigned_to.full_name if case.assigned_to else None,
        mine=me_id is not None and case.assigned_to_id == me_id, escalated=case.escalated_at is not None,
        appeal=any(c.status == st.APPEALED for c in case.claims), claim_refs=[c.ref for c in case.claims],
        risk=case.risk_level or 0)


class QueueView:
    """The queue page: the worker's own cases, one page of the agency's queue, the recently decided."""

    def __init__(self, page, mine: list[AgencyCase], closed: list[AgencyCase], agencies: set[str],
                 catalogue: Catalogue, terr: Territory, lang: str, me=None, supervisor: bool = False,
                 overdue: int = 0):
        self.agencies = [terr.agencies[a].name_in(lang) for a in sorted(agencies) if a in terr.agencies]
        today = clock.today()
        me_id = me.id if me is not None else None
        self.mine = [row(c, catalogue, terr, lang, today, me_id) for c in mine]
        self.queue = [row(c, catalogue, terr, lang, today, me_id) for c in page.cases]
        self.total = page.total
        self.next, self.previous, self.first = page.next, page.previous, page.first
        self.rows = self.mine + self.queue
        self.supervisor = supervisor
        self.overdue = overdue
        self.decided = [row(c, catalogue, terr, lang, today, me_id) for c in closed]


@dataclass
class ClaimPanel:
    claim: Claim
    ref: str
    title: str
    status: str
    status_label: str
    due: Due | None
    open: bool
    decisions: list
    appeal: object | None
    legal_basis: str
    processing_days: int


class CaseView:
    def __init__(self, case: AgencyCase, focus: Claim | None, catalogue: Catalogue, terr: Territory, lang: str,
                 *, decisions: dict, appeals: dict, me=None):
        application = case.application
        today = clock.today()
        self.case = case
        self.claims_of_case = list(case.claims)
        self.claim = focus or (self.claims_of_case[0] if self.claims_of_case else None)
        self.application = application
        self.benefit = catalogue.get(self.claim.benefit_code)
        self.benefit_title = ", ".join(catalogue.get(c.benefit_code).title_in(lang) for c in self.claims_of_case)
        self.agency = terr.agencies[case.agency_code].name_in(lang) if case.agency_code in terr.agencies else case.agency_code
        status, self.status_label = _case_status(case)
        self.status_code = status
        self.applicant = application.applicant
        self.applicant_idnp = application.applicant.idnp
        self.masked_idnp = mask(application.applicant.idnp)
        self.due = Due.of(case.due_on, paused=case.status == WAITING, today=today) if case.status != CLOSED else None
        self.deadline = self.due.date if self.due else "—"
        codes = [c.benefit_code for c in self.claims_of_case]
        self.evidence = evidence_views(application, list(catalogue.items_for(codes)), catalogue, lang)
        self.questions = [(localized(q.label, lang), self._answer(q, application, lang))
                          for q in catalogue.questions_for(codes)]
        self.documents = [(d, localized(catalogue.documents[d.kind].title, lang)) for d in application.documents]
        self.child = (application.answers or {}).get("child_idnp")
        self.status = StatusView(application, catalogue, terr, lang)
        self.panels = []
        for c in self.claims_of_case:
            benefit = catalogue.get(c.benefit_code)
            is_open = c.status in case_service.UNDECIDED
            self.panels.append(ClaimPanel(
                claim=c, ref=c.ref, title=benefit.title_in(lang), status=c.status, status_label=st.label(c.status),
                due=Due.of(case_service.claim_due(c, case), paused=case.status == WAITING, today=today)
                if is_open else None,
                open=is_open, decisions=decisions.get(c.id, []), appeal=appeals.get(c.id),
                legal_basis=benefit.legal_basis, processing_days=benefit.processing_days))
        self.decidable = [p for p in self.panels if p.status in (st.SUBMITTED, st.IN_REVIEW, st.INFO_PROVIDED,
                                                                 st.APPEALED)]
        self.is_open = case.status != CLOSED
        self.can_take = case.assigned_to_id is None and self.is_open and (me is None or me.id != case.excluded_worker_id)
        self.assignee = case.assigned_to.full_name if case.assigned_to else None
        self.mine = me is not None and case.assigned_to_id == me.id
        self.excluded = me is not None and me.id == case.excluded_worker_id
        self.waiting_for_applicant = any(c.status == st.INFO_REQUESTED for c in self.claims_of_case)
        self.can_ask = any(c.status in (st.SUBMITTED, st.IN_REVIEW, st.INFO_PROVIDED) for c in self.claims_of_case)
        self.transfers = [(format_datetime(t.created_at, format="short"),
                           terr.agencies[t.from_agency].name_in(lang) if t.from_agency in terr.agencies else t.from_agency,
                           terr.agencies[t.to_agency].name_in(lang) if t.to_agency in terr.agencies else t.to_agency,
                           t.reason, t.actor.full_name) for t in case.transfers]
        self.other_claims = [(catalogue.get(c.benefit_code).title_in(lang), terr.agencies[c.agency_code].name_in(lang)
                              if c.agency_code in terr.agencies else c.agency_code, st.label(c.status))
                             for c in application.claims if c.case_id != case.id]
        self.reasons = [(r.code, r.text_in(lang)) for r in calendar.rules().rejection_reasons.values()]
        self.escalated = case.escalated_at is not None

    def letter_url(self, decision) -> str:
        return url_for("backoffice.letter", ref=self.case.ref, decision_ref=decision.ref)

    @staticmethod
    def _answer(q, application, lang) -> str:
        value = (application.answers or {}).get(q.code)
        if value in (None, ""):
            return "—"
        if q.type == "choice":
            return next((localized(o.label, lang) for o in q.options if o.value == value), value)
        if q.type == "iban":
            return str(value)
        return money(value)
