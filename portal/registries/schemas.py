"""Check and map what each registry answers into eSocial's own shapes.

Every answer is validated field by field before anything of it is used: a
missing field, a wrong type, an unknown code, an answer about another person or
outside the period asked all raise :class:`SchemaError`, which the client turns
into ``RegistryDataError``.  The registries' field names are theirs (Romanian);
the records returned here use eSocial's names.

A *record* is about one person (the registries are asked per person); the
prefill assembles records into the per-item payloads the templates render.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from portal.core.idnp import is_well_formed
from portal.routing.reference import territory


class SchemaError(ValueError):
    """The answer does not have the agreed shape; ``str()`` names the offending field."""


# --- primitives --------------------------------------------------------------------------------

_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SHARE = re.compile(r"^(\d{1,3})/(\d{1,3})$")
MAX_TEXT = 300


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise SchemaError(f"{where}: expected an object")
    return value


def _list(value: Any, where: str, max_len: int = 500) -> list:
    if not isinstance(value, list):
        raise SchemaError(f"{where}: expected a list")
    if len(value) > max_len:
        raise SchemaError(f"{where}: more than {max_len} entries")
    return value


def _get(d: dict, key: str, where: str, optional: bool) -> Any:
    if key not in d:
        if optional:
            return None
        raise SchemaError(f"{where}.{key}: missing")
    return d[key]


def _text(d: dict, key: str, where: str, *, optional: bool = False, allow_empty: bool = False) -> str | None:
    value = _get(d, key, where, optional)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or (not allow_empty and not value.strip()):
        raise SchemaError(f"{where}.{key}: expected a non-empty text")
    if any(ord(c) < 32 for c in value):
        raise SchemaError(f"{where}.{key}: control characters")
    return value.strip()


def _idnp(d: dict, key: str, where: str, *, optional: bool = False) -> str | None:
    value = _get(d, key, where, optional)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not is_well_formed(value):
        raise SchemaError(f"{where}.{key}: not a valid IDNP")
    return value


def _date(d: dict, key: str, where: str, *, optional: bool = False) -> dt.date | None:
    value = _get(d, key, where, optional)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise SchemaError(f"{where}.{key}: expected an ISO date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SchemaError(f"{where}.{key}: expected an ISO date") from None


def _amount(d: dict, key: str, where: str, *, maximum: float = 10_000_000) -> float:
    value = _get(d, key, where, False)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(f"{where}.{key}: expected a number")
    if not 0 <= value <= maximum:
        raise SchemaError(f"{where}.{key}: out of range")
    return float(value)


def _int(d: dict, key: str, where: str, lo: int, hi: int) -> int:
    value = _get(d, key, where, False)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SchemaError(f"{where}.{key}: expected an integer from {lo} to {hi}")
    return value


def _bool(d: dict, key: str, where: str) -> bool:
    value = _get(d, key, where, False)
    if not isinstance(value, bool):
        raise SchemaError(f"{where}.{key}: expected true or false")
    return value


def _code(d: dict, key: str, where: str, mapping: Mapping[str, Any]) -> Any:
    value = _get(d, key, where, False)
    if not isinstance(value, str) or value not in mapping:
        raise SchemaError(f"{where}.{key}: unknown code {value!r}" if isinstance(value, str) else f"{where}.{key}: expected a code")
    return mapping[value]


def _country(d: dict, key: str, where: str) -> str:
    value = _get(d, key, where, False)
    if not isinstance(value, str) or not _ISO_COUNTRY.match(value):
        raise SchemaError(f"{where}.{key}: expected an ISO 3166 alpha-2 country code")
    return value


def _same_person(d: dict, key: str, idnp: str, where: str = "answer") -> None:
    if _idnp(d, key, where) != idnp:
        raise SchemaError(f"{where}.{key}: the answer is about another person")


def retrieved_at(raw: dict) -> dt.datetime:
    """The registry's time stamp of the answer (required on every answer, timezone-aware)."""
    value = _get(raw, "retrieved_at", "answer", False)
    if not isinstance(value, str):
        raise SchemaError("answer.retrieved_at: expected an ISO date-time")
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SchemaError("answer.retrieved_at: expected an ISO date-time") from None
    if stamp.tzinfo is None:
        raise SchemaError("answer.retrieved_at: no time zone")
    return stamp.astimezone(dt.timezone.utc)


# --- the registries' codes → eSocial's ---------------------------------------------------------

SEX = {"M": "M", "F": "F"}
RELATIONS = {"titular": "applicant", "sot": "spouse", "sotie": "spouse", "copil": "child", "parinte": "parent",
             "alta_ruda": "other"}
PENSION_TYPES = {"limita_de_varsta": "age", "dizabilitate": "disability", "urmas": "survivor",
                 "vechime_in_munca": "long_service"}
BENEFIT_CODES = {"IC_CRESTERE": "child_raising_allowance", "IC_INGRIJIRE": "child_care_allowance",
                 "ALOC_SOC_STAT": "state_social_allowance", "AJ_SOMAJ": "unemployment_benefit"}
INCOME_TYPES = {"SAL": "salary", "PEN": "pension", "AFI": "business", "ALT": "other"}
INCOME_ORDER = ("salary", "pension", "business", "other")
DEGREES = {"sever": "severe", "accentuat": "accentuated", "mediu": "medium"}
MARRIAGE_STATUS = {"in_vigoare": "in_force", "desfacuta": "ended"}
MARRIAGE_END = {"deces": "death", "divort": "divorce"}
PARCELS = {"teren_agricol": ("land", "ha"), "teren_gradina": ("land", "ha"), "casa": ("dwelling", "m2"),
           "apartament": ("dwelling", "m2")}
STATUS = {"activ": "alive", "decedat": "deceased"}


# --- one parser per service: (raw answer, IDNP asked, params) → record -------------------------------


def identity(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    status = _code(raw, "statut", "answer", STATUS)
    died = _date(raw, "data_decesului", "answer", optional=True)
    if status == "deceased" and died is None:
        raise SchemaError("answer.data_decesului: missing for a deceased person")
    return {
        "idnp": idnp,
        "first_name": _text(raw, "prenume", "answer"),
        "last_name": _text(raw, "nume", "answer"),
        "birth_date": _date(raw, "data_nasterii", "answer").isoformat(),
        "sex": _code(raw, "sexul", "answer", SEX),
        "citizenship": _country(raw, "cetatenia", "answer"),
        # The population register's date of death (None while alive): the cross-checks flag it.
        "deceased_on": died.isoformat() if status == "deceased" else None,
    }


def address(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    home = _obj(_get(raw, "domiciliu", "answer", False), "answer.domiciliu")
    raion = _text(home, "raion", "answer.domiciliu")
    if raion not in territory().raions:  # routing to an agency depends on it
        raise SchemaError(f"answer.domiciliu.raion: unknown raion {raion!r}")
    street = _text(home, "strada", "answer.domiciliu")
    number = _text(home, "numar", "answer.domiciliu", optional=True)
    abroad_raw = _get(raw, "peste_hotare", "answer", False)
    country, foreign = "MD", None
    if abroad_raw is not None:
        abroad = _obj(abroad_raw, "answer.peste_hotare")
        country = _country(abroad, "tara", "answer.peste_hotare")
        foreign = _text(abroad, "adresa", "answer.peste_hotare")
        if country == "MD":
            raise SchemaError("answer.peste_hotare.tara: a foreign address in Moldova")
    return {
        "raion_code": raion,
        "locality": _text(home, "localitate", "answer.domiciliu"),
        "street": f"{street} {number}" if number else street,
        "country": country,
        "abroad": country != "MD",
        "foreign_address": foreign,
    }


def household(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    members = []
    for i, m in enumerate(_list(_get(raw, "membri", "answer", False), "answer.membri", max_len=50)):
        where = f"answer.membri[{i}]"
        m = _obj(m, where)
        members.append({
            "idnp": _idnp(m, "idnp", where),
            "first_name": _text(m, "prenume", where),
            "last_name": _text(m, "nume", where),
            "birth_date": _date(m, "data_nasterii", where).isoformat(),
            "relation": _code(m, "relatia", where, RELATIONS),
        })
    selves = [m for m in members if m["relation"] == "applicant"]
    if len(selves) != 1 or selves[0]["idnp"] != idnp:
        raise SchemaError("answer.membri: the person asked about must be the one 'titular'")
    if len({m["idnp"] for m in members}) != len(members):
        raise SchemaError("answer.membri: a member is listed twice")
    members.sort(key=lambda m: m["relation"] != "applicant")  # applicant first, registry order otherwise
    return {"members": members}


def births(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp_parinte", idnp)
    children = []
    for i, act in enumerate(_list(_get(raw, "acte_de_nastere", "answer", False), "answer.acte_de_nastere", 50)):
        where = f"answer.acte_de_nastere[{i}]"
        act = _obj(act, where)
        parents = (_idnp(act, "idnp_mama", where, optional=True), _idnp(act, "idnp_tata", where, optional=True))
        if idnp not in parents:
            raise SchemaError(f"{where}: the parent asked about is neither mother nor father")
        child = _obj(_get(act, "copil", where, False), f"{where}.copil")
        children.append({
            "idnp": _idnp(child, "idnp", f"{where}.copil"),
            "first_name": _text(child, "prenume", f"{where}.copil"),
            "last_name": _text(child, "nume", f"{where}.copil"),
            "birth_date": _date(child, "data_nasterii", f"{where}.copil").isoformat(),
            "record_number": _text(act, "numar_act", where),
        })
    return {"children": children}


def marriages(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    out = []
    for i, act in enumerate(_list(_get(raw, "acte_de_casatorie", "answer", False), "answer.acte_de_casatorie", 20)):
        where = f"answer.acte_de_casatorie[{i}]"
        act = _obj(act, where)
        spouses = []
        for k, s in enumerate(_list(_get(act, "soti", where, False), f"{where}.soti", 2)):
            s = _obj(s, f"{where}.soti[{k}]")
            spouses.append({"idnp": _idnp(s, "idnp", f"{where}.soti[{k}]"),
                            "first_name": _text(s, "prenume", f"{where}.soti[{k}]"),
                            "last_name": _text(s, "nume", f"{where}.soti[{k}]")})
        if len(spouses) != 2 or spouses[0]["idnp"] == spouses[1]["idnp"]:
            raise SchemaError(f"{where}.soti: a marriage has two different spouses")
        others = [s for s in spouses if s["idnp"] != idnp]
        if len(others) != 1:
            raise SchemaError(f"{where}.soti: the person asked about is not a spouse")
        registered = _date(act, "data_inregistrarii", where)
        status = _code(act, "stare", where, MARRIAGE_STATUS)
        ended = _date(act, "data_desfacerii", where, optional=True)
        reason = _get(act, "motiv_desfacere", where, True)
        if status == "ended":
            if ended is None or reason is None:
                raise SchemaError(f"{where}: an ended marriage needs data_desfacerii and motiv_desfacere")
            if ended < registered:
                raise SchemaError(f"{where}.data_desfacerii: before the marriage")
            reason = _code(act, "motiv_desfacere", where, MARRIAGE_END)
        elif ended is not None:
            raise SchemaError(f"{where}.data_desfacerii: set for a marriage in force")
        out.append({
            "record_number": _text(act, "numar_act", where),
            "registered_on": registered.isoformat(),
            "spouse_idnp": others[0]["idnp"],
            "spouse_first_name": others[0]["first_name"],
            "spouse_last_name": others[0]["last_name"],
            "status": status,
            "ended_on": ended.isoformat() if status == "ended" else None,
            "end_reason": reason if status == "ended" else None,
        })
    out.sort(key=lambda m: m["registered_on"])
    return {"marriages": out}


def insurance(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    record = _obj(_get(raw, "stagiu_contributiv", "answer", False), "answer.stagiu_contributiv")
    pension_raw = _get(raw, "pensie", "answer", False)
    pension = None
    if pension_raw is not None:
        p = _obj(pension_raw, "answer.pensie")
        pension = {"type": _code(p, "tip", "answer.pensie", PENSION_TYPES),
                   "monthly": round(_amount(p, "cuantum_lunar", "answer.pensie"), 2)}
    benefits = []
    for i, b in enumerate(_list(_get(raw, "prestatii", "answer", False), "answer.prestatii", 50)):
        b = _obj(b, f"answer.prestatii[{i}]")
        benefits.append({"code": _code(b, "cod", f"answer.prestatii[{i}]", BENEFIT_CODES),
                         "monthly": round(_amount(b, "suma_lunara", f"answer.prestatii[{i}]"), 2)})
    return {
        "idnp": idnp,
        "insured_months_last_24": _int(record, "luni_ultimele_24", "answer.stagiu_contributiv", 0, 24),
        "average_insured_income": round(_amount(record, "venit_asigurat_mediu", "answer.stagiu_contributiv"), 2),
        "pension": pension,
        "benefits": benefits,
    }


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def income(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    period = _obj(_get(raw, "perioada", "answer", False), "answer.perioada")
    start, end = _date(period, "de_la", "answer.perioada"), _date(period, "pana_la", "answer.perioada")
    asked = params.get("period_from"), params.get("period_to")
    if asked != (None, None) and (start, end) != asked:
        raise SchemaError("answer.perioada: not the period asked for")
    if end < start:
        raise SchemaError("answer.perioada: ends before it starts")
    totals = {t: 0.0 for t in INCOME_ORDER}
    for i, row in enumerate(_list(_get(raw, "venituri", "answer", False), "answer.venituri", 200)):
        where = f"answer.venituri[{i}]"
        row = _obj(row, where)
        month = _get(row, "luna", where, False)
        if not isinstance(month, str) or not _MONTH.match(month):
            raise SchemaError(f"{where}.luna: expected yyyy-mm")
        first = dt.date(int(month[:4]), int(month[5:]), 1)
        if not start.replace(day=1) <= first <= end:
            raise SchemaError(f"{where}.luna: outside the period")
        totals[_code(row, "tip_venit", where, INCOME_TYPES)] += _amount(row, "suma", where)
    months = months_between(start, end)
    sources = [{"type": t, "monthly": round(totals[t] / months, 2)} for t in INCOME_ORDER if totals[t] > 0]
    return {
        "idnp": idnp,
        "period_from": start.isoformat(),
        "period_to": end.isoformat(),
        "sources": sources,
        "monthly_average": round(sum(totals.values()) / months, 2),
    }


def disability(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    cert_raw = _get(raw, "certificat", "answer", False)
    if cert_raw is None:
        return {"idnp": idnp, "degree": None, "valid_until": None}
    cert = _obj(cert_raw, "answer.certificat")
    _text(cert, "numar", "answer.certificat")
    _date(cert, "data_emiterii", "answer.certificat")
    until = _date(cert, "valabil_pana_la", "answer.certificat", optional=True)
    return {"idnp": idnp, "degree": _code(cert, "grad", "answer.certificat", DEGREES),
            "valid_until": until.isoformat() if until else None}


def unemployment(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    registered = _bool(raw, "somer_inregistrat", "answer")
    since = _date(raw, "data_inregistrarii", "answer", optional=True)
    if registered and since is None:
        raise SchemaError("answer.data_inregistrarii: missing for a registered unemployed person")
    return {"idnp": idnp, "registered": registered, "registered_since": since.isoformat() if registered else None}


def property_(raw: dict, idnp: str, params: Mapping) -> dict:
    _same_person(raw, "idnp", idnp)
    land = 0.0
    dwellings = 0
    for i, item in enumerate(_list(_get(raw, "bunuri_imobile", "answer", False), "answer.bunuri_imobile", 200)):
        where = f"answer.bunuri_imobile[{i}]"
        item = _obj(item, where)
        _text(item, "numar_cadastral", where)
        kind, unit = _code(item, "tip", where, PARCELS)
        if _get(item, "unitate", where, False) != unit:
            raise SchemaError(f"{where}.unitate: expected {unit}")
        area = _amount(item, "suprafata", where, maximum=100_000)
        share = _get(item, "cota_parte", where, False)
        match = _SHARE.match(share) if isinstance(share, str) else None
        if not match or not 0 < int(match[1]) <= int(match[2]):
            raise SchemaError(f"{where}.cota_parte: expected a share like 1/2")
        if kind == "land":
            land += area * int(match[1]) / int(match[2])
        else:
            dwellings += 1
    return {"idnp": idnp, "land_ha": round(land, 4), "dwellings": dwellings}


@dataclass(frozen=True)
class Service:
    """One registry service: how to ask (query parameters) and how to read the answer."""

    registry: str
    name: str
    parse: Callable[[dict, str, Mapping], dict]
    query: Callable[[Mapping], dict[str, str]] = lambda params: {}


def _income_query(params: Mapping) -> dict[str, str]:
    out = {}
    if params.get("period_from"):
        out["de_la"] = params["period_from"].isoformat()
    if params.get("period_to"):
        out["pana_la"] = params["period_to"].isoformat()
    return out


SERVICES: dict[tuple[str, str], Service] = {
    (s.registry, s.name): s for s in (
        Service("rsp", "identity", identity),
        Service("rsp", "address", address),
        Service("rsp", "household", household),
        Service("civil", "births", births),
        Service("civil", "marriages", marriages),
        Service("cnas", "insurance", insurance),
        Service("sfs", "income", income, _income_query),
        Service("cnddcm", "disability", disability),
        Service("anofm", "unemployment", unemployment),
        Service("cadastre", "property", property_),
    )
}
