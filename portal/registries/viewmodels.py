"""What the registry pages show: "My data", "Who used my data", offers, notices and the registry queue."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Account
from portal.applications import display
from portal.applications.models import Application
from portal.catalogue import Catalogue
from portal.registries import services as reg
from portal.registries.accesslog import ESOCIAL
from portal.registries.models import BenefitOffer, DataAccess, RectificationRequest, RegistryNotice
from portal.registries.prefill import ItemResult
from portal.routing.reference import Territory


def _when(value: dt.datetime | None, fmt: str = "medium") -> str | None:
    return format_datetime(value, format=fmt) if value else None


# --- My data ---------------------------------------------------------------------------------------------------

@dataclass
class MyItem:
    item: str
    title: str
    status: str  # fetched | pending | failed
    rows: list
    received: str | None
    recorded: str | None  # the registry's own time stamp
    error: str | None


@dataclass
class MyRegistry:
    code: str
    name: str
    items: list[MyItem] = field(default_factory=list)


class MyDataView:
    def __init__(self, results: dict[str, ItemResult], catalogue: Catalogue, terr: Territory, lang: str):
        self.registries: list[MyRegistry] = []
        by_code: dict[str, MyRegistry] = {}
        for item, r in results.items():
            registry = by_code.get(r.source)
            if registry is None:
                known = terr.registries.get(r.source)
                registry = by_code[r.source] = MyRegistry(r.source, known.name_in(lang) if known else r.source)
                self.registries.append(registry)
            registry.items.append(MyItem(
                item=item, title=display.data_title(catalogue, item, lang), status=r.status,
                rows=display.rows(item, r.payload, terr, lang) if r.ok else [],
                received=_when(r.fetched_at), recorded=_when(r.retrieved_at), error=r.error))
        self.any_missing = any(i.status != "fetched" for reg_ in self.registries for i in reg_.items)


# --- Who used my data -------------------------------------------------------------------------------------------

ROLE_TEXT = {
    "citizen": _l("at your request"),
    "official": _l("an official"),
    "system": _l("automatically, by eSocial"),
}


@dataclass
class AccessRow:
    when: str
    iso: str
    institution: str
    who: str
    purpose: str
    application: str | None
    data: list[str]
    legal_basis: str
    kind: str  # query | reading
    from_cache: bool


def _institution(code: str, terr: Territory, lang: str) -> str:
    if code == ESOCIAL:
        return str(_l("eSocial (Ministry of Labour and Social Protection)"))
    agency = terr.agencies.get(code)
    return agency.name_in(lang) if agency else code


def _who(entry: DataAccess, subject: Account | None, accounts: dict[str, Account]) -> str:
    if entry.actor_role == "system":
        return str(ROLE_TEXT["system"])
    if subject is not None and entry.actor_idnp == subject.idnp:
        return str(_l("you"))
    actor = accounts.get(entry.actor_idnp)
    name = actor.full_name if actor is not None and actor.full_name else str(_l("a person whose name we do not hold"))
    if entry.actor_role == "official":
        return str(_l("%(name)s, official", name=name))
    return name


class AccessLogView:
    """Accesses to one person's data, grouped: one row per actor, purpose and application within a minute."""

    WINDOW = dt.timedelta(seconds=60)

    def __init__(self, entries: list[DataAccess], subject: Account, accounts: dict[str, Account],
                 applications: dict[str, Application], catalogue: Catalogue, terr: Territory, lang: str):
        self.rows: list[AccessRow] = []
        groups: list[list[DataAccess]] = []
        for e in entries:  # newest first
            last = groups[-1][-1] if groups else None
            if last is not None and (e.actor_idnp, e.institution, e.purpose, e.application_ref, e.kind) == (
                    last.actor_idnp, last.institution, last.purpose, last.application_ref, last.kind) \
                    and last.occurred_at - e.occurred_at <= self.WINDOW:
                groups[-1].append(e)
            else:
                groups.append([e])
        for group in groups:
            first = group[0]
            data: list[str] = []
            for e in reversed(group):
                items = [i for i in (e.items or "").split(",") if i]
                for item in items or [e.service or ""]:
                    title = display.data_title(catalogue, item, lang)
                    if e.registry_code:
                        registry = terr.registries.get(e.registry_code)
                        title = gettext("%(item)s (%(registry)s)", item=title,
                                        registry=registry.name_in(lang) if registry else e.registry_code)
                    if title and title not in data:
                        data.append(title)
            application = applications.get(first.application_ref or "")
            self.rows.append(AccessRow(
                when=format_datetime(first.occurred_at, format="medium"), iso=first.occurred_at.isoformat(),
                institution=_institution(first.institution, terr, lang), who=_who(first, subject, accounts),
                purpose=str(reg.PURPOSE_TITLES.get(first.purpose, first.purpose)),
                application=(application.number or str(_l("a draft"))) if application is not None else None,
                data=data, legal_basis=first.legal_basis, kind=first.kind,
                from_cache=all(e.result == "cached" for e in group)))


# --- rectification requests ------------------------------------------------------------------------------------

STATUS_TEXT = {
    "open": _l("Sent to the registry"),
    "in_progress": _l("The registry is checking it"),
    "corrected": _l("Corrected"),
    "rejected": _l("Not corrected"),
}


@dataclass
class RectificationRow:
    ref: str
    created: str
    registry: str
    item: str
    note: str
    status: str
    status_text: str
    answer: str | None
    subject_name: str
    subject_idnp: str
    shown: list
    application: str | None


def rectification_rows(requests: list[RectificationRequest], catalogue: Catalogue, terr: Territory,
                       lang: str) -> list[RectificationRow]:
    rows = []
    for r in requests:
        registry = terr.registries.get(r.registry_code)
        rows.append(RectificationRow(
            ref=r.ref, created=format_datetime(r.created_at, format="medium"),
            registry=registry.name_in(lang) if registry else r.registry_code,
            item=display.data_title(catalogue, r.item, lang), note=r.note, status=r.status,
            status_text=str(STATUS_TEXT.get(r.status, r.status)), answer=r.answer,
            subject_name=r.account.full_name if r.account else "", subject_idnp=r.subject_idnp,
            shown=display.rows(r.item, r.shown, terr, lang) if r.shown else [],
            application=r.application.number if r.application is not None else None))
    return rows


# --- offers -----------------------------------------------------------------------------------------------------

@dataclass
class OfferView:
    ref: str
    benefit: str
    summary: str
    reason: str
    created: str
    status: str


def offer_view(offer: BenefitOffer, catalogue: Catalogue, lang: str) -> OfferView:
    benefit = catalogue.benefits.get(offer.benefit_code)
    p = offer.params or {}
    name, date = p.get("person_name") or "", display._date(p.get("date")) if p.get("date") else ""
    if offer.reason == "birth" and p.get("child_name"):
        reason = str(_l("The civil status register recorded the birth of %(name)s on %(date)s.",
                        name=p["child_name"], date=display._date(p.get("birth_date"))))
    elif offer.reason == "disability" and name and date:
        reason = str(_l("The disability council decided on the disability of %(name)s on %(date)s.",
                        name=name, date=date))
    elif offer.reason == "unemployment" and name and date:
        reason = str(_l("The employment agency registered %(name)s as unemployed on %(date)s.", name=name, date=date))
    elif offer.reason == "death" and name and date:
        reason = str(_l("The population register recorded the death of %(name)s on %(date)s.", name=name, date=date))
    elif offer.reason == "address" and date:
        reason = str(_l("The population register recorded a new address on %(date)s.", date=date))
    else:
        reason = str(_l("The registries' data shows you are likely to qualify."))
    return OfferView(ref=offer.ref, benefit=benefit.title_in(lang) if benefit else offer.benefit_code,
                     summary=benefit.summary_in(lang) if benefit else "", reason=reason,
                     created=format_datetime(offer.created_at, format="medium"), status=offer.status)


# --- the case worker's notices ----------------------------------------------------------------------------------

@dataclass
class NoticeView:
    when: str
    iso: str
    text: str


def notice_text(n: RegistryNotice, catalogue: Catalogue, terr: Territory, lang: str) -> str:
    registry = reg.registry_name(n.registry_code, lang) if n.registry_code else ""
    item = display.data_title(catalogue, n.item, lang) if n.item else ""
    p = n.params or {}
    if n.kind == "data_received":
        return str(_l("%(item)s arrived from %(registry)s after the application was sent. Check it: the applicant "
                      "has not confirmed it.", item=item, registry=registry))
    if n.kind == "data_failed":
        return str(_l("%(registry)s answered about %(item)s with data that could not be used; nothing was kept.",
                      item=item, registry=registry))
    if n.kind == "data_reported":
        if p.get("outcome"):
            return str(_l("The registry answered the applicant's report about %(item)s (%(outcome)s): %(answer)s",
                          item=item, outcome=STATUS_TEXT.get(p["outcome"], p["outcome"]), answer=p.get("answer") or ""))
        return str(_l("The applicant reported to %(registry)s that %(item)s is wrong: %(note)s",
                      registry=registry, item=item, note=p.get("note", "")))
    if n.kind == "registry_event":
        return event_text(p, registry, item, terr, lang)
    if n.kind == "routed":
        agency = terr.agencies.get(p.get("agency", ""))
        return str(_l("The address arrived; the claim was sent to %(agency)s.",
                      agency=agency.name_in(lang) if agency else p.get("agency", "")))
    return n.kind


EVENT_TEXTS = {
    "birth": _l("%(registry)s registered a birth: %(name)s, born %(date)s."),
    "death": _l("%(registry)s registered a death: %(name)s, on %(date)s."),
    "address": _l("%(registry)s registered a new address: %(place)s."),
    "disability": _l("%(registry)s recorded a disability decision for %(name)s: %(degree)s degree."),
    "unemployment": _l("%(registry)s registered %(name)s as unemployed from %(date)s."),
}


def event_text(p: dict, registry: str, item: str, terr: Territory, lang: str) -> str:
    kind = p.get("event", "")
    text = EVENT_TEXTS.get(kind)
    if text is None:
        return str(_l("%(registry)s reported a change of %(item)s.", registry=registry, item=item))
    raion = terr.raions.get(p.get("raion") or "")
    degree = display.DEGREES.get(p.get("degree"), p.get("degree") or "")
    return str(_l_format(text, registry=registry, name=p.get("name") or p.get("idnp") or "",
                         date=display._date(p.get("date")), degree=degree,
                         place=", ".join(x for x in (p.get("locality"), raion.name_in(lang) if raion else
                                                     p.get("raion")) if x)))


def _l_format(text, **params) -> str:
    """A lazy string with named placeholders, formatted now (every placeholder it uses must be given)."""
    return str(text) % params


def notice_views(application: Application, catalogue: Catalogue, terr: Territory, lang: str,
                 only_unseen: bool = True) -> list[NoticeView]:
    notices = [n for n in application.registry_notices if not only_unseen or n.seen_at is None]
    return [NoticeView(when=format_datetime(n.created_at, format="medium"), iso=n.created_at.isoformat(),
                       text=notice_text(n, catalogue, terr, lang)) for n in reversed(notices)]


def pending_items(application: Application, catalogue: Catalogue, terr: Territory, lang: str) -> list[str]:
    """What a sent application still waits for from the registries, for the citizen and the case worker."""
    out = []
    for p in getattr(application, "pending_fetches", []):
        if p.status in ("waiting", "fetching"):
            out.append(str(_l("%(item)s from %(registry)s", item=display.data_title(catalogue, p.item, lang),
                              registry=reg.registry_name(p.registry_code, lang))))
    return out
