"""Whether an actor may act for a person now, and on what basis.

Checked when acting starts, on every request that shows the person's data (:mod:`.context`), when an
application is started, and again at every submission: a mandate revoked a minute ago, a guardianship
that ended, a child who came of age or an assisted session that ended stop the next submission.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.assisted.models import ACTIVE, OPEN, AssistedSession
from portal.audit import services as audit
from portal.core import clock
from portal.core.errors import DomainError, NotAllowed
from portal.representation import rules
from portal.representation.models import Guardianship, Mandate, OnBehalf

# (parent, child IDNP) -> the child's birth date if the civil status register says it is their minor child.
ParentCheck = Callable[[Account, str], "dt.date | None"]


@dataclass(frozen=True)
class Authority:
    """The actor acts for ``subject`` on ``basis``; ``subject`` is ``None`` while a CUPS visitor is not yet
    identified and consenting (nothing can be done for anyone then)."""

    basis: str  # self | assisted | parent | guardian | mandate
    actor: Account
    subject: Account | None
    mandate: Mandate | None = None
    guardianship: Guardianship | None = None
    visit: AssistedSession | None = None

    @property
    def on_behalf(self) -> bool:
        return self.basis != "self"

    @property
    def channel(self) -> str:
        return rules.CHANNELS[self.basis]

    @property
    def services(self) -> set[str] | None:
        """The benefits the actor may apply for on this basis (``None``: any)."""
        return set(self.mandate.services or []) if self.mandate is not None else None

    @property
    def until(self) -> dt.date | None:
        if self.mandate is not None:
            return self.mandate.valid_until
        if self.guardianship is not None:
            return self.guardianship.valid_until
        return None

    @property
    def centre_code(self) -> str | None:
        return self.visit.centre_code if self.visit is not None else None


# --- lookups ----------------------------------------------------------------------------------------------

def mandates_to(session: Session, grantee_idnp: str, today: dt.date) -> list[Mandate]:
    rows = session.scalars(select(Mandate).where(Mandate.grantee_idnp == grantee_idnp).order_by(Mandate.id))
    return [m for m in rows if rules.mandate_in_force(m.valid_from, m.valid_until, m.revoked_at, m.renounced_at,
                                                      today)]


def guardianships_of(session: Session, guardian_idnp: str, today: dt.date) -> list[Guardianship]:
    rows = session.scalars(select(Guardianship).where(Guardianship.guardian_idnp == guardian_idnp)
                           .order_by(Guardianship.id))
    return [g for g in rows if rules.guardianship_in_force(g.valid_from, g.valid_until, g.ended_at, today)]


def open_visit_of(session: Session, specialist: Account) -> AssistedSession | None:
    """The specialist's visit in progress, if any (at most one is open at a time)."""
    return session.scalar(select(AssistedSession).where(
        AssistedSession.specialist_id == specialist.id, AssistedSession.status.in_(OPEN),
        AssistedSession.ended_at.is_(None)).order_by(AssistedSession.id.desc()).limit(1))


def consent_in_force(session: Session, ref: str | None) -> bool:
    if not ref:
        return False
    from portal.privacy.models import Consent  # the consent records of portal.privacy

    consent = session.scalar(select(Consent).where(Consent.ref == ref))
    return consent is not None and consent.active_at(clock.now())


def find(session: Session, actor: Account, subject: Account, *, benefits: list[str] | None, today: dt.date,
         parent_check: ParentCheck | None = None) -> Authority | None:
    """The first basis on which ``actor`` may act for ``subject`` for ``benefits`` today, or ``None``.

    ``parent_check`` asks the civil status register (it is only called when nothing else applies).
    """
    if actor.id == subject.id:
        return Authority("self", actor, actor)
    visit = open_visit_of(session, actor)
    if visit is not None:
        # A specialist serving a visitor acts for that visitor and nobody else.
        if visit.status == ACTIVE and visit.visitor_id == subject.id and consent_in_force(session, visit.consent_ref):
            return Authority("assisted", actor, subject, visit=visit)
        return None
    for g in guardianships_of(session, actor.idnp, today):
        if g.ward_idnp == subject.idnp:
            return Authority("guardian", actor, subject, guardianship=g)
    for m in mandates_to(session, actor.idnp, today):
        if m.grantor_id == subject.id and rules.covers(m.services, benefits or []):
            return Authority("mandate", actor, subject, mandate=m)
    if parent_check is not None:
        born = parent_check(actor, subject.idnp)
        if born is not None and rules.is_minor(born, today):
            return Authority("parent", actor, subject)
    return None


def registry_parent_check(actor: Account, child_idnp: str) -> dt.date | None:
    """Ask the civil status register now; a register that does not answer stops the action (never assumed)."""
    from portal.registries.client import RegistryError
    from portal.representation.registry import minor_children_of

    try:
        children = minor_children_of(actor, clock.today())
    except RegistryError as exc:
        raise DomainError(_l("We could not confirm with the civil status register that you may act for this "
                             "child. Nothing is lost: try again in a few minutes.")) from exc
    return next((c["birth_date"] for c in children if c["idnp"] == child_idnp), None)


# --- the hooks of portal.applications.services -------------------------------------------------------------

def _no_authority(subject: Account) -> NotAllowed:
    return NotAllowed(_l("You may no longer act for %(name)s: the mandate, guardianship or assisted session has "
                         "ended or does not cover these benefits. The draft is kept: %(name)s can send it "
                         "themselves."), name=subject.full_name or subject.idnp)


def _refuse_self_during_visit(session: Session, actor: Account) -> None:
    if open_visit_of(session, actor) is not None:
        raise NotAllowed(_l("You are serving a visitor: an application made now is the visitor's, never yours. "
                            "End the assisted session to work on your own applications."))


def check_start(session: Session, application: Application, *, actor: Account) -> Authority:
    """When a draft is opened: the actor may act for its applicant for these benefits; record who started it."""
    applicant = application.applicant
    if actor.id == applicant.id:
        _refuse_self_during_visit(session, actor)
        return Authority("self", actor, actor)
    authority = find(session, actor, applicant, benefits=list(application.benefits), today=clock.today(),
                     parent_check=registry_parent_check)
    if authority is None:
        raise _no_authority(applicant)
    application.channel = authority.channel
    if authority.visit is not None:
        application.language = authority.visit.language  # the visitor's, not the specialist's screen language
    elif authority.basis in ("parent", "guardian") and not (application.contact_email or application.contact_phone):
        # A child or a ward rarely has contacts of their own: the notices go to whoever acts for them.
        application.contact_email, application.contact_phone = actor.email or None, actor.phone or None
    session.add(OnBehalf(application_id=application.id, basis=authority.basis, actor_id=actor.id,
                         centre_code=authority.centre_code,
                         assisted_session_id=authority.visit.id if authority.visit else None,
                         mandate_id=authority.mandate.id if authority.mandate else None,
                         guardianship_id=authority.guardianship.id if authority.guardianship else None,
                         consent_ref=authority.visit.consent_ref if authority.visit else None))
    audit.record(session, "application_started_on_behalf", actor_idnp=actor.idnp, subject_idnp=applicant.idnp,
                 object_type="application", object_id=application.ref, basis=authority.basis,
                 centre=authority.centre_code, mandate=authority.mandate.ref if authority.mandate else None)
    session.flush()
    return authority


def check_submission(session: Session, application: Application, *, actor: Account) -> Authority:
    """At every submission, whoever submits: the authority is checked again, now, for every benefit."""
    applicant = application.applicant
    if actor.id == applicant.id:
        _refuse_self_during_visit(session, actor)
        return Authority("self", actor, actor)
    authority = find(session, actor, applicant, benefits=list(application.benefits), today=clock.today(),
                     parent_check=registry_parent_check)
    if authority is None:
        audit.record(session, "submission_refused_no_authority", actor_idnp=actor.idnp,
                     subject_idnp=applicant.idnp, object_type="application", object_id=application.ref)
        raise _no_authority(applicant)
    return authority


def record_submission(session: Session, application: Application, authority: Authority) -> None:
    """After the submission went through: who sent it, on what basis, from which centre."""
    if not authority.on_behalf:
        return
    row = session.scalar(select(OnBehalf).where(OnBehalf.application_id == application.id))
    if row is None:  # started by the applicant, sent by a representative
        row = OnBehalf(application_id=application.id, basis=authority.basis, actor_id=authority.actor.id)
        session.add(row)
    row.submitted_by_id = authority.actor.id
    row.submitted_basis = authority.basis
    row.submitted_centre_code = authority.centre_code
    row.submitted_at = clock.now()
    if authority.visit is not None:
        row.assisted_session_id = row.assisted_session_id or authority.visit.id
        row.consent_ref = authority.visit.consent_ref
    application.channel = authority.channel
    audit.record(session, "application_submitted_on_behalf", actor_idnp=authority.actor.idnp,
                 subject_idnp=application.applicant.idnp, object_type="application", object_id=application.ref,
                 number=application.number, basis=authority.basis, centre=authority.centre_code,
                 mandate=authority.mandate.ref if authority.mandate else None,
                 guardianship=authority.guardianship.ref if authority.guardianship else None,
                 consent=authority.visit.consent_ref if authority.visit else None)
