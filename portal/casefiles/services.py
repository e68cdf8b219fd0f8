"""Household case files: open, assess, plan, visit, note, refer. Services flush, never commit.

A case file belongs to one agency; another agency sees it only while a
referral to it is open or accepted.  Every opening is logged with who and why.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit import services as audit
from portal.casefiles.models import (RISK_LEVELS, CaseFile, CaseNote, HomeVisit, NeedsAssessment, PlanItem,
                                     Referral)
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed

ROLES = ("case_worker", "supervisor")
NEED_AREAS = ("income", "housing", "health", "disability", "children", "education", "employment", "safety")
NEED_LEVELS = ("none", "some", "serious")
PURPOSES = ("assessment", "home_visit", "plan_review", "referral", "supervision", "decision_on_application")
PLAN_STATUSES = ("planned", "in_progress", "done", "cancelled")


def agencies_of(actor: Account) -> set[str]:
    return actor.agencies_for(*ROLES)


def visible_to(session: Session, actor: Account):
    """The case files ``actor`` may open: their agencies' own, and those referred to their agencies."""
    agencies = agencies_of(actor)
    referred = select(Referral.case_file_id).where(Referral.to_agency.in_(agencies),
                                                   Referral.status.in_(("sent", "accepted")))
    return select(CaseFile).where(or_(CaseFile.agency_code.in_(agencies), CaseFile.id.in_(referred)))


def files_for(session: Session, actor: Account) -> list[CaseFile]:
    return list(session.scalars(visible_to(session, actor).order_by(CaseFile.status.desc(), CaseFile.updated_at.desc())))


def file_for(session: Session, ref: str, actor: Account) -> CaseFile | None:
    return session.scalar(visible_to(session, actor).where(CaseFile.ref == ref))


def _require_owner(case_file: CaseFile, actor: Account) -> None:
    if case_file.agency_code not in agencies_of(actor):
        raise NotAllowed(_l("Only the agency that keeps this case file can change it."))


def household_of(application) -> list[dict]:
    """The members of the applicant's household, from the population register's answer."""
    evidence = next((e for e in application.evidence if e.item == "household" and e.status == "fetched"), None)
    members = list((evidence.payload or {}).get("members", [])) if evidence else []
    if not members:
        a = application.applicant
        members = [{"idnp": a.idnp, "first_name": a.first_name, "last_name": a.last_name, "relation": "applicant"}]
    return [{"idnp": m.get("idnp"), "name": f"{m.get('first_name', '')} {m.get('last_name', '')}".strip(),
             "relation": m.get("relation")} for m in members]


def open_for_application(session: Session, application, agency: str, *, actor: Account) -> tuple[CaseFile, bool]:
    """The household's open case file (one per household, whoever opened it), or a new one for ``agency``."""
    if agency not in agencies_of(actor):
        raise NotAllowed(_l("This application is handled by another agency."))
    members = household_of(application)
    idnps = [m["idnp"] for m in members if m.get("idnp")]
    existing = session.scalar(select(CaseFile).where(CaseFile.status == "open", CaseFile.reference_idnp.in_(idnps)))
    if existing is not None:
        return existing, False
    case_file = CaseFile(reference_idnp=application.applicant.idnp, reference_name=application.applicant.full_name,
                         members=members, raion_code=application.raion_code, agency_code=agency,
                         application_id=application.id, opened_by_id=actor.id)
    session.add(case_file)
    session.flush()
    audit.record(session, "case_file_created", actor_idnp=actor.idnp, subject_idnp=case_file.reference_idnp,
                 object_type="case_file", object_id=case_file.ref, agency=agency)
    return case_file, True


def record_opening(session: Session, case_file: CaseFile, *, actor: Account, purpose: str, note: str = "") -> None:
    """Every opening of a case file: who, whose household, and why."""
    if purpose not in PURPOSES:
        raise DomainError(_l("Say why you open this case file."))
    audit.record(session, "case_file_opened", actor_idnp=actor.idnp, subject_idnp=case_file.reference_idnp,
                 object_type="case_file", object_id=case_file.ref, purpose=purpose, note=(note or "")[:500],
                 agency=case_file.agency_code)


def set_risk(session: Session, case_file: CaseFile, level: str, *, actor: Account, reason: str) -> None:
    _require_owner(case_file, actor)
    if level not in RISK_LEVELS:
        raise DomainError(_l("Choose a risk level."))
    previous = case_file.risk_level
    case_file.risk_level = level
    session.add(CaseNote(case_file_id=case_file.id, author_id=actor.id,
                         text=f"[{previous} → {level}] {(reason or '').strip()}"[:4000]))
    audit.record(session, "case_file_risk", actor_idnp=actor.idnp, subject_idnp=case_file.reference_idnp,
                 object_type="case_file", object_id=case_file.ref, previous=previous, level=level)
    session.flush()


def assess(session: Session, case_file: CaseFile, areas: dict[str, str], summary: str, *,
           actor: Account) -> NeedsAssessment:
    _require_owner(case_file, actor)
    clean = {a: areas.get(a, "none") for a in NEED_AREAS}
    if any(v not in NEED_LEVELS for v in clean.values()):
        raise DomainError(_l("Choose a level for every area."))
    item = NeedsAssessment(case_file_id=case_file.id, areas=clean, summary=(summary or "").strip()[:8000],
                           assessed_by_id=actor.id)
    session.add(item)
    session.flush()
    return item


def add_plan_item(session: Session, case_file: CaseFile, *, actor: Account, kind: str, description: str,
                  responsible_agency: str, due_on: dt.date | None) -> PlanItem:
    _require_owner(case_file, actor)
    if kind not in ("service", "intervention") or not (description or "").strip():
        raise DomainError(_l("Describe the service or intervention."))
    item = PlanItem(case_file_id=case_file.id, kind=kind, description=description.strip()[:4000],
                    responsible_agency=responsible_agency, due_on=due_on, created_by_id=actor.id)
    session.add(item)
    session.flush()
    return item


def update_plan_item(session: Session, case_file: CaseFile, item_id: int, status: str, *, actor: Account) -> None:
    _require_owner(case_file, actor)
    item = next((p for p in case_file.plan if p.id == item_id), None)
    if item is None or status not in PLAN_STATUSES:
        raise DomainError(_l("Choose a status."))
    item.status = status
    session.flush()


def add_visit(session: Session, case_file: CaseFile, *, actor: Account, visited_on: dt.date, findings: str,
              next_visit_on: dt.date | None) -> HomeVisit:
    _require_owner(case_file, actor)
    if visited_on > clock.today():
        raise DomainError(_l("A visit cannot be recorded before it happens."))
    if not (findings or "").strip():
        raise DomainError(_l("Write what you found."))
    visit = HomeVisit(case_file_id=case_file.id, visited_on=visited_on, visitor_id=actor.id,
                      findings=findings.strip()[:8000], next_visit_on=next_visit_on)
    session.add(visit)
    session.flush()
    return visit


def add_note(session: Session, case_file: CaseFile, text: str, *, actor: Account) -> CaseNote:
    """A note: the keeping agency, and an agency the household was referred to, may write one."""
    if not (text or "").strip():
        raise DomainError(_l("Write the note."))
    note = CaseNote(case_file_id=case_file.id, author_id=actor.id, text=text.strip()[:8000])
    session.add(note)
    session.flush()
    return note


def refer(session: Session, case_file: CaseFile, to_agency: str, reason: str, *, actor: Account) -> Referral:
    from portal.routing.reference import territory

    _require_owner(case_file, actor)
    if to_agency not in territory().agencies or to_agency == case_file.agency_code:
        raise DomainError(_l("Choose another agency."))
    if not (reason or "").strip():
        raise DomainError(_l("Say what the household needs from that agency."))
    referral = Referral(case_file=case_file, from_agency=case_file.agency_code, to_agency=to_agency,
                        reason=reason.strip()[:4000], created_by_id=actor.id)
    session.add(referral)
    session.flush()
    audit.record(session, "referral_sent", actor_idnp=actor.idnp, subject_idnp=case_file.reference_idnp,
                 object_type="referral", object_id=referral.ref, to_agency=to_agency)
    return referral


def answer_referral(session: Session, referral: Referral, accept: bool, note: str, *, actor: Account) -> None:
    if referral.to_agency not in agencies_of(actor):
        raise NotAllowed(_l("This referral was sent to another agency."))
    if referral.status != "sent":
        raise DomainError(_l("This referral was already answered."))
    referral.status = "accepted" if accept else "declined"
    referral.answered_by_id = actor.id
    referral.answered_at = clock.now()
    referral.answer_note = (note or "").strip()[:4000] or None
    audit.record(session, "referral_answered", actor_idnp=actor.idnp,
                 subject_idnp=referral.case_file.reference_idnp, object_type="referral", object_id=referral.ref,
                 status=referral.status)
    session.flush()


def close(session: Session, case_file: CaseFile, reason: str, *, actor: Account) -> None:
    _require_owner(case_file, actor)
    if not (reason or "").strip():
        raise DomainError(_l("Say why the case file is closed."))
    case_file.status = "closed"
    case_file.closed_at = clock.now()
    session.add(CaseNote(case_file_id=case_file.id, author_id=actor.id, text=reason.strip()[:4000]))
    session.flush()
