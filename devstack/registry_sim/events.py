"""MConnect Events, simulated: registry change events as CloudEvents v1 (JSON, HTTP binding, structured mode).

The feed keeps events for 5 days (MConnect's retention) and serves them by long polling::

    GET /events?after=<id>&wait=<seconds>&limit=<n>
    X-Road-Client: MD/GOV/MMPS/ESOCIAL
    → 200 application/cloudevents-batch+json: [ {specversion, id, source, type, subject, time, …, data}, … ]

``id`` is the event's position in the feed (a decimal string, increasing); a consumer remembers the
last one it handled and asks for what came after.  With nothing new the request waits up to ``wait``
seconds (at most 30) for an event before answering ``[]``.  ``partitionkey`` (the CloudEvents
partitioning extension) is the IDNP of the person concerned, as MConnect orders events per entity.

``data`` is in the registry's own vocabulary, like its query answers.  Publishing an event also
changes the population the registries serve (a birth adds the child to the register and the household),
so what eSocial asks afterwards agrees with the event.
"""
from __future__ import annotations

import datetime as dt
import threading

from devstack.population import Population

RETENTION = dt.timedelta(days=5)
MAX_WAIT = 30.0
MAX_LIMIT = 500
KINDS = {
    # kind: (type, source)
    "birth": ("md.gov.asp.civil.birth.registered", "/MD/GOV/ASP/CIVIL"),
    "death": ("md.gov.asp.rsp.death.registered", "/MD/GOV/ASP/RSP"),
    "address": ("md.gov.asp.rsp.address.changed", "/MD/GOV/ASP/RSP"),
    "disability": ("md.gov.cnddcm.disability.decided", "/MD/GOV/CNDDCM/DISABILITY"),
    "unemployment": ("md.gov.anofm.unemployment.registered", "/MD/GOV/ANOFM/EMPLOYMENT"),
}
SCHEMA_BASE = "https://mconnect.gov.md/schemas/events/"
DEGREES = {"severe": "sever", "accentuated": "accentuat", "medium": "mediu"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class EventFeed:
    """The events, in order, with a condition variable for long polling. Thread-safe."""

    def __init__(self, clock=_now):
        self._clock = clock
        self._cond = threading.Condition()
        self._events: list[dict] = []
        self._seq = 0

    def publish(self, kind: str, subject: str, data: dict, *, time: dt.datetime | None = None) -> dict:
        type_, source = KINDS[kind]
        return self.publish_raw({
            "specversion": "1.0", "type": type_, "source": source, "subject": subject,
            "time": (time or self._clock()).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "datacontenttype": "application/json", "dataschema": f"{SCHEMA_BASE}{type_}/1",
            "partitionkey": subject, "data": data})

    def publish_raw(self, event: dict) -> dict:
        """Append ``event`` as given (its ``id`` is set to its position): tests publish broken events this way."""
        with self._cond:
            self._seq += 1
            event = {"id": str(self._seq), **{k: v for k, v in event.items() if k != "id"}}
            self._events.append(event)
            self._prune()
            self._cond.notify_all()
            return event

    def _prune(self) -> None:
        cutoff = self._clock() - RETENTION
        keep = []
        for e in self._events:
            try:
                when = dt.datetime.fromisoformat(str(e.get("time", "")).replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is None or when.tzinfo is None or when >= cutoff:
                keep.append(e)
        self._events = keep

    def after(self, after: int, limit: int = 100) -> list[dict]:
        with self._cond:
            self._prune()
            return [e for e in self._events if int(e["id"]) > after][:limit]

    def wait(self, after: int, timeout: float, limit: int = 100) -> list[dict]:
        """Events after ``after``; if none, wait up to ``timeout`` seconds for one."""
        deadline = threading.TIMEOUT_MAX if timeout is None else min(timeout, MAX_WAIT)
        with self._cond:
            self._cond.wait_for(lambda: self._seq > after, timeout=deadline)
        return self.after(after, limit)

    @property
    def last_id(self) -> int:
        with self._cond:
            return self._seq

    def clear(self) -> None:
        with self._cond:
            self._events.clear()


# --- life events: change the population, then publish ---------------------------------------------------------

def _date(value, default: dt.date) -> dt.date:
    return dt.date.fromisoformat(value) if value else default


def trigger(pop: Population, feed: EventFeed, body: dict) -> dict:
    """Make the change ``body`` describes happen in the registries and publish its event (ValueError if invalid)."""
    kind = body.get("type")
    if kind == "birth":
        parent = str(body.get("parent") or body.get("idnp") or "")
        child, record = pop.register_birth(parent, first_name=body.get("first_name"), sex=body.get("sex", "F"),
                                           born_on=_date(body.get("birth_date"), pop.today))
        data = {"numar_act": record.record_number, "data_inregistrarii": record.registered_on.isoformat(),
                "copil": {"idnp": child.idnp, "nume": child.last_name, "prenume": child.first_name,
                          "data_nasterii": child.birth_date.isoformat(), "sexul": child.sex},
                "idnp_mama": record.mother_idnp, "idnp_tata": record.father_idnp}
        return feed.publish("birth", child.idnp, data)
    idnp = str(body.get("idnp") or "")
    if kind == "death":
        person = pop.register_death(idnp, _date(body.get("date"), pop.today))
        return feed.publish("death", idnp, {"idnp": idnp, "nume": person.last_name, "prenume": person.first_name,
                                            "data_decesului": person.deceased_on.isoformat()})
    if kind == "address":
        raion = str(body.get("raion") or "")
        from portal.routing.reference import territory

        if raion not in territory().raions:
            raise ValueError("raion: a raion code of config/reference/territory.toml")
        address = pop.change_address(idnp, raion, str(body.get("locality") or raion.title()),
                                     str(body.get("street") or "str. Ștefan cel Mare"), str(body.get("number") or "1"))
        return feed.publish("address", idnp, {"idnp": idnp, "data_schimbarii": pop.today.isoformat(), "domiciliu": {
            "raion": address.raion_code, "localitate": address.locality, "strada": address.street,
            "numar": address.number}})
    if kind == "disability":
        degree = body.get("degree", "medium")
        until = _date(body.get("valid_until"), None) if body.get("valid_until") else None
        d = pop.decide_disability(idnp, degree, valid_until=until)
        person = pop.person(idnp)
        return feed.publish("disability", idnp, {"idnp": idnp, "nume": person.last_name, "prenume": person.first_name,
                                                 "certificat": {"numar": d.certificate, "grad": DEGREES[d.degree],
                                                                "data_emiterii": d.issued_on.isoformat(),
                                                                "valabil_pana_la": d.valid_until.isoformat()
                                                                if d.valid_until else None}})
    if kind == "unemployment":
        person = pop.register_unemployed(idnp, _date(body.get("date"), pop.today))
        return feed.publish("unemployment", idnp, {"idnp": idnp, "nume": person.last_name,
                                                   "prenume": person.first_name,
                                                   "data_inregistrarii": person.unemployed_since.isoformat()})
    if kind == "raw":  # an event exactly as given, valid or not (tests of the consumer's checks)
        event = body.get("event")
        if not isinstance(event, dict):
            raise ValueError("raw: give the event object")
        return feed.publish_raw(event)
    raise ValueError(f"type is one of {', '.join([*KINDS, 'raw'])}")
