"""What each citizen page shows, computed outside the view functions and templates."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import url_for
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from portal.applications import display, services
from portal.applications import status as st
from portal.applications import steps as steps_mod
from portal.applications.models import Application
from portal.catalogue import Catalogue
from portal.citizen import forms
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import localized, money
from portal.routing.reference import Territory, territory

DATA_STEPS = set(steps_mod.CONFIRM_STEPS)


@dataclass
class EvidenceView:
    item: str
    title: str
    source_name: str
    status: str
    fetched_at: str | None
    rows: list[display.Row]
    confirmed: bool | None
    dispute_note: str | None


def evidence_views(application: Application, items: list[str], catalogue: Catalogue, lang: str) -> list[EvidenceView]:
    terr = territory()
    evidence = services.evidence_by_item(application)
    out = []
    for item in items:
        e = evidence.get(item)
        source = catalogue.benefits[application.benefits[0]].data.get(item) if application.benefits else None
        source = e.source if e else next((b.data[item] for b in catalogue if item in b.data), source)
        registry = terr.registries.get(source)
        out.append(EvidenceView(
            item=item, title=display.data_title(catalogue, item, lang),
            source_name=registry.name_in(lang) if registry else source or "",
            status=e.status if e else "pending",
            fetched_at=format_datetime(e.fetched_at, format="short") if e and e.fetched_at else None,
            rows=display.rows(item, e.payload, terr, lang) if e and e.status == "fetched" else [],
            confirmed=e.confirmed if e else None, dispute_note=e.dispute_note if e else None))
    return out


class StepPage:
    """One page of the application form."""

    def __init__(self, application: Application, step: str, steps: list[str], catalogue: Catalogue, lang: str):
        self.application = application
        self.step = step
        self.steps = steps
        self.catalogue = catalogue
        self.lang = lang
        self.today = clock.today()
        self.items = steps_mod.items_on(step, catalogue, application.benefits)
        self.questions = catalogue.questions_for(application.benefits)
        self.evidence = services.evidence_by_item(application)
        if step in DATA_STEPS:
            self.template = "data"
        elif step in ("benefits", "children", "questions", "documents", "contact", "check"):
            self.template = step
        else:
            raise ValueError(step)

    # -- what the page shows
    @property
    def title(self) -> str:
        return str(steps_mod.TITLES[self.step])

    @property
    def number(self) -> int:
        return self.steps.index(self.step) + 1

    @property
    def back_url(self) -> str | None:
        previous = steps_mod.previous_step(self.steps, self.step)
        if previous is None:
            return url_for("citizen.my_applications")
        return url_for("citizen.step", ref=self.application.ref, step=previous)

    def evidence_views(self, items: list[str] | None = None) -> list[EvidenceView]:
        return evidence_views(self.application, items if items is not None else self.items, self.catalogue, self.lang)

    @property
    def any_pending(self) -> bool:
        return any(e.status != "fetched" for e in self.evidence_views())

    def children(self) -> list[dict]:
        births = self.evidence.get("births")
        return steps_mod.recent_births(births.payload if births else None, self.today)

    def documents(self) -> list[str]:
        return steps_mod.documents_needed(self.catalogue, self.application.benefits, self.evidence, self.today)

    def document_title(self, kind: str) -> str:
        return localized(self.catalogue.documents[kind].title, self.lang)

    def document_hint(self, kind: str) -> str:
        return localized(self.catalogue.documents[kind].hint, self.lang)

    def uploaded(self, kind: str):
        return next((d for d in self.application.documents if d.kind == kind), None)

    def problems(self) -> list[tuple[str, str]]:
        return services.problems(self.application, self.today)

    def summary(self) -> list[tuple[str, str, list]]:
        """For the check page: (step, title, content) per step."""
        out = []
        for step in self.steps:
            if step in ("check",):
                continue
            out.append((step, str(steps_mod.TITLES[step])))
        return out

    def answer_text(self, question) -> str:
        value = (self.application.answers or {}).get(question.code)
        if value in (None, ""):
            return "—"
        if question.type == "choice":
            return next((localized(o.label, self.lang) for o in question.options if o.value == value), value)
        if question.type == "iban":
            return str(value)
        return money(value)

    # -- the form of the page
    def build_form(self):
        if self.step == "benefits":
            form = forms.BenefitsForm()
            form.benefits.choices = [(b.code, b.title_in(self.lang)) for b in self.catalogue]
            return form
        if self.template == "data":
            fetched = [i for i in self.items if self.evidence.get(i) and self.evidence[i].status == "fetched"]
            titles = {i: display.data_title(self.catalogue, i, self.lang) for i in fetched}
            return forms.confirm_form(fetched, titles)()
        if self.step == "children":
            if not self.children():
                return forms.EmptyForm()  # nothing to choose: the next page asks for the certificate
            form = forms.ChildForm()
            form.child_idnp.choices = [(c["idnp"], f"{c['first_name']} {c['last_name']}") for c in self.children()]
            return form
        if self.step == "questions":
            return forms.questions_form(self.questions, self.lang)()
        if self.step == "documents":
            kinds = self.documents()
            return forms.documents_form(kinds, {k: self.document_title(k) for k in kinds})()
        if self.step == "contact":
            return forms.ContactForm()
        return forms.CheckForm()

    def fill_form(self, form) -> None:
        a = self.application
        if self.step == "benefits":
            form.benefits.data = list(a.benefits)
        elif self.template == "data":
            for item in self.items:
                e = self.evidence.get(item)
                if e is not None and e.confirmed is not None and hasattr(form, f"confirm_{item}"):
                    getattr(form, f"confirm_{item}").data = "yes" if e.confirmed else "no"
                    getattr(form, f"note_{item}").data = e.dispute_note
        elif self.step == "children" and hasattr(form, "child_idnp"):
            form.child_idnp.data = (a.answers or {}).get("child_idnp")
        elif self.step == "questions":
            for q in self.questions:
                value = (a.answers or {}).get(q.code)
                if value not in (None, ""):
                    getattr(form, q.code).data = value if q.type in ("choice", "iban") else _decimal(value)
        elif self.step == "contact":
            form.email.data = a.contact_email
            form.phone.data = a.contact_phone
            form.language.data = a.language

    def save(self, session, form, *, actor, upload_dir: Path, max_bytes: int) -> None:
        a = self.application
        if self.step == "benefits":
            services.choose_benefits(session, a, form.benefits.data)
        elif self.template == "data":
            services.confirm_items(session, a, form.decisions())
        elif self.step == "children" and hasattr(form, "child_idnp"):
            services.save_answers(session, a, {"child_idnp": form.child_idnp.data})
        elif self.step == "questions":
            services.save_answers(session, a, form.values())
        elif self.step == "documents":
            for kind in self.documents():
                upload = getattr(form, kind).data
                if upload and getattr(upload, "filename", ""):
                    services.add_document(session, a, actor=actor, kind=kind, filename=upload.filename,
                                          data=upload.read(max_bytes + 1), upload_dir=upload_dir,
                                          max_bytes=max_bytes)
                elif self.uploaded(kind) is None:
                    raise DomainError(_l("Choose the file to upload."))
        elif self.step == "contact":
            services.save_contact(session, a, email=form.email.data, phone=form.phone.data,
                                  language=form.language.data)


def _decimal(value):
    from decimal import Decimal

    return Decimal(str(value))


@dataclass
class ClaimView:
    ref: str
    benefit: str
    status: str
    status_label: str
    agency: str
    reason: str | None
    decided_at: str | None
    question: str | None


@dataclass
class EventView:
    when: str
    iso: str
    benefit: str | None
    status_label: str
    note: str | None
    by_agency: bool


class StatusView:
    """The application page: where each benefit stands, and the history."""

    def __init__(self, application: Application, catalogue: Catalogue, terr: Territory, lang: str):
        self.application = application
        self.lang = lang
        self.claims = []
        for c in application.claims:
            agency = terr.agencies.get(c.agency_code)
            question = None
            if c.status == st.INFO_REQUESTED:
                question = next((e.note for e in reversed(application.events)
                                 if e.claim_id == c.id and e.to_status == st.INFO_REQUESTED), None)
            self.claims.append(ClaimView(
                ref=c.ref, benefit=catalogue.get(c.benefit_code).title_in(lang), status=c.status,
                status_label=st.label(c.status), agency=agency.name_in(lang) if agency else c.agency_code,
                reason=c.decision_reason, decided_at=format_datetime(c.decided_at, format="short") if c.decided_at else None,
                question=question))
        self.events = []
        for e in reversed(application.events):
            benefit = catalogue.get(e.claim.benefit_code).title_in(lang) if e.claim else None
            self.events.append(EventView(
                when=format_datetime(e.created_at, format="medium"), iso=e.created_at.isoformat(),
                benefit=benefit, status_label=st.label(e.to_status), note=e.note,
                by_agency=e.claim is not None and e.actor_id != application.applicant_id))
        self.waiting_for_answer = any(c.status == st.INFO_REQUESTED for c in self.claims)
        # The latest decision on each claim, with its letter and whether it can be appealed (portal.decisions).
        from portal.decisions.queries import decision_links

        self.decisions = decision_links(application)
        self.submitted_at = format_datetime(application.submitted_at, format="medium") if application.submitted_at else None
