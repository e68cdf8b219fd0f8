"""Start and stop acting for someone; give, revoke and renounce mandates.  Services add and flush."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.core.i18n import lazy
from portal.core.idnp import is_person_idnp
from portal.representation import authority as auth
from portal.representation import rules
from portal.representation.models import Guardianship, Mandate

MANDATE_CONSENT_VERSION = "esocial-mandate-1"


def _account(session: Session, idnp: str, *, first_name: str, last_name: str, birth_date: dt.date | None,
             language: str) -> Account:
    """The account of a person acted for, made from registry data if they never logged in themselves."""
    account = session.scalar(select(Account).where(Account.idnp == idnp))
    if account is None:
        account = Account(idnp=idnp, first_name=first_name, last_name=last_name, birth_date=birth_date,
                          language=language)
        session.add(account)
        session.flush()
    return account


# --- whom a person may act for -----------------------------------------------------------------------------

def choices(session: Session, actor: Account, *, today: dt.date, children: list[dict] | None) -> dict:
    """Everyone ``actor`` may act for today: children (as the civil status register gave them), wards,
    grantors of mandates in force, and the mandates the actor gave (to show and revoke)."""
    mandates = auth.mandates_to(session, actor.idnp, today)
    return {
        "children": children or [],
        "wards": auth.guardianships_of(session, actor.idnp, today),
        "mandates": mandates,
    }


def act_for_child(session: Session, actor: Account, child_idnp: str, *, children: list[dict],
                  language: str) -> tuple[auth.Authority, dt.date]:
    """``children``: the actor's minor children just read from the civil status register."""
    child = next((c for c in children if c["idnp"] == child_idnp), None)
    if child is None:
        raise NotAllowed(_l("The civil status register does not show this person as your minor child."))
    subject = _account(session, child_idnp, first_name=child["first_name"], last_name=child["last_name"],
                       birth_date=child["birth_date"], language=language)
    authority = auth.Authority("parent", actor, subject)
    _started(session, authority)
    return authority, child["birth_date"]


def act_for_ward(session: Session, actor: Account, ref: str, *, today: dt.date, language: str) -> auth.Authority:
    g = next((g for g in auth.guardianships_of(session, actor.idnp, today) if g.ref == ref), None)
    if g is None:
        raise NotAllowed(_l("No guardianship in force names you as this person's guardian."))
    subject = _account(session, g.ward_idnp, first_name=g.ward_first_name, last_name=g.ward_last_name,
                       birth_date=g.ward_birth_date, language=language)
    authority = auth.Authority("guardian", actor, subject, guardianship=g)
    _started(session, authority)
    return authority


def act_under_mandate(session: Session, actor: Account, ref: str, *, today: dt.date) -> auth.Authority:
    m = next((m for m in auth.mandates_to(session, actor.idnp, today) if m.ref == ref), None)
    if m is None:
        raise NotAllowed(_l("This mandate is not in force: it ended, was revoked, or is not given to you."))
    authority = auth.Authority("mandate", actor, m.grantor, mandate=m)
    _started(session, authority)
    return authority


def _started(session: Session, authority: auth.Authority) -> None:
    audit.record(session, "acting_started", actor_idnp=authority.actor.idnp, subject_idnp=authority.subject.idnp,
                 object_type="representation", object_id=(authority.mandate.ref if authority.mandate else
                                                          authority.guardianship.ref if authority.guardianship
                                                          else None), basis=authority.basis)


def stop_acting(session: Session, authority: auth.Authority) -> None:
    if authority.on_behalf and authority.subject is not None:
        audit.record(session, "acting_stopped", actor_idnp=authority.actor.idnp,
                     subject_idnp=authority.subject.idnp, object_type="representation", basis=authority.basis)


# --- mandates --------------------------------------------------------------------------------------------------

def grant_mandate(session: Session, grantor: Account, *, grantee_idnp: str, services: list[str],
                  valid_until: dt.date, language: str, today: dt.date | None = None,
                  grantee_record: dict | None = None) -> Mandate:
    """``grantor`` gives ``grantee_idnp`` a mandate for ``services`` until ``valid_until`` (inclusive).

    ``grantee_record``: the population register's identity of the grantee (names), checked by the caller.
    """
    from portal.applications.services import catalogue

    today = today or clock.today()
    grantee_idnp = (grantee_idnp or "").strip()
    if not is_person_idnp(grantee_idnp):
        raise DomainError(_l("Enter the representative's 13-digit IDNP."))
    if grantee_idnp == grantor.idnp:
        raise DomainError(_l("You cannot give a mandate to yourself."))
    if grantee_record is None:
        raise DomainError(_l("The population register does not know this IDNP. Check it with your representative."))
    unknown = [s for s in services if s not in catalogue().benefits]
    if not services or unknown:
        raise DomainError(_l("Choose the services the mandate covers."))
    problem = rules.mandate_end_problem(valid_until, today)
    if problem == "past" or problem == "missing":
        raise DomainError(_l("The end date must be after today."))
    if problem == "too_far":
        raise DomainError(lazy(lambda: ngettext("A mandate can last at most %(num)s year.",
                                                "A mandate can last at most %(num)s years.", rules.MAX_MANDATE_YEARS)))
    from portal.privacy import consent as consents

    name = f"{grantee_record.get('first_name', '')} {grantee_record.get('last_name', '')}".strip()
    consent = consents.give(
        session, subject_idnp=grantor.idnp, kind=consents.MANDATE, purpose="representation", recorded_by=grantor,
        granted_to_idnp=grantee_idnp, scope={"services": sorted(services), "valid_until": valid_until.isoformat()},
        text_version=MANDATE_CONSENT_VERSION, language=language, method="mpass",
        evidence="given by the grantor logged in with MPass",
        expires_at=dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc))
    mandate = Mandate(grantor_id=grantor.id, grantee_idnp=grantee_idnp, grantee_name=name,
                      services=sorted(services), valid_from=today, valid_until=valid_until, consent_ref=consent.ref)
    session.add(mandate)
    session.flush()
    audit.record(session, "mandate_granted", actor_idnp=grantor.idnp, subject_idnp=grantor.idnp,
                 object_type="mandate", object_id=mandate.ref, grantee=grantee_idnp, services=sorted(services),
                 valid_until=valid_until.isoformat(), consent=consent.ref)
    return mandate


def _consent_ends(session: Session, mandate: Mandate, actor: Account) -> None:
    if not mandate.consent_ref:
        return
    from portal.privacy import consent as consents
    from portal.privacy.models import Consent

    consent = session.scalar(select(Consent).where(Consent.ref == mandate.consent_ref))
    if consent is not None:
        consents.revoke(session, consent, actor=actor)


def revoke_mandate(session: Session, mandate: Mandate, *, actor: Account) -> Mandate:
    """The grantor revokes the mandate: it stops at once, for the next page and the next submission."""
    if mandate.grantor_id != actor.id:
        raise NotAllowed(_l("Only the person who gave a mandate can revoke it."))
    if mandate.revoked_at is None:
        mandate.revoked_at = clock.now()
        _consent_ends(session, mandate, actor)
        audit.record(session, "mandate_revoked", actor_idnp=actor.idnp, subject_idnp=actor.idnp,
                     object_type="mandate", object_id=mandate.ref, grantee=mandate.grantee_idnp)
    return mandate


def renounce_mandate(session: Session, mandate: Mandate, *, actor: Account) -> Mandate:
    """The representative gives the mandate up."""
    if mandate.grantee_idnp != actor.idnp:
        raise NotAllowed(_l("Only the representative can renounce a mandate."))
    if mandate.renounced_at is None and mandate.revoked_at is None:
        mandate.renounced_at = clock.now()
        _consent_ends(session, mandate, actor)
        audit.record(session, "mandate_renounced", actor_idnp=actor.idnp, subject_idnp=mandate.grantor.idnp,
                     object_type="mandate", object_id=mandate.ref)
    return mandate


def mandates_given(session: Session, grantor: Account) -> list[Mandate]:
    return list(session.scalars(select(Mandate).where(Mandate.grantor_id == grantor.id).order_by(Mandate.id.desc())))


def mandate_of(session: Session, ref: str) -> Mandate:
    from flask import abort

    m = session.scalar(select(Mandate).where(Mandate.ref == ref))
    if m is None:
        abort(404)
    return m


def register_guardianship(session: Session, *, guardian_idnp: str, ward_idnp: str, ward_first_name: str,
                          ward_last_name: str, ward_birth_date: dt.date | None, authority: str,
                          decision_number: str, decided_on: dt.date, valid_from: dt.date,
                          valid_until: dt.date | None = None, kind: str = "guardianship") -> Guardianship:
    """Record a guardianship as the guardianship authority decided it (the demo data and tests use this)."""
    existing = session.scalar(select(Guardianship).where(Guardianship.guardian_idnp == guardian_idnp,
                                                         Guardianship.ward_idnp == ward_idnp,
                                                         Guardianship.decision_number == decision_number))
    if existing is not None:
        return existing
    g = Guardianship(guardian_idnp=guardian_idnp, ward_idnp=ward_idnp, ward_first_name=ward_first_name,
                     ward_last_name=ward_last_name, ward_birth_date=ward_birth_date, kind=kind, authority=authority,
                     decision_number=decision_number, decided_on=decided_on, valid_from=valid_from,
                     valid_until=valid_until)
    session.add(g)
    session.flush()
    audit.record(session, "guardianship_recorded", subject_idnp=ward_idnp, object_type="guardianship",
                 object_id=g.ref, guardian=guardian_idnp, decision=decision_number)
    return g
