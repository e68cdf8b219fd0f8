"""Consume registry change events (MConnect Events) and act on them.

A sweep (:func:`poll`, registered in :mod:`portal.registries.tasks`) asks the feed for the events after
the last one handled (``GET /events?after=<id>&wait=<s>``, long polling) and handles each in order:

1. **claim it**: in one transaction, move the cursor (``registry_event_cursor``) from the previous id to
   this one by compare-and-set, and record the event (``registry_event``, unique per source and id).  A
   second process polling at the same time loses the compare-and-set and stops; an event seen twice is
   recorded once: every event is handled exactly once.
2. **check it** (:mod:`portal.registries.cloudevents`): an invalid event is recorded as ``rejected``, with
   the reason, and never acted upon.
3. **act on it**: for every open application whose data concerns a person of the event, ask the registry
   again for the items the change affects (purpose ``registry_event``; outside any transaction), then in
   one transaction keep the new evidence, write the change into the application's history, put a notice
   on the case page for the case worker, and route claims that were waiting for an address.
4. **offer**: whatever the event, judge the household it concerns with the eligibility rules (the same
   ``portal.eligibility.offers`` as the check page) with the data asked again, and offer each adult every
   benefit the household now likely qualifies for that nobody of it has claimed and that was not offered
   to them before: a registered birth → the birth allowance for that child; a disability decision → the
   state social allowance; social aid or the energy compensation when the rules say the family is likely
   eligible.  The event is when eSocial looks again; "new" is what the household was never offered nor
   asked for (the rules read no data from before the event to compare with).

An event claimed but not acted upon (the process stopped in between) is acted upon by a later sweep.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import eligibility
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import session_scope
from portal.eligibility import inputs as eligibility_inputs
from portal.registries import accesslog, cloudevents
from portal.registries import offers as offers_mod
from portal.registries import prefill as registry_prefill
from portal.registries import services as reg
from portal.registries.client import (
    Purpose,
    RegistryDataError,
    RegistryError,
    RegistryUnavailable,
    new_correlation_id,
    tls_options,
)
from portal.registries.models import EventCursor, ReceivedEvent

log = logging.getLogger("esocial.registries.events")

FEED = "mconnect"
BATCH = 100
STUCK_AFTER = dt.timedelta(minutes=2)
MAX_EVENT_BYTES = 1024 * 1024  # MConnect: 1 MB per request


class EventFeedClient:
    """The event feed over HTTP(S): X-Road-Client header, pooled connections, mutual TLS like the queries."""

    def __init__(self, base_url: str, client_id: str, *, timeout: float = 5.0, cert=None, verify=True,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False
        self.session.mount("http://", HTTPAdapter(pool_maxsize=4, max_retries=0))
        self.session.mount("https://", HTTPAdapter(pool_maxsize=4, max_retries=0))
        self.session.headers.update({"Accept": "application/cloudevents-batch+json, application/json",
                                     "X-Road-Client": client_id, "User-Agent": "eSocial-events/1"})
        if cert:
            self.session.cert = cert
        self.session.verify = verify

    def fetch(self, after: str, wait: float = 0.0, limit: int = BATCH) -> list:
        """The raw events after ``after`` (a list; each item checked later, one by one)."""
        try:
            response = self.session.get(f"{self.base_url}/events", params={"after": after, "wait": wait,
                                                                           "limit": limit},
                                        headers={"X-Road-Id": new_correlation_id()},
                                        timeout=(min(3.0, self.timeout), self.timeout + wait), allow_redirects=False)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"the event feed could not be reached: {type(exc).__name__}",
                                      registry="events") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise RegistryUnavailable(f"the event feed answered HTTP {response.status_code}", registry="events",
                                      status=response.status_code)
        if response.status_code != 200:
            raise RegistryError(f"the event feed refused the request (HTTP {response.status_code})",
                                registry="events", status=response.status_code, code="rejected")
        if len(response.content) > MAX_EVENT_BYTES * 10:
            raise RegistryDataError("the event batch is too large", registry="events")
        if "json" not in response.headers.get("Content-Type", ""):
            raise RegistryDataError("the event feed did not answer JSON", registry="events")
        try:
            batch = response.json()
        except ValueError as exc:
            raise RegistryDataError("the event batch is not valid JSON", registry="events") from exc
        if not isinstance(batch, list):
            raise RegistryDataError("the event batch is not a list", registry="events")
        return batch

    def close(self) -> None:
        self.session.close()


_lock = threading.Lock()


def feed_client() -> EventFeedClient:
    ext = current_app.extensions
    with _lock:
        client = ext.get("esocial.registry_events")
        if client is None:
            settings = current_app.config["ESOCIAL"]
            client = ext["esocial.registry_events"] = EventFeedClient(
                settings.registry_events_url or settings.registry_base_url, settings.registry_client_id,
                timeout=settings.registry_timeout_seconds, **tls_options(settings))
        return client


# --- the sweep ---------------------------------------------------------------------------------------------------

def cursor(session: Session) -> str:
    row = session.get(EventCursor, FEED)
    if row is None:
        row = EventCursor(feed=FEED, last_id="0")
        session.add(row)
        session.flush()
    return row.last_id


def poll(app=None, *, wait: float | None = None, client: EventFeedClient | None = None) -> dict:
    """Take the events after the cursor and handle each once. Returns counts per outcome."""
    settings = current_app.config["ESOCIAL"]
    wait = settings.registry_events_wait_seconds if wait is None else wait
    client = client or feed_client()
    with session_scope() as s:
        last = cursor(s)
    counts: dict[str, int] = {}
    try:
        batch = client.fetch(last, wait)
    except RegistryError as exc:
        log.info("event feed: %s", exc)
        counts["feed_unavailable"] = 1
        return counts
    for raw in batch:
        event_id = cloudevents.envelope_id(raw)
        if event_id is None:
            log.error("event feed: an event without a usable id after %s; stopping here", last)
            counts["broken_feed"] = counts.get("broken_feed", 0) + 1
            break
        outcome = handle(raw, previous=last)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "taken":
            break  # another process is handling this batch
        last = event_id
    counts["stuck_retried"] = retry_stuck()
    return counts


def handle(raw, *, previous: str) -> str:
    """Claim, check and act on one raw event: ``applied``, ``no_application``, ``rejected``, ``duplicate``,
    ``failed`` or ``taken`` (another process moved the cursor first)."""
    event_id = cloudevents.envelope_id(raw)
    try:
        event, error = cloudevents.parse(raw), None
    except cloudevents.EventError as exc:
        event, error = None, str(exc)
    with session_scope() as s:
        moved = s.execute(update(EventCursor).where(EventCursor.feed == FEED, EventCursor.last_id == previous)
                          .values(last_id=event_id, updated_at=clock.now())
                          .execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            return "taken"
        source = raw.get("source") if isinstance(raw.get("source"), str) else "?"
        if s.scalar(select(ReceivedEvent.id).where(ReceivedEvent.source == source[:255],
                                                   ReceivedEvent.event_id == event_id)) is not None:
            return "duplicate"
        record = ReceivedEvent(
            feed=FEED, event_id=event_id, source=source[:255], type=str(raw.get("type") or "?")[:128],
            subject=event.subject if event else None, event_time=event.time if event else clock.now(),
            data=raw, outcome="rejected" if error else "received", note=error)
        s.add(record)
        s.flush()
        record_id = record.id
    if error:
        log.warning("registry event %s rejected: %s", event_id, error)
        return "rejected"
    return act(record_id, event)


def retry_stuck(now: dt.datetime | None = None) -> int:
    """Act on events claimed but never acted upon (the process stopped in between)."""
    now = now or clock.now()
    with session_scope() as s:
        stuck = s.execute(select(ReceivedEvent.id, ReceivedEvent.data).where(
            ReceivedEvent.outcome == "received", ReceivedEvent.received_at < now - STUCK_AFTER)
            .order_by(ReceivedEvent.id).limit(20)).all()
    done = 0
    for record_id, raw in stuck:
        with session_scope() as s:  # claim it again by compare-and-set of its received time
            taken = s.execute(update(ReceivedEvent).where(ReceivedEvent.id == record_id,
                                                          ReceivedEvent.outcome == "received",
                                                          ReceivedEvent.received_at < now - STUCK_AFTER)
                              .values(received_at=now).execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                continue
        act(record_id, cloudevents.parse(raw))
        done += 1
    return done


# --- acting on an event ------------------------------------------------------------------------------------------

def act(record_id: int, event: cloudevents.RegistryEvent) -> str:
    from portal.applications.prefill import client

    gateway = client()
    try:
        with accesslog.journal():
            # 1. what to ask again, for which open application (a short read)
            plan, held = [], {}
            with session_scope() as s:
                for application in reg.open_applications_about(s, event.persons):
                    held.setdefault(application.applicant.idnp, {e.item: e.payload for e in application.evidence
                                                                 if e.status == "fetched" and e.payload is not None})
                    needed = reg.catalogue().items_for(application.benefits)
                    items = {i: needed[i] for i in event.items if i in needed}
                    if event.kind == "death" and event.subject != application.applicant.idnp:
                        items.pop("identity", None)  # a member died: the household says so
                    if not items:
                        continue
                    household = reg.evidence_of(application, "household")
                    known = household.payload if household is not None and household.status == "fetched" else None
                    plan.append((application.id, items, application.applicant.idnp,
                                 reg.system_purpose(application, reg.REGISTRY_EVENT),
                                 known if "household" not in items else None))
            # 2. ask (no transaction open)
            answers = [(app_id, registry_prefill.prefill(gateway, items, applicant, purpose, household=known))
                       for app_id, items, applicant, purpose, known in plan]
            offers = event_offers(event, gateway, held)
            # 3. keep and tell (one transaction)
            with session_scope() as s:
                for app_id, results in answers:
                    apply_to_application(s, s.get(Application, app_id), event, results)
                made = _make_offers(s, record_id, offers)
                record = s.get(ReceivedEvent, record_id)
                record.outcome = "applied" if answers or made else "no_application"
                record.note = f"{len(answers)} application(s) updated, {made} offer(s) made"
        return "applied" if answers or made else "no_application"
    except Exception as exc:  # noqa: BLE001 - recorded on the event, the sweep goes on with the next
        log.exception("acting on registry event %s failed", event.id)
        with session_scope() as s:
            record = s.get(ReceivedEvent, record_id)
            record.outcome, record.note = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        return "failed"


def notice_params(event: cloudevents.RegistryEvent) -> dict:
    d = event.data
    if event.kind == "birth":
        child = d["child"]
        return {"event": "birth", "name": f"{child['first_name']} {child['last_name']}",
                "date": child["birth_date"], "idnp": child["idnp"], "event_id": event.id}
    out = {"event": event.kind, "name": f"{d.get('first_name', '')} {d.get('last_name', '')}".strip(),
           "idnp": event.subject, "date": d.get("date"), "event_id": event.id}
    if event.kind == "address":
        out.update(raion=d["raion"], locality=d["locality"])
    if event.kind == "disability":
        out.update(degree=d["degree"], valid_until=d.get("valid_until"))
    return out


def apply_to_application(session: Session, application: Application, event: cloudevents.RegistryEvent,
                         results: dict) -> None:
    from portal.applications import services as app_services
    from portal.registries import pending
    from portal.registries.viewmodels import event_text
    from portal.routing.reference import territory

    fetched = {item: r for item, r in results.items() if r.ok}
    if fetched:
        app_services.store_prefill(session, application, fetched)
        reg.sync_subjects(session, application)
    params = notice_params(event)
    main_item = event.items[0]
    reg.history(session, application, "registry_event", reg.in_language(application, lambda lang: event_text(
        params, reg.registry_name(event.registry, lang), reg.data_title(main_item, lang), territory(), lang)))
    reg.add_notice(session, application, "registry_event", registry=event.registry, item=main_item, **params)
    if "address" in fetched and application.raion_code:
        pending.route_waiting_claims(session, application)


# --- proactive offers: what a household newly qualifies for after an event ---------------------------------------

@dataclass(frozen=True)
class Offer:
    """A benefit to offer ``subject`` (an adult of the household), once per ``key`` (the child or person it is
    for, or ``household`` for a benefit paid to the family)."""

    subject: str
    benefit: str
    key: str
    params: dict
    answers: dict
    household: tuple[str, ...]  # everyone of the subject's household: a claim by any of them counts


def offer_purpose(idnp: str) -> Purpose:
    """eSocial asks by itself, on behalf of the person, to see what the rules say they may now receive."""
    benefits = [b for b in eligibility.benefits_with_rules() if b in reg.catalogue().benefits]
    return Purpose(purpose=reg.PROACTIVE_OFFER, actor_idnp=idnp, actor_role="system", on_behalf_of=idnp,
                   legal_basis=f"{reg.legal_basis_of(benefits)}; {reg.INTEROPERABILITY_LAW}")


def rule_items() -> dict[str, str]:
    """The data items the rules read, with the registry holding each (only those: nothing more is asked)."""
    cat = reg.catalogue()
    needed = cat.items_for([b for b in eligibility.benefits_with_rules() if b in cat.benefits])
    return {item: registry for item, registry in needed.items() if item in eligibility_inputs.ITEMS}


def event_offers(event: cloudevents.RegistryEvent, gateway, held: dict[str, dict]) -> list[Offer]:
    """The benefits to offer the adults of the household the event concerns.

    ``held``: applicant IDNP → the payloads of their open application concerned by the event (what
    eSocial knows of a deceased person's household).  Who is judged: the parents of a registered child; the adult the event is
    about (a child's parents when it is about a child); after a death, the applicants whose household
    held the deceased.  Each is judged as the applicant of their household with everything the rules
    read, asked again (purpose ``proactive_offer``).
    """
    items = rule_items()
    fetched: dict[str, dict] = {}

    def data_of(idnp: str) -> dict:
        if idnp not in fetched:
            results = registry_prefill.prefill(gateway, items, idnp, offer_purpose(idnp))
            fetched[idnp] = {item: r.payload for item, r in results.items() if r.ok}
        return fetched[idnp]

    if event.kind == "birth":
        adults = [p for p in (event.data.get("mother_idnp"), event.data.get("father_idnp")) if p]
        child = {**event.data["child"], "record_number": event.data["record_number"]}
        for parent in adults:  # the event's own (checked) data when the civil register does not answer
            births = data_of(parent).setdefault("births", {"children": []})
            if not any(c.get("idnp") == child["idnp"] for c in births.get("children", [])):
                births["children"] = [*births.get("children", []), child]
    elif event.kind == "death":
        adults = [a for a, payloads in held.items() if a != event.subject
                  and event.subject in household_idnps(payloads)]
    else:
        adults = [event.subject]
        mine = data_of(event.subject)
        if is_minor(mine, event.subject):
            adults = [m["idnp"] for m in (mine.get("household") or {}).get("members", [])
                      if m.get("relation") == "parent"]
    adults = list(dict.fromkeys(adults))
    households = {a: household_idnps(data_of(a)) | {a} for a in adults}  # asked before any transaction opens
    with session_scope() as s:
        claims = {a: offers_mod.claims_of(s, households[a]) for a in adults}
    out = []
    for adult, household_claims in claims.items():
        out += qualifying(adult, data_of(adult), event, household_claims)
    return out


def household_idnps(payloads: dict | None) -> set[str]:
    return {m["idnp"] for m in ((payloads or {}).get("household") or {}).get("members", []) if m.get("idnp")}


def is_minor(payloads: dict, idnp: str) -> bool:
    born = (payloads.get("identity") or {}).get("birth_date")
    for m in (payloads.get("household") or {}).get("members", []):
        if m.get("idnp") == idnp:
            born = born or m.get("birth_date")
    age = eligibility_inputs.age_on(dt.date.fromisoformat(born[:10]), clock.today()) if born else None
    return age is not None and age < eligibility_inputs.ADULT_AGE


def qualifying(adult: str, now: dict, event: cloudevents.RegistryEvent,
               claims: list[tuple[str, str, dict]]) -> list[Offer]:
    """The offers for ``adult``: what the rules say the household likely qualifies for with the data ``now``
    (``eligibility.offers``, as on the check page), of the catalogue, that nobody of the household has claimed
    (the same child, for a benefit paid per child) and that is not granted together with one it claimed.
    A birth offers what is for that child.  Whether it was offered before is for :func:`offers.make_offer`."""
    today = clock.today()
    catalogue = reg.catalogue()
    answers = {"child_idnp": event.subject} if event.kind == "birth" else {}
    x = eligibility.inputs_from_payloads(adult, now, sources=rule_items(), answers=answers)
    family_claims = {benefit for benefit, _, a in claims if not a.get("child_idnp")}
    household = tuple(sorted(household_idnps(now) | {adult}))
    out = []
    for result in eligibility.offers(x, today, exclude=family_claims):
        if result.benefit not in catalogue.benefits:
            continue  # only what eSocial takes applications for
        kind, key = offer_key(eligibility.beneficiaries(result.benefit, x, today), event)
        if kind == "child" and event.kind == "birth" and key != event.subject:
            continue  # a birth offers what is for that child
        if offers_mod.claimed(claims, result.benefit, kind, key):
            continue
        out.append(Offer(adult, result.benefit, key, offer_params(event),
                         {"child_idnp": key} if kind == "child" else {}, household))
    return out


def offer_key(beneficiaries: list[tuple[str, str]], event: cloudevents.RegistryEvent) -> tuple[str, str]:
    """(kind, key) of an offer: the child or person the benefit is for (the event's own when it is one of them),
    or ``household`` for a benefit paid to the family."""
    own = [(kind, idnp) for kind, idnp in beneficiaries if kind in ("child", "person")]
    for kind, idnp in own:
        if idnp == event.subject:
            return kind, idnp
    return own[0] if own else ("member", "household")


def offer_params(event: cloudevents.RegistryEvent) -> dict:
    """What the notice and the offer page say about the event (in the person's language when shown)."""
    d = event.data
    if event.kind == "birth":
        child = d["child"]
        return {"event": "birth", "child_idnp": child["idnp"],
                "child_name": f"{child['first_name']} {child['last_name']}", "birth_date": child["birth_date"]}
    return {"event": event.kind, "person_idnp": event.subject,
            "person_name": f"{d.get('first_name', '')} {d.get('last_name', '')}".strip(), "date": d.get("date")}


def _make_offers(session: Session, record_id: int, offers: list[Offer]) -> int:
    made = 0
    for o in offers:
        if offers_mod.make_offer(session, subject_idnp=o.subject, benefit=o.benefit, key=o.key,
                                 reason=o.params["event"], params=o.params, answers=o.answers,
                                 household=o.household, event_id=record_id) is not None:
            made += 1
    return made
