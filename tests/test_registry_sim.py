"""The registry simulator as a service: X-Road headers, answers in each registry's vocabulary, faults, access log."""
from __future__ import annotations

import time

import pytest
import requests

from devstack.registry_sim import parse_purpose
from portal.core.idnp import make_idnp

pytest_plugins = ["registry_fixtures"]

ION = "2005001000017"
HEADERS = {"X-Road-Client": "MD/GOV/MMPS/ESOCIAL", "X-Road-Id": "test-1", "X-Road-UserId": ION,
           "X-Road-Purpose": "purpose=application; legal-basis=Legea%20nr.%20133%2F2008; ref=APP-7"}
PATHS = {
    "rsp": ("ASP/RSP", ("identity", "address", "household")),
    "civil": ("ASP/CIVIL", ("births", "marriages")),
    "cnas": ("CNAS/INSURANCE", ("insurance",)),
    "sfs": ("SFS/INCOME", ("income",)),
    "cnddcm": ("CNDDCM/DISABILITY", ("disability",)),
    "anofm": ("ANOFM/EMPLOYMENT", ("unemployment",)),
    "cadastre": ("ASP/CADASTRE", ("property",)),
}


def get(registry, path, idnp=ION, headers=HEADERS, **params):
    return requests.get(f"{registry.base_url}/r1/MD/GOV/{path}/{idnp}", headers=headers, params=params, timeout=5)


@pytest.mark.parametrize("code", list(PATHS))
def test_every_registry_answers_in_its_own_words_with_a_time_stamp(registry, code):
    prefix, services = PATHS[code]
    for service in services:
        response = get(registry, f"{prefix}/{service}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["retrieved_at"].endswith("+00:00")
        assert ION in (body.get("idnp"), body.get("idnp_parinte"))
        assert "first_name" not in body and "members" not in body  # the registry's names, not eSocial's
        assert response.headers["X-Road-Id"] == "test-1"
        assert response.headers["X-Road-Request-Hash"]


def test_the_household_is_described_from_the_person_asked(registry, population):
    members = get(registry, "ASP/RSP/household").json()["membri"]
    assert [m["relatia"] for m in members] == ["titular", "sot", "copil", "copil"]
    spouse = members[1]["idnp"]
    seen_by_spouse = {m["idnp"]: m["relatia"] for m in get(registry, "ASP/RSP/household", spouse).json()["membri"]}
    assert seen_by_spouse[spouse] == "titular" and seen_by_spouse[ION] == "sot"


def test_income_covers_the_period_asked(registry):
    body = get(registry, "SFS/INCOME/income", de_la="2000-01-01", pana_la="2000-03-31").json()
    assert body["perioada"] == {"de_la": "2000-01-01", "pana_la": "2000-03-31"} and body["venituri"] == []
    assert get(registry, "SFS/INCOME/income", de_la="not-a-date").status_code == 400
    default = get(registry, "SFS/INCOME/income").json()
    assert {row["tip_venit"] for row in default["venituri"]} == {"SAL"} and len(default["venituri"]) == 3


def test_births_list_only_children_registered_in_moldova(registry):
    acts = get(registry, "ASP/CIVIL/births").json()["acte_de_nastere"]
    assert len(acts) == 2 and all(a["idnp_tata"] == ION for a in acts)
    assert get(registry, "ASP/CIVIL/births", "2005001000040").json()["acte_de_nastere"] == []


def test_marriages_are_the_same_record_seen_from_each_spouse(registry, population):
    acts = get(registry, "ASP/CIVIL/marriages").json()["acte_de_casatorie"]
    assert len(acts) == 1 and acts[0]["stare"] == "in_vigoare" and acts[0]["data_desfacerii"] is None
    spouse = next(s["idnp"] for s in acts[0]["soti"] if s["idnp"] != ION)
    household = {m["idnp"]: m["relatia"] for m in get(registry, "ASP/RSP/household").json()["membri"]}
    assert household[spouse] == "sot"  # the civil register and the population register agree
    assert get(registry, "ASP/CIVIL/marriages", spouse).json()["acte_de_casatorie"] == acts
    child = next(i for i, relation in household.items() if relation == "copil")
    assert get(registry, "ASP/CIVIL/marriages", child).json()["acte_de_casatorie"] == []

    # A widowed person: the marriage ended on the spouse's death, as the population register records it.
    widowed = next(p for p in population if p.alive and population.marriages_of(p.idnp)
                   and population.marriages_of(p.idnp)[0].ended_on is not None)
    act = get(registry, "ASP/CIVIL/marriages", widowed.idnp).json()["acte_de_casatorie"][0]
    late = next(s["idnp"] for s in act["soti"] if s["idnp"] != widowed.idnp)
    assert act["stare"] == "desfacuta" and act["motiv_desfacere"] == "deces"
    assert act["data_desfacerii"] == get(registry, "ASP/RSP/identity", late).json()["data_decesului"]
    assert act["data_inregistrarii"] < act["data_desfacerii"]


def test_the_client_header_is_required(registry):
    response = get(registry, "ASP/RSP/identity", headers={"X-Road-Id": "x"})
    assert response.status_code == 400 and response.json()["error"] == "missing_client"
    response = get(registry, "ASP/RSP/identity", headers={"X-Road-Client": "ESOCIAL"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_unknown_people_services_and_numbers(registry, population):
    unknown = make_idnp("209999999999")
    assert unknown not in population
    response = get(registry, "ASP/RSP/identity", unknown)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert get(registry, "ASP/RSP/passport").status_code == 404
    assert get(registry, "XX/RSP/identity").json()["error"] == "unknown_service"
    bad = get(registry, "ASP/RSP/identity", ION[:-1] + str((int(ION[-1]) + 1) % 10))
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_idnp"


def test_every_request_is_logged_with_who_why_and_on_what_legal_basis(registry):
    get(registry, "CNAS/INSURANCE/insurance")
    get(registry, "ASP/RSP/identity", headers={"X-Road-Id": "anon"})
    (entry,) = registry.log(id="test-1")
    assert entry["client"] == "MD/GOV/MMPS/ESOCIAL" and entry["user_id"] == ION
    assert (entry["purpose"], entry["legal_basis"], entry["application_ref"]) == (
        "application", "Legea nr. 133/2008", "APP-7")
    assert (entry["registry"], entry["service"], entry["subject"], entry["status"]) == (
        "cnas", "insurance", ION, 200)
    refused = registry.log(id="anon")[0]
    assert refused["status"] == 400 and refused["client"] is None


def test_purpose_header_parsing():
    assert parse_purpose("purpose=x%3By; legal-basis=Legea%20%C8%9B") == {
        "purpose": "x;y", "legal_basis": "Legea ț", "application_ref": None}
    assert parse_purpose("free text")["purpose"] == "free text"


@pytest.mark.parametrize("mode,status", [("down", 503), ("error", 500)])
def test_faults_that_fail(registry, mode, status):
    registry.fault("cnas", mode)
    assert get(registry, "CNAS/INSURANCE/insurance").status_code == status
    assert get(registry, "ASP/RSP/identity").status_code == 200  # only that registry
    assert registry.log(registry="cnas")[-1]["fault"] == mode


def test_slow_and_malformed_faults(registry):
    registry.fault("sfs", "slow", latency_ms=150)
    started = time.perf_counter()
    assert get(registry, "SFS/INCOME/income").status_code == 200
    assert time.perf_counter() - started >= 0.15
    registry.fault("sfs", "malformed")
    response = get(registry, "SFS/INCOME/income")
    assert response.status_code == 200 and "idnp" not in response.json()
    registry.fault("sfs", "malformed", variant="truncated")
    with pytest.raises(ValueError):
        get(registry, "SFS/INCOME/income").json()
    registry.fault("sfs", "malformed", variant="wrong_person")
    assert get(registry, "SFS/INCOME/income").json()["idnp"] != ION


def test_faults_are_listed_validated_and_cleared(registry):
    registry.fault("cnas", "slow", latency_ms=300)
    registry.fault("*", "down")
    faults = requests.get(f"{registry.base_url}/_faults", timeout=5).json()
    assert set(faults) == {"rsp", "civil", "cnas", "sfs", "cnddcm", "anofm", "cadastre"}
    registry.fault("cnas", "ok")
    assert "cnas" not in requests.get(f"{registry.base_url}/_faults", timeout=5).json()
    for body in ({"registry": "nope", "mode": "down"}, {"registry": "cnas", "mode": "sleepy"},
                 {"registry": "cnas", "mode": "slow", "latency_ms": -1}, {"registry": "cnas", "mode": "slow",
                                                                          "latency_ms": "fast"}):
        assert requests.post(f"{registry.base_url}/_faults", json=body, timeout=5).status_code == 400


def test_the_home_page_lists_registries_samples_and_faults(registry):
    registry.fault("anofm", "down")
    page = requests.get(registry.base_url + "/", timeout=5).text
    assert "/r1/MD/GOV/CNAS/INSURANCE/insurance/" in page
    assert ION in page and "Ion Rusu" in page and "Andrei Munteanu" in page
    assert "down" in page
