"""eSocial's registry client and the prefill, against the simulator over real HTTP."""
from __future__ import annotations

import ast
import datetime as dt
import time
from pathlib import Path

import pytest
import requests

from devstack.population import Person
from portal.catalogue import load_catalogue
from portal.config import ROOT, load_settings
from portal.core import clock
from portal.core.idnp import make_idnp
from portal.registries import schemas
from portal.registries.client import (
    HttpRegistryClient,
    Purpose,
    Query,
    RegistryClient,
    RegistryDataError,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
    from_settings,
)
from portal.registries.prefill import ItemResult, income_period, prefill

pytest_plugins = ["registry_fixtures"]

ION, NATALIA, MARIA, ANDREI = "2005001000017", "2005001000028", "2005001000039", "2005001000040"
CASE_WORKER = "2005001000051"
PURPOSE = Purpose("application", "Legea nr. 133/2008 cu privire la ajutorul social; HG nr. 1167/2008", ION,
                  application_ref="APP-2026-0001")
ALL_ITEMS = {"identity": "rsp", "address": "rsp", "household": "rsp", "income": "sfs", "insurance": "cnas",
             "disability": "cnddcm", "unemployment": "anofm", "property": "cadastre", "births": "civil"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the client, registry by registry ---------------------------------------------------------------


def test_identity_address_household(registry_client):
    identity = registry_client.fetch("rsp", "identity", ION, PURPOSE).data
    assert identity == {"idnp": ION, "first_name": "Ion", "last_name": "Rusu", "birth_date": "1988-03-14",
                        "sex": "M", "citizenship": "MD", "deceased_on": None}
    address = registry_client.fetch("rsp", "address", ION, PURPOSE).data
    assert address["raion_code"] == "ialoveni" and address["country"] == "MD" and address["abroad"] is False
    assert address["foreign_address"] is None and address["locality"] and address["street"]
    household = registry_client.fetch("rsp", "household", ION, PURPOSE).data
    assert [m["relation"] for m in household["members"]] == ["applicant", "spouse", "child", "child"]


def test_births_insurance_income(registry_client, population):
    births = registry_client.fetch("civil", "births", ION, PURPOSE).data["children"]
    assert len(births) == 2 and all(c["record_number"].startswith("AN-") for c in births)
    insurance = registry_client.fetch("cnas", "insurance", ION, PURPOSE).data
    assert insurance["insured_months_last_24"] == 20 and insurance["average_insured_income"] == 2100.0
    start, end = income_period(population.today)
    income = registry_client.fetch("sfs", "income", ION, PURPOSE, params={"period_from": start, "period_to": end})
    assert income.data["monthly_average"] == 2100.0
    assert income.data["sources"] == [{"type": "salary", "monthly": 2100.0}]


def test_marriages(registry_client, population):
    marriages = registry_client.fetch("civil", "marriages", ION, PURPOSE).data["marriages"]
    assert len(marriages) == 1
    m = marriages[0]
    assert m["record_number"].startswith("AC-") and m["status"] == "in_force" and m["ended_on"] is None
    spouse = population.person(m["spouse_idnp"])
    assert (m["spouse_first_name"], m["spouse_last_name"]) == (spouse.first_name, spouse.last_name)
    first_child = min(c["birth_date"] for c in registry_client.fetch("civil", "births", ION, PURPOSE).data["children"])
    assert m["registered_on"] < first_child
    assert registry_client.fetch("civil", "marriages", m["spouse_idnp"], PURPOSE).data["marriages"][0][
        "spouse_idnp"] == ION


def test_disability_unemployment_property(registry_client, population):
    assert registry_client.fetch("cnddcm", "disability", MARIA, PURPOSE).data == {
        "idnp": MARIA, "degree": "accentuated", "valid_until": None}
    unemployed = next(p for p in population if p.unemployed_since and p.alive)
    record = registry_client.fetch("anofm", "unemployment", unemployed.idnp, PURPOSE).data
    assert record["registered"] and record["registered_since"] == unemployed.unemployed_since.isoformat()
    owner = next(p for p in population if p.land_ha > 0.5)
    record = registry_client.fetch("cadastre", "property", owner.idnp, PURPOSE).data
    assert record["land_ha"] == pytest.approx(owner.land_ha) and record["dwellings"] == owner.dwellings


def test_records_carry_the_registry_time_stamp_and_the_correlation_id(registry_client):
    record = registry_client.fetch("rsp", "identity", ION, PURPOSE, correlation_id="abc-123")
    assert record.correlation_id == "abc-123"
    assert record.retrieved_at.tzinfo is not None and record.received_at.tzinfo is not None


def test_the_x_road_headers_arrive(registry, registry_client):
    official = Purpose("case_review", "Legea nr. 289/2004 privind indemnizațiile", CASE_WORKER,
                       application_ref="APP-9")
    registry_client.fetch("cnas", "insurance", NATALIA, official, correlation_id="corr-42")
    (entry,) = registry.log(id="corr-42")
    assert entry["client"] == "MD/GOV/MMPS/ESOCIAL"
    assert entry["user_id"] == CASE_WORKER and entry["subject"] == NATALIA
    assert entry["purpose"] == "case_review"
    assert entry["legal_basis"] == "Legea nr. 289/2004 privind indemnizațiile"  # diacritics survive the header
    assert entry["application_ref"] == "APP-9"
    assert entry["path"] == f"/r1/MD/GOV/CNAS/INSURANCE/insurance/{NATALIA}"


def test_a_query_without_the_client_header_is_refused(registry):
    response = requests.get(f"{registry.base_url}/r1/MD/GOV/ASP/RSP/identity/{ION}", timeout=5)
    assert response.status_code == 400 and response.json()["error"] == "missing_client"
    with pytest.raises(ValueError):
        HttpRegistryClient(registry.base_url, "", timeout=2)


def test_unknown_person_is_not_found(registry_client, population):
    unknown = make_idnp("209999999999")
    assert unknown not in population
    with pytest.raises(RegistryNotFound) as info:
        registry_client.fetch("rsp", "identity", unknown, PURPOSE, correlation_id="nf-1")
    assert info.value.code == "not_found" and info.value.status == 404 and info.value.correlation_id == "nf-1"


@pytest.mark.parametrize("mode", ["down", "error"])
def test_down_and_error_are_unavailable(registry, registry_client, mode):
    registry.fault("cnas", mode)
    with pytest.raises(RegistryUnavailable) as info:
        registry_client.fetch("cnas", "insurance", ION, PURPOSE)
    assert info.value.registry == "cnas" and info.value.status in (500, 503)


def test_too_slow_is_unavailable(registry):
    registry.fault("sfs", "slow", latency_ms=600)
    with HttpRegistryClient(registry.base_url, "MD/GOV/MMPS/ESOCIAL", timeout=0.2) as client:
        with pytest.raises(RegistryUnavailable):  # the 0.2 s timeout gives up on a 0.6 s answer
            client.fetch("sfs", "income", ION, PURPOSE)


def test_nobody_listening_is_unavailable():
    with HttpRegistryClient(f"http://127.0.0.1:{free_port()}", "MD/GOV/MMPS/ESOCIAL", timeout=1) as client:
        with pytest.raises(RegistryUnavailable):
            client.fetch("rsp", "identity", ION, PURPOSE)


@pytest.mark.parametrize("variant", ["schema", "truncated", "wrong_person"])
@pytest.mark.parametrize("registry_code,service", sorted(schemas.SERVICES))
def test_malformed_answers_are_never_returned(registry, registry_client, variant, registry_code, service):
    registry.fault(registry_code, "malformed", variant=variant)
    with pytest.raises(RegistryDataError) as info:
        registry_client.fetch(registry_code, service, ION, PURPOSE)
    assert info.value.code == "malformed"


def test_unsupported_services_and_bad_input(registry_client):
    with pytest.raises(RegistryError) as info:
        registry_client.fetch("cnas", "passport", ION, PURPOSE)
    assert info.value.code == "unsupported"
    with pytest.raises(ValueError):
        registry_client.fetch("rsp", "identity", "123", PURPOSE)


def test_every_query_needs_a_purpose_a_legal_basis_and_an_actor():
    for args in (("", "Legea 133/2008", ION), ("application", " ", ION), ("application", "Legea", "12")):
        with pytest.raises(ValueError):
            Purpose(*args)
    assert Query is Purpose
    header = Purpose("application", "Legea nr. 289/2004 privind indemnizațiile", ION, "A/1").header()
    header.encode("ascii")  # HTTP headers are ASCII: diacritics are percent-encoded
    assert header.startswith("purpose=application; legal-basis=Legea%20nr.%20289%2F2004") and "ref=A%2F1" in header


def test_from_settings():
    settings = load_settings("test", overrides={"registry_base_url": "http://registries.test:8443/"})
    client = from_settings(settings)
    assert isinstance(client, RegistryClient)
    assert client.base_url == "http://registries.test:8443"
    assert client.client_id == settings.registry_client_id
    assert client.timeout == (min(3.0, settings.registry_timeout_seconds), settings.registry_timeout_seconds)
    assert client.url("cnas", "insurance", ION) == f"http://registries.test:8443/r1/MD/GOV/CNAS/INSURANCE/insurance/{ION}"
    client.close()


def test_schema_checks():
    good = {"idnp": ION, "stagiu_contributiv": {"luni_ultimele_24": 3, "venit_asigurat_mediu": 10},
            "pensie": None, "prestatii": []}
    assert schemas.insurance(good, ION, {})["average_insured_income"] == 10.0
    broken = [
        {**good, "idnp": MARIA},
        {**good, "stagiu_contributiv": {"luni_ultimele_24": True, "venit_asigurat_mediu": 10}},
        {**good, "stagiu_contributiv": {"luni_ultimele_24": 25, "venit_asigurat_mediu": 10}},
        {**good, "stagiu_contributiv": {"luni_ultimele_24": 3, "venit_asigurat_mediu": -1}},
        {**good, "stagiu_contributiv": {"luni_ultimele_24": 3, "venit_asigurat_mediu": float("nan")}},
        {**good, "prestatii": [{"cod": "BONUS", "suma_lunara": 5}]},
        {k: v for k, v in good.items() if k != "pensie"},
    ]
    for raw in broken:
        with pytest.raises(schemas.SchemaError):
            schemas.insurance(raw, ION, {})
    with pytest.raises(schemas.SchemaError):
        schemas.retrieved_at({"retrieved_at": "2026-01-01T10:00:00"})  # no time zone


def test_marriage_schema_checks():
    spouse = {"idnp": MARIA, "nume": "Lungu", "prenume": "Maria"}
    me = {"idnp": ION, "nume": "Rusu", "prenume": "Ion"}
    act = {"numar_act": "AC-2015-000001", "data_inregistrarii": "2015-03-25", "soti": [spouse, me],
           "stare": "desfacuta", "data_desfacerii": "2020-01-02", "motiv_desfacere": "divort"}
    good = {"idnp": ION, "acte_de_casatorie": [act]}
    assert schemas.marriages(good, ION, {})["marriages"] == [{
        "record_number": "AC-2015-000001", "registered_on": "2015-03-25", "spouse_idnp": MARIA,
        "spouse_first_name": "Maria", "spouse_last_name": "Lungu", "status": "ended", "ended_on": "2020-01-02",
        "end_reason": "divorce"}]
    broken = [
        {**good, "idnp": MARIA},  # about someone else
        {**good, "acte_de_casatorie": [{**act, "soti": [spouse, spouse]}]},  # not a spouse, twice the same
        {**good, "acte_de_casatorie": [{**act, "soti": [spouse]}]},  # one spouse
        {**good, "acte_de_casatorie": [{**act, "stare": "suspendata"}]},  # unknown status
        {**good, "acte_de_casatorie": [{**act, "data_desfacerii": None}]},  # ended, no date
        {**good, "acte_de_casatorie": [{**act, "data_desfacerii": "2010-01-01"}]},  # ended before it began
        {**good, "acte_de_casatorie": [{**act, "motiv_desfacere": "plecare"}]},  # unknown reason
        {**good, "acte_de_casatorie": [{**act, "stare": "in_vigoare"}]},  # in force, yet an end date
        {**good, "acte_de_casatorie": {"act": act}},
    ]
    for raw in broken:
        with pytest.raises(schemas.SchemaError):
            schemas.marriages(raw, ION, {})


def test_production_code_does_not_import_devstack():
    for path in Path(ROOT, "portal", "registries").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "devstack" for n in names), path.name


# --- prefill --------------------------------------------------------------------------------------------


def _members(payload):
    return {m["idnp"]: m for m in payload["members"]}


def test_prefill_of_every_item_keeps_the_contract(registry, registry_client, population):
    results = prefill(registry_client, ALL_ITEMS, ION, PURPOSE, today=population.today)
    assert list(results) == list(ALL_ITEMS)
    for item, result in results.items():
        assert isinstance(result, ItemResult)
        assert (result.item, result.source, result.status, result.error) == (item, ALL_ITEMS[item], "fetched", None)
        assert result.fetched_at.tzinfo is not None and result.fetched_at.utcoffset() == dt.timedelta(0)
        assert result.correlation_id and registry.log(id=result.correlation_id)
    p = {item: r.payload for item, r in results.items()}

    assert set(p["identity"]) == {"idnp", "first_name", "last_name", "birth_date", "sex", "citizenship", "deceased_on"}
    assert p["identity"]["sex"] == "M" and p["identity"]["citizenship"] == "MD"
    assert p["address"] == {**p["address"], "raion_code": "ialoveni", "country": "MD", "abroad": False,
                            "foreign_address": None}
    assert set(p["address"]) == {"raion_code", "locality", "street", "country", "abroad", "foreign_address"}

    members = p["household"]["members"]
    assert all(set(m) == {"idnp", "first_name", "last_name", "birth_date", "relation"} for m in members)
    assert [m["relation"] for m in members] == ["applicant", "spouse", "child", "child"]
    everyone = [m["idnp"] for m in members]

    start, end = income_period(population.today)
    income = p["income"]
    assert set(income) == {"period_from", "period_to", "members", "household_monthly_average"}
    assert (income["period_from"], income["period_to"]) == (start.isoformat(), end.isoformat())
    assert [m["idnp"] for m in income["members"]] == everyone
    assert all(set(m) == {"idnp", "name", "monthly_average", "sources"} for m in income["members"])
    assert _members(income)[ION] == {"idnp": ION, "name": "Ion Rusu", "monthly_average": 2100.0,
                                     "sources": [{"type": "salary", "monthly": 2100.0}]}
    assert income["household_monthly_average"] == pytest.approx(sum(m["monthly_average"] for m in income["members"]))

    insurance = p["insurance"]["members"]
    assert [m["idnp"] for m in insurance] == everyone
    assert all(set(m) == {"idnp", "name", "insured_months_last_24", "average_insured_income", "pension",
                          "benefits"} for m in insurance)
    assert _members(p["insurance"])[ION]["insured_months_last_24"] == 20

    assert p["disability"] == {"members": []}
    assert p["unemployment"] == {"members": []}
    assert [m["idnp"] for m in p["property"]["members"]] == everyone
    assert all(set(m) == {"idnp", "name", "land_ha", "dwellings"} for m in p["property"]["members"])

    children = p["births"]["children"]
    assert all(set(c) == {"idnp", "first_name", "last_name", "birth_date", "record_number"} for c in children)
    newest = max(dt.date.fromisoformat(c["birth_date"]) for c in children)
    assert population.today - newest == dt.timedelta(days=40)


def test_prefill_for_the_pensioner_and_the_family_abroad(registry_client, population):
    maria = prefill(registry_client, ALL_ITEMS, MARIA, PURPOSE, today=population.today)
    assert maria["disability"].payload == {"members": [{"idnp": MARIA, "name": "Maria Lungu",
                                                        "degree": "accentuated", "valid_until": None}]}
    assert _members(maria["insurance"].payload)[MARIA]["pension"] == {"type": "age", "monthly": 2600.0}
    assert maria["income"].payload["household_monthly_average"] == 2600.0

    andrei = prefill(registry_client, ALL_ITEMS, ANDREI, PURPOSE, today=population.today)
    address = andrei["address"].payload
    assert address["abroad"] is True and address["country"] == "IT" and address["foreign_address"]
    assert address["raion_code"] == "cahul"
    assert andrei["births"].status == "fetched" and andrei["births"].payload == {"children": []}
    assert andrei["income"].payload["household_monthly_average"] == 0.0


def test_members_with_disability_or_unemployment_only(registry_client, population):
    household = next(h for h in population.households.values()
                     if len(h.member_idnps) >= 3 and any(population.person(m).disability for m in h.member_idnps)
                     and any(population.person(m).unemployed_since for m in h.member_idnps))
    applicant = household.applicant_idnp
    results = prefill(registry_client, ALL_ITEMS, applicant, PURPOSE, today=population.today)
    people: list[Person] = [population.person(m) for m in household.member_idnps]
    assert {m["idnp"] for m in results["disability"].payload["members"]} == {p.idnp for p in people if p.disability}
    assert {m["idnp"] for m in results["unemployment"].payload["members"]} == {
        p.idnp for p in people if p.unemployed_since}
    assert all(m["name"] for m in results["unemployment"].payload["members"])


def test_without_the_household_item_only_the_applicant_is_asked(registry, registry_client, population):
    items = load_catalogue().items_for(["birth_allowance"])
    assert "household" not in items
    results = prefill(registry_client, items, NATALIA, PURPOSE, today=population.today)
    assert [m["idnp"] for m in results["insurance"].payload["members"]] == [NATALIA]
    assert results["insurance"].payload["members"][0]["name"] == "Natalia Ceban"
    assert {e["subject"] for e in registry.log()} == {NATALIA}


def test_a_registry_down_gives_pending_and_the_rest_is_fetched(registry, registry_client, population):
    registry.fault("cnas", "down")
    results = prefill(registry_client, ALL_ITEMS, ION, PURPOSE, today=population.today)
    assert (results["insurance"].status, results["insurance"].error, results["insurance"].payload) == (
        "pending", "unavailable", None)
    assert all(r.status == "fetched" for item, r in results.items() if item != "insurance")


def test_a_malformed_answer_gives_failed_and_nothing_kept(registry, registry_client, population):
    registry.fault("sfs", "malformed", variant="wrong_person")
    registry.fault("civil", "malformed")
    results = prefill(registry_client, ALL_ITEMS, ION, PURPOSE, today=population.today)
    for item in ("income", "births"):
        assert (results[item].status, results[item].error, results[item].payload) == ("failed", "malformed", None)
    assert results["identity"].status == "fetched"


def test_the_population_register_down_holds_back_household_items(registry, registry_client, population):
    registry.fault("rsp", "error")
    results = prefill(registry_client, ALL_ITEMS, ION, PURPOSE, today=population.today)
    for item in ("identity", "address", "household"):
        assert (results[item].status, results[item].error) == ("pending", "unavailable")
    for item in ("income", "insurance", "disability", "unemployment", "property"):
        assert (results[item].status, results[item].error, results[item].payload) == (
            "pending", "household_unavailable", None)
    assert results["births"].status == "fetched"  # the civil register is up


def test_unknown_applicant_fails_as_not_found(registry_client, population):
    results = prefill(registry_client, {"identity": "rsp", "births": "civil"}, make_idnp("209999999999"), PURPOSE)
    assert {(r.status, r.error) for r in results.values()} == {("failed", "not_found")}


def test_an_item_from_a_registry_without_that_service_fails_cleanly(registry_client):
    results = prefill(registry_client, {"identity": "cnas"}, ION, PURPOSE)
    assert (results["identity"].status, results["identity"].error) == ("failed", "unsupported")


def test_fetched_at_comes_from_the_clock(registry_client):
    fixed = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
    clock.set_clock(lambda: fixed)
    try:
        results = prefill(registry_client, {"identity": "rsp", "income": "sfs"}, ION, PURPOSE)
    finally:
        clock.set_clock(None)
    assert results["identity"].fetched_at == fixed
    assert (results["income"].payload["period_from"], results["income"].payload["period_to"]) == (
        "2025-12-01", "2026-02-28")


def test_correlation_ids_tie_the_queries_of_an_item_together(registry, registry_client, population):
    purpose = Purpose("application", "Legea nr. 133/2008", ION, "APP-1", correlation_id="req-7f3a")
    results = prefill(registry_client, {"household": "rsp", "insurance": "cnas"}, ION, purpose)
    assert results["insurance"].correlation_id == "req-7f3a-insurance"
    ids = sorted(e["id"] for e in registry.log(id="req-7f3a-insurance"))
    assert ids == [f"req-7f3a-insurance/{n}" for n in range(1, 5)]


def test_registries_are_asked_concurrently(registry, registry_client, population):
    latency = 0.3
    registry.fault("cnas", "slow", latency_ms=int(latency * 1000))
    registry.fault("sfs", "slow", latency_ms=int(latency * 1000))
    results = prefill(registry_client, ALL_ITEMS, ION, PURPOSE, today=population.today)
    assert all(r.status == "fetched" for r in results.values())

    # The simulator's own log says when each query arrived and how long it was served: a query to one
    # slow registry arrived while one to the other was still being answered.
    def spans(code):
        for e in registry.log(registry=code):
            start = dt.datetime.fromisoformat(e["at"]).timestamp()
            yield start, start + e["duration_ms"] / 1000

    assert any(a < d and c < b for a, b in spans("cnas") for c, d in spans("sfs"))
