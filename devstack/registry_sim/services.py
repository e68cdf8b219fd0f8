"""What each simulated registry answers, in the registry's own vocabulary.

The field names are the registries' (Romanian, as their interfaces are), not
eSocial's: the portal's client maps them.  Every answer is about one person and
carries ``retrieved_at``.  A service returns ``None`` when the registry does not
know the IDNP (the app turns that into a 404).
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from devstack.population import Person, Population

RELATION_CODES = {"applicant": "titular", "spouse": "sot", "child": "copil", "parent": "parinte",
                  "other": "alta_ruda"}
PENSION_CODES = {"age": "limita_de_varsta", "disability": "dizabilitate", "survivor": "urmas"}
BENEFIT_CODES = {"child_raising_allowance": "IC_CRESTERE", "child_care_allowance": "IC_INGRIJIRE",
                 "state_social_allowance": "ALOC_SOC_STAT", "unemployment_benefit": "AJ_SOMAJ"}
INCOME_CODES = {"salary": "SAL", "pension": "PEN", "business": "AFI", "other": "ALT"}
DEGREE_CODES = {"severe": "sever", "accentuated": "accentuat", "medium": "mediu"}
END_REASON_CODES = {"death": "deces", "divorce": "divort"}
PARCEL_CODES = {"agricultural_land": "teren_agricol", "garden": "teren_gradina", "house": "casa",
                "apartment": "apartament"}


class BadRequest(ValueError):
    """The query itself is wrong (e.g. a malformed period): HTTP 400."""


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def identity(pop: Population, person: Person, args: dict) -> dict:
    return {
        "idnp": person.idnp,
        "nume": person.last_name,
        "prenume": person.first_name,
        "data_nasterii": _iso(person.birth_date),
        "sexul": person.sex,
        "cetatenia": person.citizenship,
        "statut": "activ" if person.alive else "decedat",
        "data_decesului": _iso(person.deceased_on),
    }


def address(pop: Population, person: Person, args: dict) -> dict:
    a = person.address
    return {
        "idnp": person.idnp,
        "domiciliu": {"raion": a.raion_code, "localitate": a.locality, "strada": a.street, "numar": a.number},
        "peste_hotare": {"tara": a.country, "adresa": a.foreign_address} if a.abroad else None,
    }


def household(pop: Population, person: Person, args: dict) -> dict:
    return {
        "idnp": person.idnp,
        "gospodarie": person.household_id,
        "membri": [{"idnp": m.idnp, "nume": m.last_name, "prenume": m.first_name,
                    "data_nasterii": _iso(m.birth_date), "relatia": RELATION_CODES[relation]}
                   for m, relation in pop.members(person.idnp)],
    }


def births(pop: Population, person: Person, args: dict) -> dict:
    acts = []
    for record in pop.births_of(person.idnp):
        child = pop.person(record.child_idnp)
        acts.append({
            "numar_act": record.record_number,
            "data_inregistrarii": _iso(record.registered_on),
            "copil": {"idnp": child.idnp, "nume": child.last_name, "prenume": child.first_name,
                      "data_nasterii": _iso(child.birth_date), "sexul": child.sex},
            "idnp_mama": record.mother_idnp,
            "idnp_tata": record.father_idnp,
        })
    return {"idnp_parinte": person.idnp, "acte_de_nastere": acts}


def marriages(pop: Population, person: Person, args: dict) -> dict:
    acts = []
    for record in pop.marriages_of(person.idnp):
        spouses = [pop.person(i) for i in record.spouse_idnps]
        acts.append({
            "numar_act": record.record_number,
            "data_inregistrarii": _iso(record.registered_on),
            "soti": [{"idnp": s.idnp, "nume": s.last_name, "prenume": s.first_name,
                      "data_nasterii": _iso(s.birth_date)} for s in spouses],
            "stare": "desfacuta" if record.ended_on else "in_vigoare",
            "data_desfacerii": _iso(record.ended_on),
            "motiv_desfacere": END_REASON_CODES.get(record.end_reason) if record.end_reason else None,
        })
    return {"idnp": person.idnp, "acte_de_casatorie": acts}


def insurance(pop: Population, person: Person, args: dict) -> dict:
    ins = person.insurance
    return {
        "idnp": person.idnp,
        "stagiu_contributiv": {"luni_ultimele_24": ins.insured_months_last_24,
                               "venit_asigurat_mediu": ins.average_insured_income},
        "pensie": ({"tip": PENSION_CODES.get(ins.pension.type, ins.pension.type),
                    "cuantum_lunar": ins.pension.monthly} if ins.pension else None),
        "prestatii": [{"cod": BENEFIT_CODES.get(b.code, b.code), "suma_lunara": b.monthly} for b in ins.benefits],
    }


def _default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    first_this = today.replace(day=1)
    end = first_this - dt.timedelta(days=1)
    start = first_this
    for _ in range(3):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def income(pop: Population, person: Person, args: dict) -> dict:
    try:
        default = _default_period(pop.today)
        start = dt.date.fromisoformat(args["de_la"]) if args.get("de_la") else default[0]
        end = dt.date.fromisoformat(args["pana_la"]) if args.get("pana_la") else default[1]
    except ValueError as exc:
        raise BadRequest("de_la and pana_la are ISO dates (yyyy-mm-dd)") from exc
    if end < start or (end - start).days > 366:
        raise BadRequest("the period must run forwards and span at most a year")
    rows = [{"luna": i.month.strftime("%Y-%m"), "tip_venit": INCOME_CODES[i.source], "suma": i.amount}
            for i in person.incomes if start <= i.month <= end]
    return {"idnp": person.idnp, "perioada": {"de_la": start.isoformat(), "pana_la": end.isoformat()},
            "venituri": rows}


def disability(pop: Population, person: Person, args: dict) -> dict:
    d = person.disability
    return {
        "idnp": person.idnp,
        "certificat": ({"numar": d.certificate, "grad": DEGREE_CODES[d.degree], "data_emiterii": _iso(d.issued_on),
                        "valabil_pana_la": _iso(d.valid_until)} if d else None),
    }


def unemployment(pop: Population, person: Person, args: dict) -> dict:
    return {"idnp": person.idnp, "somer_inregistrat": person.unemployed_since is not None,
            "data_inregistrarii": _iso(person.unemployed_since)}


def property_(pop: Population, person: Person, args: dict) -> dict:
    return {
        "idnp": person.idnp,
        "bunuri_imobile": [{"numar_cadastral": p.cadastral_number, "tip": PARCEL_CODES[p.kind],
                            "suprafata": p.area, "unitate": "ha" if p.is_land else "m2", "cota_parte": p.share}
                           for p in person.parcels],
    }


Service = Callable[[Population, Person, dict], dict]

# registry code (config/reference/registries.toml) → service name → answer
SERVICES: dict[str, dict[str, Service]] = {
    "rsp": {"identity": identity, "address": address, "household": household},
    "civil": {"births": births, "marriages": marriages},
    "cnas": {"insurance": insurance},
    "sfs": {"income": income},
    "cnddcm": {"disability": disability},
    "anofm": {"unemployment": unemployment},
    "cadastre": {"property": property_},
}


def malformed(registry: str, service: str, answer: dict, variant: str, pop: Population) -> tuple[str | dict, str]:
    """A 200 answer that breaks the schema: (body, content type)."""
    if variant == "truncated":
        import json

        text = json.dumps(answer, ensure_ascii=False)
        return text[: max(1, len(text) // 2)], "application/json"
    if variant == "wrong_person":
        # a well-formed answer about somebody else: the client must notice the IDNP does not match
        subject = answer.get("idnp") or answer.get("idnp_parinte")
        other = next(p for p in pop if p.idnp != subject and p.alive)
        fixed = dict(SERVICES[registry][service](pop, other, {}))
        fixed["retrieved_at"] = answer.get("retrieved_at")
        return fixed, "application/json"
    # "schema": the right keys with the wrong types, one required key missing
    broken: dict = {}
    keys = list(answer)
    for key in keys[1:]:
        value = answer[key]
        if isinstance(value, list):
            broken[key] = {"item": value[:1]}
        elif isinstance(value, dict):
            broken[key] = [value]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            broken[key] = str(value)
        elif value is None:
            broken[key] = "n/a"
        else:
            broken[key] = 0
    broken["retrieved_at"] = "ieri"
    return broken, "application/json"
