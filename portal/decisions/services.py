"""Deciding a claim with its letter, and appealing a decision.

The decision moves the claim through the status table
(:func:`portal.applications.services.decide`), keeps what the letter says in a
:class:`Decision`, renders the letter PDF in the applicant's language and
puts the letter's address in the decision notice.  Nothing here commits.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import services as app_services
from portal.applications import status as st
from portal.applications.models import Application, Claim
from portal.audit import services as audit
from portal.backoffice import calendar
from portal.backoffice import cases as case_service
from portal.backoffice.models import OPEN, AgencyCase
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.core.i18n import money
from portal.decisions import letter
from portal.decisions.models import Appeal, Decision
from portal.notifications.services import notify
from portal.routing.reference import territory

PERIODS = ("monthly", "one_off")


def computed_amount(claim: Claim) -> tuple[Decimal | None, str | None, str | None]:
    """The amount, how often it is paid and how it was computed, from the eligibility rules.

    ``(None, None, None)`` when the rules do not judge this benefit eligible with an amount (no rules
    for it, data still missing, or not eligible): then the case worker enters the amount.
    The explanation is in the applicant's language, for the letter.
    """
    from portal.eligibility import ELIGIBLE, RULES, evaluate, inputs_from_application

    application = claim.application
    if claim.benefit_code not in RULES:
        return None, None, None
    on = application.submitted_at.date() if application.submitted_at else clock.today()
    result = evaluate(claim.benefit_code, inputs_from_application(application), on)
    if result.status != ELIGIBLE or result.amount is None:
        return None, None, None
    period = "one_off" if result.frequency == "once" else "monthly"
    lang = application.language or "ro"
    with force_locale(lang):
        try:
            from portal.assessment.explain import Explainer  # the plain-language sentences of each step

            lines = Explainer(app_services.catalogue(), territory(), lang).view(result).calculation
        except ImportError:
            lines = [gettext("%(label)s: %(amount)s", label=step.code, amount=money(step.amount))
                     for step in result.calculation]
    return Decimal(str(result.amount)), period, "\n".join(str(line) for line in lines) or None


def letter_path(application: Application, decision: Decision) -> str:
    return f"/applications/{application.ref}/decisions/{decision.ref}/letter.pdf"


def _number(session: Session, decision: Decision) -> str:
    return f"D-{decision.decided_at.year}-{decision.id:07d}"


def _reason_text(reason_code: str | None, free_text: str, lang: str) -> str:
    reasons = calendar.rules().rejection_reasons
    parts = []
    if reason_code and reason_code in reasons and reason_code != "other":
        parts.append(reasons[reason_code].text_in(lang))
    if free_text:
        parts.append(free_text)
    return "\n".join(parts)


def decide(session: Session, case: AgencyCase, claim: Claim, *, actor: Account, outcome: str,
           amount=None, period: str | None = None, start_date: dt.date | None = None,
           reason_code: str | None = None, text: str = "") -> Decision:
    """Approve (with the amount and the start date) or reject (with a reason) one claim of ``case``."""
    if claim.case_id != case.id:
        raise DomainError(_l("This benefit is not part of this case."))
    case_service._require_case_role(case, actor)
    if case.excluded_worker_id == actor.id and claim.status == st.APPEALED:
        raise NotAllowed(_l("You made the decision under appeal: another worker reviews it."))
    if outcome not in (st.APPROVED, st.REJECTED):
        raise DomainError(_l("Choose approve or reject."))
    application = claim.application
    lang = application.language or "ro"
    benefit = app_services.catalogue().get(claim.benefit_code)
    text = (text or "").strip()
    explanation = None
    if outcome == st.APPROVED:
        if amount in (None, ""):
            amount, computed_period, explanation = computed_amount(claim)
            period = period if amount is None else computed_period
        try:
            amount = Decimal(str(amount)) if amount not in (None, "") else None
        except InvalidOperation:
            amount = None
        if amount is None or amount <= 0:
            raise DomainError(_l("Enter the amount granted."))
        period = period if period in PERIODS else "monthly"
        start_date = start_date or clock.today()
        explanation = "\n".join(x for x in (explanation, text) if x) or None
        reason = text
    else:
        if reason_code and reason_code not in calendar.rules().rejection_reasons:
            raise DomainError(_l("Choose a reason from the list."))
        if not reason_code and not text:
            raise DomainError(_l("Give the reason for the rejection: the applicant will read it."))
        if reason_code == "other" and not text:
            raise DomainError(_l("Explain the reason in your own words."))
        amount = period = start_date = None
        reason = _reason_text(reason_code, text, lang)
    now = clock.now()
    rules = calendar.rules()
    appeal = session.scalar(select(Appeal).where(Appeal.claim_id == claim.id, Appeal.status == "submitted"))
    decision = Decision(claim_id=claim.id, case_id=case.id, agency_code=case.agency_code, outcome=outcome,
                        amount=amount, period=period, start_date=start_date, reason_code=reason_code,
                        reason_text=reason if outcome == st.REJECTED else None, explanation=explanation,
                        legal_basis=benefit.legal_basis, language=lang, decided_by_id=actor.id, decided_at=now,
                        appeal_until=now.date() + dt.timedelta(days=rules.appeal_days),
                        on_appeal_id=appeal.id if appeal else None)
    session.add(decision)
    session.flush()
    decision.number = _number(session, decision)
    app_services.decide(session, claim, actor=actor, decision=outcome, reason=reason,
                        notice={"letter_path": letter_path(application, decision),
                                "appeal_until": decision.appeal_until.isoformat()})
    if appeal is not None:
        appeal.status = "resolved"
        appeal.resolved_at = now
    decision.letter_pdf = letter.render(letter_data(decision, claim, actor))
    decision.letter_sha256 = letter.digest(decision.letter_pdf)
    audit.record(session, "decision_issued", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="decision", object_id=decision.number, claim=claim.ref, outcome=outcome,
                 amount=str(amount) if amount is not None else None, letter_sha256=decision.letter_sha256)
    session.flush()
    return decision


def letter_data(decision: Decision, claim: Claim, decided_by: Account) -> letter.LetterData:
    application = claim.application
    terr = territory()
    lang = decision.language
    agency = terr.agencies.get(decision.agency_code)
    seat = terr.raions.get(agency.seat) if agency else None
    with force_locale(lang):
        benefit = app_services.catalogue().get(claim.benefit_code).title_in(lang)
    return letter.LetterData(
        language=lang, number=decision.number or "", decided_on=decision.decided_at.date(),
        agency=agency.name_in(lang) if agency else decision.agency_code,
        agency_seat=seat.name_in(lang) if seat else "",
        applicant_name=application.applicant.full_name, applicant_idnp=application.applicant.idnp,
        application_number=application.number or "", benefit=benefit, outcome=decision.outcome,
        amount=decision.amount, period=decision.period, start_date=decision.start_date,
        reason=decision.reason_text, explanation=decision.explanation, legal_basis=decision.legal_basis,
        appeal_until=decision.appeal_until, appeal_legal_basis=calendar.rules().appeal_legal_basis,
        decided_by=decided_by.full_name, on_appeal=decision.on_appeal_id is not None)


# --- reading ---------------------------------------------------------------------------------------------------

def decisions_of(session: Session, application: Application) -> list[Decision]:
    claim_ids = [c.id for c in application.claims]
    if not claim_ids:
        return []
    return list(session.scalars(select(Decision).where(Decision.claim_id.in_(claim_ids))
                                .order_by(Decision.decided_at.desc(), Decision.id.desc())))


def latest_for_claim(session: Session, claim: Claim) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.claim_id == claim.id)
                          .order_by(Decision.id.desc()).limit(1))


def open_appeal(session: Session, claim: Claim) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.claim_id == claim.id, Appeal.status == "submitted"))


def can_appeal(session: Session, decision: Decision, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    claim = decision.claim
    return (today <= decision.appeal_until and claim.status in st.FINAL
            and latest_for_claim(session, claim).id == decision.id
            and open_appeal(session, claim) is None
            and decision.on_appeal_id is None)  # a decision on an appeal goes to court, not to a second appeal


def prefilled_grounds(decision: Decision, lang: str) -> str:
    """The start of the appeal, from the decision: the citizen completes it."""
    from flask_babel import gettext

    with force_locale(lang):
        benefit = app_services.catalogue().get(decision.claim.benefit_code).title_in(lang)
        from babel.dates import format_date

        return gettext("I contest decision no. %(number)s of %(date)s on %(benefit)s, because ",
                       number=decision.number, date=format_date(decision.decided_at.date(), "long", locale=lang),
                       benefit=benefit)


# --- appeals ---------------------------------------------------------------------------------------------------

def _reviewer(session: Session, agency: str, author_id: int) -> Account | None:
    """A case worker other than the author, the least busy first; else a supervisor other than the author."""
    workers = [a for a in case_service.staff_of(session, agency, roles=("case_worker",)) if a.id != author_id]
    if workers:
        load = dict(session.execute(
            select(AgencyCase.assigned_to_id, func.count()).where(AgencyCase.status != "closed",
                                                                   AgencyCase.assigned_to_id.in_([w.id for w in workers]))
            .group_by(AgencyCase.assigned_to_id)).all())
        return min(workers, key=lambda w: (load.get(w.id, 0), w.id))
    supervisors = [a for a in case_service.staff_of(session, agency, roles=("supervisor",)) if a.id != author_id]
    return supervisors[0] if supervisors else None


def appeal(session: Session, decision: Decision, *, actor: Account, grounds: str) -> Appeal:
    """The citizen contests ``decision``: the claim goes back to the agency, to another worker."""
    claim = decision.claim
    application = claim.application
    if actor.id not in (application.applicant_id, application.created_by_id):
        raise NotAllowed(_l("You cannot make this change to the application."))
    grounds = (grounds or "").strip()
    if len(grounds) < 10:
        raise DomainError(_l("Say why you disagree with the decision."))
    if clock.today() > decision.appeal_until:
        raise DomainError(_l("The time to appeal this decision ended on %(date)s."), date=decision.appeal_until)
    if not can_appeal(session, decision):
        raise DomainError(_l("This decision cannot be appealed here any more."))
    app_services._move(session, claim, st.APPEALED, actor=actor, party=st.APPLICANT, note=grounds[:4000])
    case = session.get(AgencyCase, claim.case_id) if claim.case_id else None
    reviewer = None
    if case is not None:
        rules = calendar.rules()
        reviewer = _reviewer(session, case.agency_code, decision.decided_by_id)
        case.status = OPEN
        case.closed_at = None
        case.excluded_worker_id = decision.decided_by_id
        case.assigned_to_id = reviewer.id if reviewer else None
        case.assigned_at = clock.now() if reviewer else None
        case.escalated_at = None
        case.due_on = rules.calendar.add_working_days(clock.today(), rules.appeal_review_working_days)
        claim.assigned_to_id = case.assigned_to_id
    item = Appeal(decision_id=decision.id, claim_id=claim.id, case_id=case.id if case else None,
                  grounds=grounds[:8000], reviewer_id=reviewer.id if reviewer else None,
                  submitted_by_id=actor.id)
    session.add(item)
    session.flush()
    audit.record(session, "appeal_submitted", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="appeal", object_id=item.ref, decision=decision.number,
                 reviewer=reviewer.idnp if reviewer else None)
    notify(session, application.applicant, "status_changed",
           {"number": application.number, "benefit": claim.benefit_code, "status": st.APPEALED},
           application=application)
    if reviewer is not None and case is not None:
        notify(session, reviewer, "appeal_assigned",
               {"number": application.number, "benefit": claim.benefit_code, "case_ref": case.ref})
    return item
