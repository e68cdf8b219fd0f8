"""Application services: start, fill in, submit, and move claims through their statuses.

Every function takes the SQLAlchemy session and the acting account; they add,
flush and write audit events and notifications in the same transaction, and
never commit (the request or task does).  ``actor`` is who acts, the
application's ``applicant`` is whom it is for.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications import steps as steps_mod
from portal.applications.models import Application, Claim, Document, Evidence, StatusEvent
from portal.audit import services as audit
from portal.catalogue import Catalogue, load_catalogue
from portal.core import clock
from portal.core.errors import DomainError, InvalidTransition, NotAllowed
from portal.notifications.services import notify
from portal.routing.rules import NoRoute


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return load_catalogue()


def _event(session: Session, application: Application, to_status: str, *, actor: Account | None,
           claim: Claim | None = None, from_status: str | None = None, note: str | None = None) -> StatusEvent:
    event = StatusEvent(application=application, claim=claim, from_status=from_status, to_status=to_status,
                        actor=actor, note=note)
    session.add(event)
    application.touch()
    return event


# --- drafting -----------------------------------------------------------------

def start(session: Session, *, actor: Account, applicant: Account, benefits: list[str], language: str,
          channel: str = "online") -> Application:
    """Open a draft for ``applicant`` asking for ``benefits``."""
    _check_benefits(benefits)
    application = Application(applicant=applicant, created_by=actor, benefits=list(benefits), language=language,
                              channel=channel, contact_email=applicant.email or None,
                              contact_phone=applicant.phone or None, current_step="benefits", answers={})
    session.add(application)
    session.flush()
    from portal.representation.authority import check_start  # may the actor act for the applicant (and how)

    check_start(session, application, actor=actor)
    audit.record(session, "application_started", actor_idnp=actor.idnp, subject_idnp=applicant.idnp,
                 object_type="application", object_id=application.ref, benefits=list(benefits),
                 channel=application.channel)
    return application


def _check_benefits(benefits: list[str]) -> None:
    if not benefits:
        raise DomainError(_l("Choose at least one benefit or service."))
    unknown = [b for b in benefits if b not in catalogue().benefits]
    if unknown:
        raise DomainError(_l("Unknown benefit: %(code)s"), code=", ".join(unknown))


def _require_draft(application: Application) -> None:
    if application.status != "draft":
        raise DomainError(_l("This application has already been sent and can no longer be changed."))


def choose_benefits(session: Session, application: Application, benefits: list[str]) -> None:
    _require_draft(application)
    _check_benefits(benefits)
    application.benefits = list(benefits)
    application.touch()


def store_prefill(session: Session, application: Application, results: dict) -> list[Evidence]:
    """Keep what the registries answered (``portal.registries.prefill.ItemResult`` values) as evidence.

    A fetched item replaces an earlier one; a failed or pending fetch never
    overwrites data fetched before.
    """
    existing = {e.item: e for e in application.evidence}
    stored = []
    for item, result in results.items():
        evidence = existing.get(item)
        if evidence is None:
            evidence = Evidence(application=application, item=item, source=result.source)
            session.add(evidence)
        elif evidence.status == "fetched" and result.status != "fetched":
            continue
        evidence.source = result.source
        evidence.status = result.status
        evidence.payload = result.payload if result.status == "fetched" else None
        evidence.error = result.error
        evidence.correlation_id = result.correlation_id
        evidence.fetched_at = result.fetched_at
        if result.status == "fetched":
            evidence.confirmed = None  # new data must be confirmed again
        stored.append(evidence)
        if item == "address" and result.status == "fetched":
            application.raion_code = result.payload.get("raion_code")
            from portal.preferences.services import learn_residence  # country, time zone, e-mail first abroad

            learn_residence(application.applicant, result.payload)
    application.touch()
    return stored


def evidence_by_item(application: Application) -> dict[str, Evidence]:
    return {e.item: e for e in application.evidence}


def confirm_items(session: Session, application: Application, decisions: dict[str, tuple[bool, str | None]]) -> None:
    """Record, per data item, that the citizen confirmed it or reported it as wrong (with what is wrong)."""
    _require_draft(application)
    evidence = evidence_by_item(application)
    for item, (confirmed, note) in decisions.items():
        e = evidence.get(item)
        if e is None:
            continue
        e.confirmed = confirmed
        e.dispute_note = None if confirmed else (note or "").strip()[:2000]
    application.touch()


def save_answers(session: Session, application: Application, values: dict) -> None:
    _require_draft(application)
    answers = dict(application.answers or {})
    for key, value in values.items():
        answers[key] = str(value) if isinstance(value, Decimal) else value
    application.answers = answers
    application.touch()


def save_contact(session: Session, application: Application, *, email: str | None, phone: str | None,
                 language: str) -> None:
    """Contact details for this application; they also become the applicant's preferences for notices."""
    _require_draft(application)
    application.contact_email = email or None
    application.contact_phone = phone or None
    application.language = language
    applicant = application.applicant
    if email:
        applicant.email = email
    if phone:
        applicant.phone = phone
    applicant.language = language
    application.touch()


def go_to(application: Application, step: str) -> None:
    """Remember where the citizen is, so they resume exactly there, from any device."""
    if application.status == "draft":
        application.current_step = step


# --- documents ------------------------------------------------------------------

# Accepted upload types, recognised by their first bytes (never by the file name).
_SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}


def sniff(data: bytes) -> tuple[str, str] | None:
    for magic, kind in _SIGNATURES.items():
        if data.startswith(magic):
            return kind
    return None


def add_document(session: Session, application: Application, *, actor: Account, kind: str, filename: str,
                 data: bytes, upload_dir: Path, max_bytes: int) -> Document:
    _require_draft(application)
    if kind not in catalogue().documents:
        raise DomainError(_l("Unknown document type."))
    if not data:
        raise DomainError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise DomainError(_l("The file is too large: files can be up to %(mb)s MB."), mb=max_bytes // (1024 * 1024))
    sniffed = sniff(data)
    if sniffed is None:
        raise DomainError(_l("The file must be a PDF, JPEG or PNG."))
    content_type, suffix = sniffed
    from portal.core import vault  # encrypted at rest, outside the web root

    store = vault.current()
    if upload_dir is not None and Path(upload_dir) != store.directory:
        store = dataclasses.replace(store, directory=Path(upload_dir))
    key = store.new_name(suffix)
    store.put(key, data)
    for old in [d for d in application.documents if d.kind == kind]:
        session.delete(old)
    document = Document(application=application, kind=kind, filename=Path(filename or "document").name[:255],
                        content_type=content_type, size=len(data), storage_key=key, uploaded_by_id=actor.id)
    session.add(document)
    application.touch()
    audit.record(session, "document_uploaded", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="document", object_id=document.ref, kind=kind, size=len(data))
    return document


# --- submitting -----------------------------------------------------------------

def problems(application: Application, today: dt.date) -> list[tuple[str, str]]:
    """What stops the application from being sent: ``(step, message)`` pairs."""
    cat = catalogue()
    out: list[tuple[str, str]] = []
    evidence = evidence_by_item(application)
    steps = steps_mod.steps_for(cat, application.benefits, evidence, today)
    for step in steps:
        if step not in steps_mod.CONFIRM_STEPS:
            continue
        for item in steps_mod.items_on(step, cat, application.benefits):
            e = evidence.get(item)
            if e is not None and e.status == "fetched" and e.confirmed is None:
                out.append((step, str(_l("Confirm the data on this page or tell us what is wrong."))))
                break
    address = evidence.get("address")
    from portal.registries.services import address_usable_later  # a register that did not answer yet

    if (address is None or address.status != "fetched") and not address_usable_later(application):
        out.append(("about_you", str(_l("We could not get your address from the population register yet. "
                                         "Your draft is saved; try again later."))))
    answers = application.answers or {}
    for question in cat.questions_for(application.benefits):
        if question.required and answers.get(question.code) in (None, ""):
            out.append(("questions", str(_l("Answer every question."))))
            break
    if "birth_allowance" in application.benefits:
        births = evidence.get("births")
        recent = steps_mod.recent_births(births.payload if births else None, today)
        if recent and not answers.get("child_idnp"):
            out.append(("children", str(_l("Choose the child you are applying for."))))
    uploaded = {d.kind for d in application.documents}
    for kind in steps_mod.documents_needed(cat, application.benefits, evidence, today):
        if kind not in uploaded:
            out.append(("documents", str(_l("Upload the documents asked for."))))
            break
    return out


def _number(application: Application) -> str:
    year = (application.submitted_at or clock.now()).year
    return f"ES-{year}-{application.id:07d}"


def submit(session: Session, application: Application, *, actor: Account) -> tuple[Application, bool]:
    """Send the application. Idempotent: a second submit (double click, two tabs) changes nothing.

    Returns the application and whether this call was the one that sent it.
    """
    if application.status != "draft":
        return application, False
    from portal.representation.authority import check_submission, record_submission  # at every submission

    authority = check_submission(session, application, actor=actor)
    issues = problems(application, clock.today())
    if issues:
        raise DomainError(issues[0][1])
    from portal.routing.services import route_application  # the rules in force, as administrators keep them

    try:
        agencies = route_application(session, application)
    except NoRoute:
        from portal.registries.pending import route_when_known  # the address may still come: hold, route then

        agencies = route_when_known(session, application)
        if agencies is None:
            raise DomainError(_l("We cannot tell which agency handles your application. Contact the help line."))
    now = clock.now()
    # Compare-and-set: only one of two simultaneous submits moves the draft.
    result = session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == "draft")
        .values(status="submitted", submitted_at=now, current_step="check")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(application)
        return application, False
    session.refresh(application)
    application.number = _number(application)
    for code in application.benefits:
        claim = Claim(application=application, benefit_code=code, agency_code=agencies[code] or "",
                      status=st.SUBMITTED if agencies[code] else st.AWAITING_DATA)
        session.add(claim)
    from portal.backoffice import cases as agency_cases

    agency_cases.open_cases(session, application)  # one case per responsible agency
    from portal.assessment import services as eligibility  # results kept with each claim, cross-checks, risk

    eligibility.at_submission(session, application, actor=actor)
    _event(session, application, st.SUBMITTED, actor=actor)
    from portal.registries.pending import hold

    hold(session, application)  # which data is still pending; the claims waiting for the address
    audit.record(session, "application_submitted", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="application", object_id=application.ref, number=application.number,
                 agencies=sorted({a for a in agencies.values() if a}))
    record_submission(session, application, authority)  # who sent it for whom (portal.representation)
    notify(session, application.applicant, "application_submitted",
           {"number": application.number, "benefits": list(application.benefits)}, application=application)
    session.flush()
    return application, True


# --- the agency's side and the citizen's answers -------------------------------

def _move(session: Session, claim: Claim, target: str, *, actor: Account, party: str, note: str | None) -> None:
    current = claim.status
    st.check(current, target, party)
    result = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status == current)
        .values(status=target, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("Someone else changed this application at the same time. Reload the page."))
    session.refresh(claim)
    _event(session, claim.application, target, actor=actor, claim=claim, from_status=current, note=note)


def _require_agency(claim: Claim, actor: Account) -> None:
    if claim.agency_code not in actor.agencies_for("case_worker", "supervisor"):
        raise NotAllowed(_l("This application is handled by another agency."))


def record_case_view(session: Session, claim: Claim, *, actor: Account) -> None:
    """Every opening of a case file by staff is logged: who, which person's data, for which agency."""
    _require_agency(claim, actor)
    audit.record(session, "case_viewed", actor_idnp=actor.idnp, subject_idnp=claim.application.applicant.idnp,
                 object_type="claim", object_id=claim.ref, agency=claim.agency_code)


def record_document_download(session: Session, claim: Claim, document: Document, *, actor: Account) -> None:
    _require_agency(claim, actor)
    audit.record(session, "document_downloaded", actor_idnp=actor.idnp,
                 subject_idnp=claim.application.applicant.idnp, object_type="document", object_id=document.ref)


def record_own_document_download(session: Session, application: Application, document: Document, *,
                                 actor: Account) -> None:
    """The applicant (or whoever filled the application in) downloads a document: logged like any reading."""
    audit.record(session, "document_downloaded", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="document", object_id=document.ref, application=application.ref)


def open_case(session: Session, claim: Claim, *, actor: Account) -> None:
    """A case worker takes the case: it is assigned to them and goes under review."""
    _require_agency(claim, actor)
    if claim.status in (st.SUBMITTED, st.INFO_PROVIDED):
        if claim.assigned_to_id is None:
            claim.assigned_to_id = actor.id
        _move(session, claim, st.IN_REVIEW, actor=actor, party=st.STAFF, note=None)
        notify(session, claim.application.applicant, "status_changed",
               {"number": claim.application.number, "benefit": claim.benefit_code, "status": st.IN_REVIEW},
               application=claim.application)


def request_information(session: Session, claim: Claim, *, actor: Account, question: str) -> None:
    _require_agency(claim, actor)
    question = (question or "").strip()
    if not question:
        raise DomainError(_l("Write what the applicant must tell or send you."))
    _move(session, claim, st.INFO_REQUESTED, actor=actor, party=st.STAFF, note=question)
    from portal.backoffice import cases as agency_cases

    agency_cases.on_info_requested(session, claim)  # the deadline pauses while the citizen is asked
    notify(session, claim.application.applicant, "info_requested",
           {"number": claim.application.number, "benefit": claim.benefit_code, "question": question},
           application=claim.application)


def decide(session: Session, claim: Claim, *, actor: Account, decision: str, reason: str,
           notice: dict | None = None) -> None:
    """Approve or reject a claim. ``notice``: more params for the decision notice (the letter's address)."""
    _require_agency(claim, actor)
    if decision not in (st.APPROVED, st.REJECTED):
        raise DomainError(_l("Choose approve or reject."))
    reason = (reason or "").strip()
    if decision == st.REJECTED and not reason:
        raise DomainError(_l("Give the reason for the rejection: the applicant will read it."))
    _move(session, claim, decision, actor=actor, party=st.STAFF, note=reason or None)
    claim.decision_reason = reason or None
    claim.decided_at = clock.now()
    audit.record(session, "claim_decided", actor_idnp=actor.idnp, subject_idnp=claim.application.applicant.idnp,
                 object_type="claim", object_id=claim.ref, decision=decision)
    notify(session, claim.application.applicant, "decision_made",
           {"number": claim.application.number, "benefit": claim.benefit_code, "decision": decision,
            "reason": reason, **(notice or {})}, application=claim.application)
    from portal.backoffice import cases as agency_cases

    agency_cases.on_decided(session, claim)


def answer_information(session: Session, application: Application, *, actor: Account, answer: str) -> list[Claim]:
    """The citizen answers every open request for information on their application."""
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_l("Write your answer."))
    waiting = [c for c in application.claims if c.status == st.INFO_REQUESTED]
    if not waiting:
        raise DomainError(_l("Nobody is waiting for an answer on this application."))
    from portal.backoffice import cases as agency_cases

    for claim in waiting:
        _move(session, claim, st.INFO_PROVIDED, actor=actor, party=st.APPLICANT, note=answer[:4000])
        agency_cases.on_info_provided(session, claim)
        notify(session, application.applicant, "status_changed",  # the answer reached the agency
               {"number": application.number, "benefit": claim.benefit_code, "status": st.INFO_PROVIDED},
               application=application)
    audit.record(session, "information_provided", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="application", object_id=application.ref)
    return waiting
