"""Assisted sessions at CUPS centres: start (by MPass or by identity document), consent, end.

Services take the session and the acting account, add and flush, and never commit.  Every step is in the
audit trail with the specialist, the visitor and the centre.
"""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Account, LoginSession
from portal.assisted import centres
from portal.assisted.models import ACTIVE, AWAITING_CONSENT, ENDED, IDENTIFYING, OPEN, AssistedSession, new_ref
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.core.idnp import is_person_idnp

ROLE = "cups_specialist"
DOCUMENT_TYPES = {
    "identity_card": _l("Identity card"),
    "passport": _l("Passport"),
    "residence_permit": _l("Residence permit"),
}
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9]{5,20}$")
# A visit nobody touched for this long is ended, so a centre's computer never stays open on a visitor.
IDLE = dt.timedelta(minutes=15)
_TOUCH_EVERY = dt.timedelta(seconds=30)
CONSENT_PURPOSE = "assisted_application"
CONSENT_VERSION = "cups-assisted-1"


def centres_of(specialist: Account) -> list[centres.Centre]:
    """The centres where ``specialist`` holds the CUPS role (reference data order)."""
    codes = specialist.agencies_for(ROLE)
    return [c for code, c in centres.centres().items() if code in codes]


def _require_centre(specialist: Account, centre_code: str) -> centres.Centre:
    centre = centres.get(centre_code)
    if centre is None or centre_code not in specialist.agencies_for(ROLE):
        raise NotAllowed(_l("You are not a specialist of this centre."))
    return centre


def _require_no_open_visit(session: Session, specialist: Account) -> None:
    from portal.representation.authority import open_visit_of

    visit = open_visit_of(session, specialist)
    if visit is not None:
        raise DomainError(_l("Another visit is still open. End it before you start a new one, so that nothing "
                             "of one visitor is shown to the next."))


def _visitor_account(session: Session, idnp: str, *, first_name: str, last_name: str,
                     birth_date: dt.date | None, language: str) -> Account:
    """The visitor's account: the same one they use when they log in with MPass themselves."""
    account = session.scalar(select(Account).where(Account.idnp == idnp))
    if account is None:
        account = Account(idnp=idnp, first_name=first_name, last_name=last_name, birth_date=birth_date,
                          language=language)
        session.add(account)
        session.flush()
    else:
        account.first_name = account.first_name or first_name
        account.last_name = account.last_name or last_name
        account.birth_date = account.birth_date or birth_date
    return account


def _refuse_self(specialist: Account, idnp: str) -> None:
    if idnp == specialist.idnp:
        raise NotAllowed(_l("This is your own IDNP. A specialist never serves themselves: apply from your own "
                            "account outside the centre's desk, or ask a colleague."))


def start_by_document(session: Session, specialist: Account, *, centre_code: str, idnp: str, document_type: str,
                      document_number: str, language: str, login_session_id: str | None) -> AssistedSession:
    """The specialist saw the visitor's identity document; the IDNP is checked with the population register.

    The visit then waits for the signed consent form (:func:`confirm_consent`).
    """
    centre = _require_centre(specialist, centre_code)
    _require_no_open_visit(session, specialist)
    idnp = (idnp or "").strip()
    if not is_person_idnp(idnp):
        raise DomainError(_l("Enter the 13-digit IDNP exactly as it is on the document."))
    _refuse_self(specialist, idnp)
    if document_type not in DOCUMENT_TYPES:
        raise DomainError(_l("Choose the type of identity document."))
    number = re.sub(r"[\s-]", "", document_number or "").upper()
    if not _DOCUMENT_NUMBER.match(number):
        raise DomainError(_l("Enter the document number with letters and digits only, as printed."))
    from portal.registries.client import RegistryError
    from portal.representation.registry import identity

    try:
        record = identity(idnp, actor=specialist, purpose="assisted_identification", role="official",
                          institution=centre.code)
    except RegistryError as exc:
        raise DomainError(_l("The population register does not answer right now, so the visitor cannot be "
                             "identified by document. Try again in a few minutes, or let the visitor log in with "
                             "MPass.")) from exc
    if record is None:
        raise DomainError(_l("The population register does not know this IDNP. Check it against the document."))
    visitor = _visitor_account(session, idnp, first_name=record["first_name"], last_name=record["last_name"],
                               birth_date=dt.date.fromisoformat(record["birth_date"]), language=language)
    visit = AssistedSession(specialist_id=specialist.id, centre_code=centre.code, login_session_id=login_session_id,
                            visitor_id=visitor.id, identified_by="document", document_type=document_type,
                            document_number=number, language=language, status=AWAITING_CONSENT)
    session.add(visit)
    session.flush()
    audit.record(session, "assisted_session_started", actor_idnp=specialist.idnp, subject_idnp=idnp,
                 object_type="assisted_session", object_id=visit.ref, centre=centre.code, identified_by="document",
                 document_type=document_type)
    return visit


def start_by_mpass(session: Session, specialist: Account, *, centre_code: str, language: str,
                   login_session_id: str | None, saml_request_id: str, ref: str | None = None) -> AssistedSession:
    """The visitor will log in with MPass on the centre's computer; :func:`visitor_identified` follows."""
    centre = _require_centre(specialist, centre_code)
    _require_no_open_visit(session, specialist)
    visit = AssistedSession(ref=ref or new_ref(), specialist_id=specialist.id, centre_code=centre.code,
                            login_session_id=login_session_id, identified_by="mpass", language=language, status=IDENTIFYING,
                            saml_request_id=saml_request_id)
    session.add(visit)
    session.flush()
    audit.record(session, "assisted_session_started", actor_idnp=specialist.idnp, object_type="assisted_session",
                 object_id=visit.ref, centre=centre.code, identified_by="mpass")
    return visit


def _record_consent(session: Session, visit: AssistedSession, *, method: str, evidence: str) -> str:
    """The visitor's consent to this visit, in portal.privacy's consent records (audited there)."""
    from portal.privacy import consent

    given = consent.give(session, subject_idnp=visit.visitor.idnp, kind=consent.ASSISTED_SESSION,
                         purpose=CONSENT_PURPOSE, recorded_by=visit.specialist,
                         granted_to_idnp=visit.specialist.idnp, granted_to_org=visit.centre_code,
                         scope={"assisted_session": visit.ref, "benefits": "any"}, text_version=CONSENT_VERSION,
                         language=visit.language, method=method, evidence=evidence[:2000])
    return given.ref


def visitor_identified(session: Session, saml_request_id: str, *, idnp: str, attributes: dict) -> AssistedSession:
    """MPass vouched for the visitor (called by the ACS for a visitor login): the visit becomes active.

    The visitor's login identifies them and is their consent; it opens no session of theirs.
    """
    visit = session.scalar(select(AssistedSession).where(AssistedSession.saml_request_id == saml_request_id))
    if visit is None or visit.status != IDENTIFYING or visit.ended_at is not None:
        raise NotAllowed(_l("This identification does not belong to an open visit."))
    specialist = visit.specialist
    if idnp == specialist.idnp:  # the specialist logged in as themselves: never serve yourself
        audit.record(session, "assisted_self_service_refused", actor_idnp=specialist.idnp, subject_idnp=idnp,
                     object_type="assisted_session", object_id=visit.ref, centre=visit.centre_code)
        _end(session, visit, reason="self")
        return visit
    visitor = _visitor_account(session, idnp, first_name=attributes.get("first_name") or "",
                               last_name=attributes.get("last_name") or "", birth_date=attributes.get("birth_date"),
                               language=visit.language)
    visit.visitor_id = visitor.id
    visit.visitor = visitor
    visit.status = ACTIVE
    visit.last_activity_at = clock.now()
    visit.consent_ref = _record_consent(session, visit, method="mpass",
                                        evidence=f"MPass login of the visitor, SAML request {saml_request_id[:64]}")
    audit.record(session, "assisted_visitor_identified", actor_idnp=specialist.idnp, subject_idnp=idnp,
                 object_type="assisted_session", object_id=visit.ref, centre=visit.centre_code, method="mpass")
    return visit


def confirm_consent(session: Session, visit: AssistedSession, *, specialist: Account) -> AssistedSession:
    """The specialist confirms the visitor signed the printed consent form; the visit becomes active."""
    if visit.specialist_id != specialist.id:
        raise NotAllowed(_l("This visit is another specialist's."))
    if visit.status == ACTIVE:
        return visit
    if visit.status != AWAITING_CONSENT:
        raise DomainError(_l("This visit has ended."))
    doc = f"{visit.document_type} {visit.document_number}; consent form of visit {visit.ref} signed on paper"
    visit.consent_ref = _record_consent(session, visit, method="signed_form", evidence=doc)
    visit.status = ACTIVE
    visit.last_activity_at = clock.now()
    return visit


def _end(session: Session, visit: AssistedSession, *, reason: str) -> None:
    now = clock.now()
    result = session.execute(update(AssistedSession)
                             .where(AssistedSession.id == visit.id, AssistedSession.ended_at.is_(None))
                             .values(status=ENDED, ended_at=now, end_reason=reason)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(visit)
        return
    session.refresh(visit)
    if visit.consent_ref:  # the consent was for this visit only
        from portal.privacy.models import Consent

        consent = session.scalar(select(Consent).where(Consent.ref == visit.consent_ref))
        if consent is not None and (consent.expires_at is None or consent.expires_at > now):
            consent.expires_at = now
    audit.record(session, "assisted_session_ended", actor_idnp=visit.specialist.idnp,
                 subject_idnp=visit.visitor.idnp if visit.visitor else None, object_type="assisted_session",
                 object_id=visit.ref, centre=visit.centre_code, reason=reason)


def end(session: Session, visit: AssistedSession, *, specialist: Account) -> AssistedSession:
    if visit.specialist_id != specialist.id:
        raise NotAllowed(_l("This visit is another specialist's."))
    if visit.ended_at is None:
        _end(session, visit, reason="ended")
    return visit


def visit_of_request(session: Session, actor: Account) -> AssistedSession | None:
    """The open visit of this login session; a visit left in another login session, or idle, is ended now."""
    if not actor.has_role(ROLE):
        return None
    from portal.representation.authority import open_visit_of

    visit = open_visit_of(session, actor)
    if visit is None:
        return None
    now = clock.now()
    if visit.login_session_id != actor.login_session_id:
        _end(session, visit, reason="logout")
        return None
    if now - visit.last_activity_at > IDLE:
        _end(session, visit, reason="idle")
        return None
    if now - visit.last_activity_at > _TOUCH_EVERY:
        visit.last_activity_at = now
    return visit


def visit_for_specialist(session: Session, ref: str, specialist: Account) -> AssistedSession:
    from flask import abort

    visit = session.scalar(select(AssistedSession).where(AssistedSession.ref == ref))
    if visit is None or visit.specialist_id != specialist.id:
        abort(404)
    return visit


def sweep(session: Session, *, now: dt.datetime | None = None) -> int:
    """End visits left idle or whose specialist's login session ended (logout, timeout). Returns how many."""
    now = now or clock.now()
    ended = 0
    for visit in session.scalars(select(AssistedSession).where(AssistedSession.status.in_(OPEN),
                                                              AssistedSession.ended_at.is_(None))).all():
        login = session.get(LoginSession, visit.login_session_id) if visit.login_session_id else None
        if login is None or login.ended_at is not None:
            _end(session, visit, reason="logout")
            ended += 1
        elif now - visit.last_activity_at > IDLE:
            _end(session, visit, reason="idle")
            ended += 1
    return ended


def end_open_visit(session: Session, specialist: Account, *, reason: str) -> None:
    """End the specialist's open visit, if any (idle page, logout)."""
    from portal.representation.authority import open_visit_of

    if not specialist.has_role(ROLE):
        return
    visit = open_visit_of(session, specialist)
    if visit is not None:
        _end(session, visit, reason=reason)
