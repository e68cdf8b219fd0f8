"""Check and map registry change events (CloudEvents v1, JSON structured mode) into eSocial's shapes.

Every event is validated before anything of it is used, like every registry answer: the CloudEvents
envelope (``specversion`` 1.0, ``id``, ``source``, ``type``, ``time`` with a time zone, ``subject`` an
IDNP), a type eSocial subscribes to, a source that may publish it, and ``data`` in the registry's
agreed shape.  An event that fails is rejected (:class:`EventError`) and recorded, never acted upon.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal.core.idnp import is_well_formed
from portal.registries import schemas
from portal.registries.schemas import SchemaError, _code, _date, _get, _idnp, _obj, _text

# type → (kind, the source allowed to publish it, the data items it changes)
TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "md.gov.asp.civil.birth.registered": ("birth", "/MD/GOV/ASP/CIVIL", ("births", "household")),
    "md.gov.asp.rsp.death.registered": ("death", "/MD/GOV/ASP/RSP", ("identity", "household")),
    "md.gov.asp.rsp.address.changed": ("address", "/MD/GOV/ASP/RSP", ("address", "household")),
    "md.gov.cnddcm.disability.decided": ("disability", "/MD/GOV/CNDDCM/DISABILITY", ("disability",)),
    "md.gov.anofm.unemployment.registered": ("unemployment", "/MD/GOV/ANOFM/EMPLOYMENT", ("unemployment",)),
}
# The registry (config/reference/registries.toml) each kind comes from.
REGISTRY = {"birth": "civil", "death": "rsp", "address": "rsp", "disability": "cnddcm", "unemployment": "anofm"}
MAX_ID = 64


class EventError(ValueError):
    """The event is not a valid CloudEvent of a type eSocial consumes."""


@dataclass(frozen=True)
class RegistryEvent:
    id: str
    source: str
    type: str
    kind: str
    subject: str
    time: dt.datetime
    data: dict  # in eSocial's words
    items: tuple[str, ...]  # the data items the change concerns

    @property
    def registry(self) -> str:
        return REGISTRY[self.kind]

    @property
    def persons(self) -> set[str]:
        """Everyone the event is about (a birth: the child and both parents)."""
        out = {self.subject}
        for key in ("mother_idnp", "father_idnp", "idnp"):
            if self.data.get(key):
                out.add(self.data[key])
        return out


def envelope_id(raw) -> str | None:
    """The ``id`` of a raw event if it has a usable one (to move past it even when the rest is invalid)."""
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and 0 < len(raw["id"]) <= MAX_ID:
        return raw["id"]
    return None


def parse(raw) -> RegistryEvent:
    try:
        return _parse(raw)
    except SchemaError as exc:
        raise EventError(str(exc)) from exc


def _parse(raw) -> RegistryEvent:
    if not isinstance(raw, dict):
        raise EventError("an event is a JSON object")
    if raw.get("specversion") != "1.0":
        raise EventError("specversion: only CloudEvents 1.0")
    event_id = envelope_id(raw)
    if event_id is None:
        raise EventError("id: a non-empty string of at most 64 characters")
    source, type_ = raw.get("source"), raw.get("type")
    if not isinstance(source, str) or not source:
        raise EventError("source: required")
    if type_ not in TYPES:
        raise EventError(f"type: eSocial does not consume {type_!r}")
    kind, allowed_source, items = TYPES[type_]
    if source != allowed_source:
        raise EventError(f"source: {type_} comes from {allowed_source}, not {source}")
    content_type = raw.get("datacontenttype", "application/json")
    if not isinstance(content_type, str) or not content_type.startswith("application/json"):
        raise EventError("datacontenttype: expected application/json")
    time_raw = raw.get("time")
    try:
        when = dt.datetime.fromisoformat(str(time_raw).replace("Z", "+00:00"))
    except ValueError:
        raise EventError("time: expected an RFC 3339 time stamp") from None
    if when.tzinfo is None:
        raise EventError("time: no time zone")
    subject = raw.get("subject")
    if not isinstance(subject, str) or not is_well_formed(subject):
        raise EventError("subject: the IDNP of the person concerned")
    data = _obj(raw.get("data"), "data")
    mapped = DATA[kind](data, subject)
    return RegistryEvent(event_id, source, type_, kind, subject, when.astimezone(dt.timezone.utc), mapped, items)


# --- data, per kind (the registry's words → eSocial's) -----------------------------------------------------------

def _birth(d: dict, subject: str) -> dict:
    child = _obj(_get(d, "copil", "data", False), "data.copil")
    if _idnp(child, "idnp", "data.copil") != subject:
        raise SchemaError("data.copil.idnp: the event's subject is the child")
    mother = _idnp(d, "idnp_mama", "data", optional=True)
    father = _idnp(d, "idnp_tata", "data", optional=True)
    if not mother and not father:
        raise SchemaError("data: a birth names at least one parent")
    return {"child": {"idnp": subject, "first_name": _text(child, "prenume", "data.copil"),
                      "last_name": _text(child, "nume", "data.copil"),
                      "birth_date": _date(child, "data_nasterii", "data.copil").isoformat()},
            "mother_idnp": mother, "father_idnp": father,
            "record_number": _text(d, "numar_act", "data"),
            "registered_on": _date(d, "data_inregistrarii", "data").isoformat()}


def _person(d: dict, subject: str) -> dict:
    if _idnp(d, "idnp", "data") != subject:
        raise SchemaError("data.idnp: not the event's subject")
    return {"idnp": subject, "first_name": _text(d, "prenume", "data"), "last_name": _text(d, "nume", "data")}


def _death(d: dict, subject: str) -> dict:
    return {**_person(d, subject), "date": _date(d, "data_decesului", "data").isoformat()}


def _address(d: dict, subject: str) -> dict:
    if _idnp(d, "idnp", "data") != subject:
        raise SchemaError("data.idnp: not the event's subject")
    home = _obj(_get(d, "domiciliu", "data", False), "data.domiciliu")
    raion = _text(home, "raion", "data.domiciliu")
    from portal.routing.reference import territory

    if raion not in territory().raions:
        raise SchemaError(f"data.domiciliu.raion: unknown raion {raion!r}")
    return {"idnp": subject, "raion": raion, "locality": _text(home, "localitate", "data.domiciliu"),
            "date": _date(d, "data_schimbarii", "data").isoformat()}


def _disability(d: dict, subject: str) -> dict:
    cert = _obj(_get(d, "certificat", "data", False), "data.certificat")
    until = _date(cert, "valabil_pana_la", "data.certificat", optional=True)
    return {**_person(d, subject), "degree": _code(cert, "grad", "data.certificat", schemas.DEGREES),
            "date": _date(cert, "data_emiterii", "data.certificat").isoformat(),
            "valid_until": until.isoformat() if until else None}


def _unemployment(d: dict, subject: str) -> dict:
    return {**_person(d, subject), "date": _date(d, "data_inregistrarii", "data").isoformat()}


DATA = {"birth": _birth, "death": _death, "address": _address, "disability": _disability,
        "unemployment": _unemployment}
