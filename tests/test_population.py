"""The synthetic population: deterministic, large enough, valid, and telling the demo people's stories."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter

import pytest

from devstack import demo_people
from devstack.population import RELATIONS, build_population
from portal.config import ROOT
from portal.core.idnp import is_person_idnp
from portal.routing.reference import load_territory

pytest_plugins = ["registry_fixtures"]

DEMO_IDNPS = {p.idnp for p in demo_people.EVERYONE}


def test_two_builds_are_equal(population):
    again = build_population(today=population.today)
    assert again == population
    assert again.fingerprint() == population.fingerprint()


def test_a_different_seed_gives_different_people(population):
    other = build_population(size=500, today=population.today, seed=population.seed + 1)
    assert other.fingerprint() != build_population(size=500, today=population.today).fingerprint()


def test_same_population_on_every_machine(population):
    """No hash-order dependence: another interpreter with another hash seed builds the same people."""
    today = population.today.isoformat()
    code = ("import datetime, devstack.population as p;"
            f"print(p.build_population(size=800, today=datetime.date.fromisoformat('{today}')).fingerprint())")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=60, check=True).stdout.strip()
    assert out == build_population(size=800, today=population.today).fingerprint()


def test_size_and_every_raion_has_households(population):
    assert len(population) >= 10_000
    counts = Counter(h.raion_code for h in population.households.values())
    raions = load_territory().raions
    assert set(counts) == set(raions)
    assert min(counts.values()) >= 4


def test_idnps_are_valid_unique_and_never_collide_with_the_demo_range(population):
    for idnp, person in population.persons.items():
        assert person.idnp == idnp
        assert is_person_idnp(idnp), idnp
        assert idnp[0] in "02"
        if idnp.startswith("20050010000"):
            assert idnp in DEMO_IDNPS
    assert len({r.record_number for r in population.births}) == len(population.births)
    assert all(r.child_idnp in population for r in population.births)


def test_households_are_consistent(population):
    for household in population.households.values():
        members = [population.person(m) for m in household.member_idnps]
        assert members and members[0].idnp == household.applicant_idnp
        assert [m.relation for m in members].count("applicant") == 1
        assert {m.relation for m in members} <= set(RELATIONS)
        for m in members:
            assert m.household_id == household.id and m.alive
            assert m.address == household.address
            for parent_idnp in (m.mother_idnp, m.father_idnp):
                if parent_idnp:
                    parent = population.person(parent_idnp)
                    assert (m.birth_date - parent.birth_date).days > 15 * 365


def test_relations_are_seen_from_the_person_asking(population):
    ion = "2005001000017"
    relations = {p.idnp: r for p, r in population.members(ion)}
    spouse = next(i for i, r in relations.items() if r == "spouse")
    from_spouse = {p.idnp: r for p, r in population.members(spouse)}
    assert from_spouse[spouse] == "applicant" and from_spouse[ion] == "spouse"
    child = next(i for i, r in relations.items() if r == "child")
    from_child = {p.idnp: r for p, r in population.members(child)}
    assert from_child[ion] == "parent" and from_child[spouse] == "parent"


def test_the_population_is_varied(population):
    people = list(population)
    today = population.today
    households = list(population.households.values())
    abroad = [h for h in households if h.address.abroad]
    assert 0.01 < len(abroad) / len(households) < 0.1
    assert all(h.address.foreign_address and len(h.address.country) == 2 for h in abroad)
    deceased = [p for p in people if not p.alive]
    assert 0 < len(deceased) < 0.02 * len(people)
    assert any((today - p.birth_date).days < 365 for p in people)  # newborns
    assert {p.disability.degree for p in people if p.disability} == {"severe", "accentuated", "medium"}
    assert any(p.unemployed_since for p in people)
    assert any(p.land_ha > 0 for p in people) and any(p.dwellings for p in people)
    assert {p.insurance.pension.type for p in people if p.insurance.pension} >= {"age", "disability"}
    assert any(p.insurance.benefits for p in people)
    assert sum(len(h.unregistered_children) for h in households) > 0
    sources = {i.source for p in people for i in p.incomes}
    assert sources == {"salary", "pension", "business", "other"}
    months = population.income_months()[-3:]
    assert all(any(i.month == m for p in people for i in p.incomes) for m in months)
    assert {p.sex for p in people} == {"M", "F"}


def test_names_are_romanian_and_russian_with_proper_diacritics(population):
    names = {p.first_name for p in population} | {p.last_name for p in population}
    text = "".join(names)
    for letter in "șțăîâ":
        assert letter in text, letter
    assert not set(text) & set("şţ")  # comma below, never the cedilla forms
    assert {"Ivanov", "Ivanova"} <= names or {"Petrov", "Petrova"} <= names


# --- the demo people ----------------------------------------------------------------------------


@pytest.mark.parametrize("demo", demo_people.EVERYONE, ids=lambda p: p.last_name)
def test_every_demo_person_is_there_exactly(population, demo):
    person = population.person(demo.idnp)
    assert person is not None
    assert (person.first_name, person.last_name) == (demo.first_name, demo.last_name)
    assert person.birth_date.isoformat() == demo.birth_date
    assert person.address.raion_code == demo.raion
    assert person.sex == {1: "M", 2: "F"}[demo.gender]
    assert person.relation == "applicant" and person.alive


def test_ion_rusu_has_a_spouse_two_children_and_a_newborn(population):
    ion = "2005001000017"
    members = population.members(ion)
    relations = Counter(r for _, r in members)
    assert relations == {"applicant": 1, "spouse": 1, "child": 2}
    births = population.births_of(ion)
    assert len(births) == 2
    assert min(population.today - b.birth_date for b in births) == dt.timedelta(days=40)
    person = population.person(ion)
    recent = [i for i in person.incomes if i.month in population.income_months()[-3:]]
    assert [(i.source, i.amount) for i in recent] == [("salary", 2100.0)] * 3
    assert person.insurance.insured_months_last_24 == 20


def test_natalia_ceban_is_a_single_mother_of_a_newborn(population):
    natalia = "2005001000028"
    assert Counter(r for _, r in population.members(natalia)) == {"applicant": 1, "child": 1}
    (birth,) = population.births_of(natalia)
    assert population.today - birth.birth_date == dt.timedelta(days=20)
    assert birth.mother_idnp == natalia and birth.father_idnp is None
    assert population.person(natalia).insurance.insured_months_last_24 == 14


def test_maria_lungu_is_a_pensioner_alone_with_an_accentuated_disability(population):
    maria = population.person("2005001000039")
    assert [p.idnp for p, _ in population.members(maria.idnp)] == [maria.idnp]
    assert maria.insurance.pension.monthly == 2600.0 and maria.insurance.pension.type == "age"
    assert maria.disability.degree == "accentuated"
    assert population.births_of(maria.idnp) == []


def test_andrei_munteanu_lives_abroad_and_his_child_is_not_in_the_civil_register(population):
    andrei = population.person("2005001000040")
    assert andrei.address.abroad and andrei.address.country == "IT" and andrei.address.foreign_address
    assert andrei.address.raion_code == "cahul"  # raion of record
    assert Counter(r for _, r in population.members(andrei.idnp)) == {"applicant": 1, "spouse": 1}
    assert population.births_of(andrei.idnp) == []
    (child,) = population.household_of(andrei.idnp).unregistered_children
    assert child.birth_country == "IT" and child.father_idnp == andrei.idnp
    assert (population.today - child.birth_date).days < 365
    assert sum(i.amount for i in andrei.incomes) == 0 and andrei.insurance.insured_months_last_24 == 0


def test_staff_have_ordinary_households_and_jobs(population):
    for staff in demo_people.STAFF:
        person = population.person(staff.idnp)
        assert any(i.source == "salary" for i in person.incomes)
        assert population.household_of(staff.idnp).applicant_idnp == staff.idnp


def test_today_is_a_parameter_so_the_newborn_stays_recent():
    later = dt.date(2031, 3, 1)
    population = build_population(size=200, today=later)
    births = population.births_of("2005001000017")
    assert min(later - b.birth_date for b in births) == dt.timedelta(days=40)
    assert population.income_months()[-1] == dt.date(2031, 2, 1)
