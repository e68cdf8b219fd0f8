"""Eligibility with a memory: results kept at submission, re-run when data changes, flags, reviews, offers.

Every function takes the session (and the acting account where someone acts), adds and flushes,
and never commits.  The rules themselves are :mod:`portal.eligibility` (pure); this module
gathers what they need from the database and keeps what they said.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications.models import Application, Claim
from portal.assessment.models import CLEARED, OPEN, RESOLVED, ClaimAssessment, ClaimKey, RiskFlag
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.eligibility import RULES, Inputs, Result, evaluate, inputs_from_application, offers
from portal.eligibility import checks
from portal.eligibility.parameters import default_parameters

INACTIVE = (st.REJECTED,)  # claims that no longer count for duplicates and shared addresses


# --- what the rules see --------------------------------------------------------------------------

def judged_on(application: Application) -> dt.date:
    """The date whose parameters apply: the day the application was sent (today for a draft)."""
    return application.submitted_at.date() if application.submitted_at else clock.today()


def stamp(application: Application) -> str:
    """A fingerprint of everything the rules read: evidence, answers and documents."""
    data = {
        "evidence": sorted((e.item, e.status, json.dumps(e.payload, sort_keys=True, default=str),
                            e.confirmed is False) for e in application.evidence),
        "answers": json.dumps(application.answers or {}, sort_keys=True, default=str),
        "documents": sorted(d.kind for d in application.documents),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def results_for(application: Application, on: dt.date | None = None, x: Inputs | None = None
                ) -> dict[str, Result]:
    """The rules of every benefit asked for (that has rules), on the application's date."""
    on = on or judged_on(application)
    x = x or inputs_from_application(application)
    return {code: evaluate(code, x, on) for code in application.benefits if code in RULES}


def offers_for(application: Application, catalogue_codes, today: dt.date | None = None) -> list[Result]:
    """Other benefits of the catalogue the household likely qualifies for, from the data already fetched."""
    x = inputs_from_application(application)
    return [r for r in offers(x, today or clock.today(), exclude=set(application.benefits))
            if r.benefit in catalogue_codes]


# --- at submission and when data changes ------------------------------------------------------------

def at_submission(session: Session, application: Application, *, actor: Account) -> dict[str, Result]:
    """Keep with each claim the result the citizen saw, then run the cross-checks. One call from ``submit``."""
    session.flush()  # the claims get their ids
    with session.no_autoflush:  # one flush at the end, not one per query
        on = judged_on(application)
        x = inputs_from_application(application)
        results = results_for(application, on, x)
        fingerprint = stamp(application)
        for claim in application.claims:
            result = results.get(claim.benefit_code)
            if result is None:
                continue
            session.add(ClaimAssessment(claim=claim, benefit_code=claim.benefit_code, judged_on=on,
                                        submitted_result=result.to_dict(), submitted_stamp=fingerprint,
                                        current_stamp=fingerprint, checked_at=clock.now()))
        audit.record(session, "eligibility_assessed", actor_idnp=actor.idnp,
                     subject_idnp=application.applicant.idnp, object_type="application", object_id=application.ref,
                     on=on.isoformat(), results={code: r.status for code, r in results.items()})
        _check(session, application, x, results, on, reciprocal=True, fresh=True)
    session.flush()
    return results


def recheck(session: Session, application: Application) -> bool:
    """Run the rules and the cross-checks again if the evidence or answers changed. Returns whether they did.

    Call it after storing new registry data for a sent application (the ``eligibility.recheck``
    sweep calls it for every open application whose evidence arrived after its last check).
    """
    assessments = _assessments(session, application)
    fingerprint = stamp(application)
    # Checked up to the newest evidence, even if a registry's clock runs ahead of ours (else the sweep repeats).
    now = max([clock.now()] + [e.fetched_at for e in application.evidence if e.fetched_at])
    if assessments and all(a.current_stamp == fingerprint for a in assessments.values()):
        for a in assessments.values():
            a.checked_at = now
        return False
    on = judged_on(application)
    x = inputs_from_application(application)
    results = results_for(application, on, x)
    for claim in application.claims:
        a, result = assessments.get(claim.id), results.get(claim.benefit_code)
        if a is None or result is None:
            continue
        a.current_result = None if fingerprint == a.submitted_stamp else result.to_dict()
        a.current_stamp = fingerprint
        a.checked_at = now
    _check(session, application, x, results, on, reciprocal=True)
    return True


def _assessments(session: Session, application: Application) -> dict[int, ClaimAssessment]:
    ids = [c.id for c in application.claims]
    if not ids:
        return {}
    return {a.claim_id: a for a in session.scalars(select(ClaimAssessment).where(ClaimAssessment.claim_id.in_(ids)))}


def _store_keys(session: Session, application: Application, x: Inputs, on: dt.date, *, replace: bool
                ) -> list[dict]:
    """Replace the application's keys (one Core INSERT: a submission must stay quick)."""
    if replace:
        session.execute(delete(ClaimKey).where(ClaimKey.application_id == application.id)
                        .execution_options(synchronize_session=False))
    rows = []
    for claim in application.claims:
        if claim.benefit_code not in RULES:
            continue
        for kind, value in checks.keys_for(claim.benefit_code, x, on):
            rows.append({"claim_id": claim.id, "application_id": application.id, "benefit_code": claim.benefit_code,
                         "kind": kind, "digest": checks.digest(kind, value),
                         "idnp": value if kind in checks.PERSON_KINDS else None,
                         "applicant_idnp": application.applicant.idnp,
                         "created_at": application.submitted_at or clock.now()})
    if rows:
        session.execute(insert(ClaimKey), rows)
    return rows


def _others(session: Session, application: Application, digests: list[str]):
    """Keys of other applications' active claims with one of ``digests``."""
    if not digests:
        return []
    return session.execute(
        select(ClaimKey, Claim.status, Application.number)
        .join(Claim, Claim.id == ClaimKey.claim_id)
        .join(Application, Application.id == ClaimKey.application_id)
        .where(ClaimKey.digest.in_(digests), ClaimKey.application_id != application.id,
               Claim.status.not_in(INACTIVE))
    ).all()


def _check(session: Session, application: Application, x: Inputs, results: dict[str, Result], on: dt.date, *,
           reciprocal: bool, fresh: bool = False) -> list[RiskFlag]:
    keys = _store_keys(session, application, x, on, replace=not fresh)
    people = sorted({k["digest"] for k in keys if k["kind"] in checks.PERSON_KINDS})
    matches, touched = [], set()
    for key, status, number in _others(session, application, people):
        matches.append(checks.Match(key.benefit_code, number or "", key.applicant_idnp, key.idnp or "", status))
        touched.add(key.application_id)
    household = {m.idnp for m in x.members} | {application.applicant.idnp}
    lookback = int(default_parameters().on(on).optional("cross_checks.lookback_days", 365))
    since = clock.now() - dt.timedelta(days=lookback)
    counts = {}
    for kind in (checks.ADDRESS, checks.ACCOUNT):
        mine = next((k["digest"] for k in keys if k["kind"] == kind), None)
        others = set()
        if mine:
            others = set(session.scalars(
                select(ClaimKey.applicant_idnp).join(Claim, Claim.id == ClaimKey.claim_id)
                .where(ClaimKey.digest == mine, ClaimKey.application_id != application.id,
                       ClaimKey.created_at >= since, Claim.status.not_in(INACTIVE))))
        counts[kind] = len(others - household) + 1
    found = checks.cross_check(x, results, on, matches=matches, address_applicants=counts[checks.ADDRESS],
                               account_applicants=counts[checks.ACCOUNT])
    flags = _keep_flags(session, application, found)
    if reciprocal:
        for other in session.scalars(select(Application).where(Application.id.in_(touched))):
            if other.status != "draft":
                _check(session, other, inputs_from_application(other), results_for(other), judged_on(other),
                       reciprocal=False)
    return flags


def _keep_flags(session: Session, application: Application, found: list[checks.Flag]) -> list[RiskFlag]:
    existing = {(f.claim_id, f.key): f for f in session.scalars(
        select(RiskFlag).where(RiskFlag.application_id == application.id))}
    seen = set()
    kept = []
    for claim in application.claims:
        for flag in found:
            if flag.benefit not in (None, claim.benefit_code):
                continue
            row = existing.get((claim.id, flag.key))
            if row is None:
                row = RiskFlag(claim_id=claim.id, application_id=application.id, key=flag.key, status=OPEN,
                               raised_at=clock.now())
                session.add(row)
                existing[(claim.id, flag.key)] = row
            elif row.status == RESOLVED:
                row.status = OPEN  # found again
                row.raised_at = clock.now()
            row.code, row.severity, row.params = flag.code, flag.severity, _plain(flag.params)
            seen.add((claim.id, flag.key))
            kept.append(row)
    for ident, row in existing.items():
        if ident not in seen and row.status == OPEN:
            row.status = RESOLVED
    _set_risk(session, application.claims, existing.values())
    return kept


def _set_risk(session: Session, claims, flags) -> None:
    severities = defaultdict(list)
    for f in flags:
        if f.status == OPEN:
            severities[f.claim_id].append(f.severity)
    for claim in claims:
        level = checks.risk_level(severities.get(claim.id, ()))
        if claim.risk_level != level:
            claim.risk_level = level


def _plain(params: dict) -> dict:
    return json.loads(json.dumps(params, default=str))


# --- case workers and citizens ----------------------------------------------------------------------

def clear_flag(session: Session, flag: RiskFlag, *, actor: Account, reason: str) -> None:
    """A case worker of the claim's agency clears a flag, saying why (audited)."""
    if flag.claim.agency_code not in actor.agencies_for("case_worker", "supervisor"):
        raise NotAllowed(_l("This application is handled by another agency."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why you clear this flag."))
    if flag.status != OPEN:
        raise DomainError(_l("This flag is no longer open."))
    flag.status = CLEARED
    flag.cleared_by_id = actor.id
    flag.cleared_at = clock.now()
    flag.cleared_reason = reason[:2000]
    session.flush()
    open_flags = session.scalars(select(RiskFlag).where(RiskFlag.claim_id == flag.claim_id))
    _set_risk(session, [flag.claim], open_flags)
    audit.record(session, "risk_flag_cleared", actor_idnp=actor.idnp,
                 subject_idnp=flag.claim.application.applicant.idnp, object_type="claim",
                 object_id=flag.claim.ref, flag=flag.code, severity=flag.severity, reason=flag.cleared_reason)


def request_review(session: Session, application: Application, claim: Claim, *, actor: Account,
                   note: str | None) -> ClaimAssessment:
    """The citizen asks that a person review the automatic pre-assessment of ``claim`` (recorded once)."""
    if claim.application_id != application.id:
        raise DomainError(_l("This benefit is not part of the application."))
    assessment = session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))
    if assessment is None:
        raise DomainError(_l("There is no automatic result to review for this benefit."))
    if assessment.review_requested_at is None:
        assessment.review_requested_at = clock.now()
        assessment.review_requested_by_id = actor.id
        assessment.review_note = (note or "").strip()[:2000] or None
        application.touch()
        audit.record(session, "automated_result_review_requested", actor_idnp=actor.idnp,
                     subject_idnp=application.applicant.idnp, object_type="claim", object_id=claim.ref,
                     benefit=claim.benefit_code)
    return assessment


def add_offered(session: Session, application: Application, benefits: list[str], *, actor: Account,
                catalogue_codes) -> list[str]:
    """Add benefits offered on the check page to the same draft (only those really offered)."""
    from portal.applications import services as applications  # applications.submit calls into this module

    if application.status != "draft":
        raise DomainError(_l("This application has already been sent and can no longer be changed."))
    offered = {r.benefit for r in offers_for(application, catalogue_codes)}
    chosen = [b for b in benefits if b in offered and b not in application.benefits]
    if not chosen:
        raise DomainError(_l("Choose at least one of the benefits offered."))
    applications.choose_benefits(session, application, list(application.benefits) + chosen)
    audit.record(session, "offer_accepted", actor_idnp=actor.idnp, subject_idnp=application.applicant.idnp,
                 object_type="application", object_id=application.ref, benefits=chosen)
    return chosen


def due_for_recheck(session: Session, limit: int = 100) -> list[int]:
    """Sent applications with open claims whose evidence arrived after their last check."""
    from portal.applications.models import Evidence

    newest = (select(Evidence.application_id, func.max(Evidence.fetched_at).label("fetched"))
              .group_by(Evidence.application_id).subquery())
    rows = session.execute(
        select(Claim.application_id).distinct()
        .join(ClaimAssessment, ClaimAssessment.claim_id == Claim.id)
        .join(newest, newest.c.application_id == Claim.application_id)
        .where(Claim.status.not_in(st.FINAL), newest.c.fetched > ClaimAssessment.checked_at)
        .limit(limit)
    ).scalars().all()
    return list(rows)
