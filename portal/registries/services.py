"""Services of the registry layer: purposes, who an application's data is about, pending data, notices,
staff readings, rectification requests and offers.

Like every service: they take the session (and the acting account), add and flush, never commit.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications.models import Application, Claim, Evidence, StatusEvent
from portal.core import clock
from portal.core.errors import DomainError
from portal.registries import accesslog
from portal.registries.client import Purpose
from portal.registries.models import (
    ApplicationSubject,
    PendingFetch,
    RectificationRequest,
    RegistryNotice,
)

# Purposes (sent with every query and kept in the data-access log).
APPLICATION = "application"
DATA_SUBJECT_ACCESS = "data_subject_access"
PENDING_DATA = "pending_data"
REGISTRY_EVENT = "registry_event"
PROACTIVE_OFFER = "proactive_offer"
CASE_REVIEW = "case_review"

PURPOSE_TITLES = {
    APPLICATION: _l("your application"),
    DATA_SUBJECT_ACCESS: _l("showing you your own data"),
    PENDING_DATA: _l("completing your application with data a registry could not give at first"),
    REGISTRY_EVENT: _l("updating your open application after a registry reported a change"),
    PROACTIVE_OFFER: _l("checking which benefits you may now receive after a registry reported a change"),
    CASE_REVIEW: _l("examining your application"),
    # portal.representation and portal.assisted (issue 6)
    "representation": _l("checking who may act on your behalf"),
    "assisted_identification": _l("identifying you at a CUPS centre"),
}

DATA_PROTECTION_LAW = "Legea nr. 133/2011 privind protecția datelor cu caracter personal (dreptul de acces)"
INTEROPERABILITY_LAW = "Legea nr. 142/2018 cu privire la schimbul de date și interoperabilitate"

# Errors after which asking the registry again cannot help.
PERMANENT_ERRORS = ("not_found", "unsupported", "rejected")
# Evidence items the rectification requests may concern, and who owns them, come from the catalogue.

MAX_NOTE = 2000


def catalogue():
    from portal.applications.services import catalogue as cat

    return cat()


def legal_basis_of(benefits) -> str:
    cat = catalogue()
    bases = [cat.benefits[b].legal_basis for b in benefits if b in cat.benefits and cat.benefits[b].legal_basis]
    return "; ".join(dict.fromkeys(bases)) or INTEROPERABILITY_LAW


def application_purpose(application: Application, actor: Account, *, purpose: str = APPLICATION,
                        role: str | None = None, institution: str | None = None) -> Purpose:
    """The purpose of a query made for ``application``: by the citizen, by a sweep (``system``) or an official."""
    applicant = application.applicant
    if role is None:  # the applicant, a representative (a citizen too) or staff (a CUPS specialist, an official)
        role = "citizen" if actor.idnp == applicant.idnp or not actor.is_staff else "official"
    return Purpose(purpose=purpose, legal_basis=legal_basis_of(application.benefits), actor_idnp=actor.idnp,
                   application_ref=application.ref, actor_role=role,
                   on_behalf_of=applicant.idnp if actor.idnp != applicant.idnp or role == "system" else None,
                   institution=institution)


def system_purpose(application: Application, purpose: str) -> Purpose:
    """eSocial itself asks, on behalf of the applicant (a sweep completing data, an event being handled)."""
    applicant = application.applicant
    return Purpose(purpose=purpose, legal_basis=legal_basis_of(application.benefits), actor_idnp=applicant.idnp,
                   application_ref=application.ref, actor_role="system", on_behalf_of=applicant.idnp)


# --- whom an application's data is about -----------------------------------------------------------------

def subjects_of(application: Application) -> dict[str, str]:
    """IDNP → relation (applicant, member, child) of everyone whose registry data the application holds."""
    out = {application.applicant.idnp: "applicant"}
    for e in application.evidence:
        if e.status != "fetched" or not isinstance(e.payload, dict):
            continue
        for m in e.payload.get("members", []) or []:
            if isinstance(m, dict) and m.get("idnp"):
                out.setdefault(m["idnp"], "member")
        for c in e.payload.get("children", []) or []:
            if isinstance(c, dict) and c.get("idnp"):
                out.setdefault(c["idnp"], "child")
    return out


def sync_subjects(session: Session, application: Application) -> None:
    if application.id is None:
        session.flush()
    have = {s.idnp for s in session.scalars(select(ApplicationSubject)
                                            .where(ApplicationSubject.application_id == application.id))}
    for idnp, relation in subjects_of(application).items():
        if idnp not in have:
            session.add(ApplicationSubject(application_id=application.id, idnp=idnp, relation=relation))
    session.flush()


def open_applications_about(session: Session, idnps: set[str]) -> list[Application]:
    """Applications whose data concerns one of ``idnps`` and that are still open (a draft or a claim not decided)."""
    if not idnps:
        return []
    by_subject = select(ApplicationSubject.application_id).where(ApplicationSubject.idnp.in_(idnps))
    by_applicant = select(Application.id).join(Account, Application.applicant_id == Account.id).where(
        Account.idnp.in_(idnps))
    candidates = session.scalars(select(Application).where(
        Application.id.in_(by_subject.union(by_applicant).scalar_subquery())).order_by(Application.id)).all()
    return [a for a in candidates if is_open(a)]


def is_open(application: Application) -> bool:
    if application.status == "draft":
        return True
    return any(c.status not in st.FINAL for c in application.claims)


# --- pending data of a sent application --------------------------------------------------------------------

def record_pending(session: Session, application: Application) -> list[PendingFetch]:
    """At submission: remember every item the application needs that no registry has given yet."""
    items = catalogue().items_for(application.benefits)
    evidence = {e.item: e for e in application.evidence}
    existing = {p.item: p for p in session.scalars(select(PendingFetch)
                                                   .where(PendingFetch.application_id == application.id))}
    made = []
    for item, registry in items.items():
        e = evidence.get(item)
        if e is not None and (e.status == "fetched" or (e.error or "") in PERMANENT_ERRORS):
            continue
        row = existing.get(item)
        if row is None:
            row = PendingFetch(application_id=application.id, item=item, registry_code=registry,
                               last_error=e.error if e else None, next_attempt_at=clock.now())
            session.add(row)
        elif row.status in ("done", "failed"):
            row.status, row.attempts, row.next_attempt_at = "waiting", 0, clock.now()
        made.append(row)
    session.flush()
    return made


def address_usable_later(application: Application) -> bool:
    """The address is not here yet but may come: the register did not answer, or answered unusably."""
    address = next((e for e in application.evidence if e.item == "address"), None)
    if address is None:
        return True
    return address.status != "fetched" and (address.error or "") not in PERMANENT_ERRORS


# --- what the case worker should know -------------------------------------------------------------------------

def add_notice(session: Session, application: Application, kind: str, *, registry: str | None = None,
               item: str | None = None, **params) -> RegistryNotice | None:
    """A notice for the case workers of ``application`` (only once it was sent: a draft has no case worker)."""
    if application.status == "draft":
        return None
    notice = RegistryNotice(application=application, kind=kind, registry_code=registry, item=item, params=params)
    session.add(notice)
    return notice


def data_title(item: str, lang: str) -> str:
    from portal.applications.display import data_title as title

    return title(catalogue(), item, lang)


def registry_name(code: str | None, lang: str) -> str:
    from portal.routing.reference import territory

    registry = territory().registries.get(code or "")
    return registry.name_in(lang) if registry else (code or "")


def in_language(application: Application, make) -> str:
    """``make(lang)`` (a lazy string) rendered in the application's language, for its history."""
    from flask_babel import force_locale

    lang = application.language or "ro"
    with force_locale(lang):
        return str(make(lang))


def history(session: Session, application: Application, kind: str, note: str, *, actor: Account | None = None,
            claim: Claim | None = None) -> StatusEvent:
    """An entry in the application's history (kinds are labelled in ``portal.applications.status.LABELS``)."""
    event = StatusEvent(application=application, claim=claim, from_status=None, to_status=kind, actor=actor,
                        note=note[:4000])
    session.add(event)
    application.touch()
    return event


def mark_notices_seen(session: Session, application: Application, *, actor: Account) -> int:
    now = clock.now()
    count = 0
    for n in application.registry_notices:
        if n.seen_at is None:
            n.seen_at, n.seen_by_id = now, actor.id
            count += 1
    return count


def unseen_notices(application: Application) -> list[RegistryNotice]:
    return [n for n in application.registry_notices if n.seen_at is None]


def cases_with_unseen_notices(session: Session, case_refs: list[str]) -> set[str]:
    """Of the back office's cases ``case_refs``, those whose application has notices nobody has seen."""
    if not case_refs:
        return set()
    from portal.backoffice.models import AgencyCase

    rows = session.scalars(select(AgencyCase.ref).join(
        RegistryNotice, RegistryNotice.application_id == AgencyCase.application_id).where(
        AgencyCase.ref.in_(case_refs), RegistryNotice.seen_at.is_(None)).distinct())
    return set(rows)


# --- staff reading a person's registry data ---------------------------------------------------------------

def record_reading(application: Application, *, actor: Account, institution: str, benefits: list[str],
                   reference: str) -> int:
    """Staff opened a page showing the registry data ``benefits`` need: one log entry per person shown.

    ``institution`` is the official's agency; ``reference`` ties the entries to the case (the case ref).
    """
    items = list(catalogue().items_for(benefits))
    evidence = {e.item: e for e in application.evidence}
    shown = [i for i in items if i in evidence and evidence[i].status == "fetched"]
    if not shown:
        return 0
    people: dict[str, list[str]] = {}
    for item in shown:
        payload = evidence[item].payload if isinstance(evidence[item].payload, dict) else {}
        whom = [application.applicant.idnp]
        whom += [m.get("idnp") for m in payload.get("members", []) or [] if isinstance(m, dict)]
        whom += [c.get("idnp") for c in payload.get("children", []) or [] if isinstance(c, dict)]
        for idnp in whom:
            if idnp and item not in people.setdefault(idnp, []):
                people[idnp].append(item)
    basis = legal_basis_of(benefits)
    for idnp, its in people.items():
        accesslog.record(accesslog.AccessEntry(
            kind="reading", actor_idnp=actor.idnp, actor_role="official", institution=institution,
            on_behalf_of_idnp=None, subject_idnp=idnp, purpose=CASE_REVIEW, legal_basis=basis[:500],
            result=accesslog.READ, items=",".join(its)[:255], application_ref=application.ref,
            correlation_id=f"case-{reference}"[:80]))
    return len(people)


# --- rectification: "this is wrong" -------------------------------------------------------------------------

def report_wrong(session: Session, *, account: Account, item: str, note: str, shown: dict | None,
                 shown_at: dt.datetime | None) -> RectificationRequest:
    """Queue a rectification request for the registry that owns ``item``; note it on open applications."""
    cat = catalogue()
    registry = next((b.data[item] for b in cat if item in b.data), None)
    if registry is None:
        raise DomainError(_l("Unknown data item."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("Write what is wrong, so the registry knows what to correct."))
    request = RectificationRequest(subject_idnp=account.idnp, account_id=account.id, registry_code=registry,
                                   item=item, note=note[:MAX_NOTE], shown=shown, shown_at=shown_at)
    session.add(request)
    concerned = [a for a in open_applications_about(session, {account.idnp})
                 if a.applicant_id == account.id and item in cat.items_for(a.benefits)]
    if concerned:
        request.application = concerned[-1]
    for application in concerned:
        history(session, application, "data_reported", in_language(application, lambda lang: _l(
            "%(item)s, reported to %(registry)s: %(note)s", item=data_title(item, lang),
            registry=registry_name(registry, lang), note=note[:MAX_NOTE])), actor=account)
        add_notice(session, application, "data_reported", registry=registry, item=item, note=note[:MAX_NOTE],
                   request_ref=request.ref)
        evidence = next((e for e in application.evidence if e.item == item), None)
        if evidence is not None and application.status == "draft":
            evidence.confirmed = False
            evidence.dispute_note = note[:MAX_NOTE]
    session.flush()
    return request


RECTIFICATION_STATUSES = ("open", "in_progress", "corrected", "rejected")


def answer_rectification(session: Session, request: RectificationRequest, *, actor: Account, status: str,
                         answer: str) -> None:
    """The registry owner's answer to a rectification request."""
    if status not in RECTIFICATION_STATUSES[1:]:
        raise DomainError(_l("Choose what happened to the request."))
    answer = (answer or "").strip()
    if status in ("corrected", "rejected") and not answer:
        raise DomainError(_l("Write the answer the person will read."))
    request.status = status
    request.answer = answer[:MAX_NOTE] or None
    request.handled_by_idnp = actor.idnp
    if request.application is not None and status in ("corrected", "rejected"):
        add_notice(session, request.application, "data_reported", registry=request.registry_code,
                   item=request.item, note=request.note, request_ref=request.ref, outcome=status,
                   answer=request.answer)
    session.flush()


def evidence_of(application: Application, item: str) -> Evidence | None:
    return next((e for e in application.evidence if e.item == item), None)
