"""Dated parameters: loading refuses mistakes; a value added for a future date applies from that date only."""
from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from decimal import Decimal

import pytest

from portal.catalogue import load_catalogue
from portal.eligibility import RULES, evaluate
from portal.eligibility.parameters import (
    PARAMETERS_DIR,
    ParameterError,
    ParameterNotInForce,
    default_parameters,
    load_parameters,
)
from portal.routing.rules import route
from eligibility_helpers import couple_with_two_children

D = dt.date
HEADER = 'label = { ro = "r", ru = "р", en = "e" }\nunit = "lei"\n'


def write(tmp_path, body: str):
    (tmp_path / "topic.toml").write_text(body, encoding="utf-8")
    return tmp_path


def value(start, amount, end=None, basis="HG 1/2025", confirmed="true") -> str:
    until = f"valid_to = {end}\n" if end else ""
    return (f"[[x.values]]\nvalid_from = {start}\n{until}value = {amount}\nlegal_basis = \"{basis}\"\n"
            f"confirmed = {confirmed}\n")


def test_every_parameter_file_loads_and_every_value_says_where_it_comes_from():
    params = load_parameters()
    assert len(params.by_name) >= 30
    for p in params.by_name.values():
        assert all(v.legal_basis for v in p.values)
        assert all(p.label.get(lang) for lang in ("ro", "ru", "en"))
    # EXAMPLE figures from the domain brief are marked unconfirmed, confirmed ones are not.
    vlmg = params["social_aid.vlmg"]
    assert [(v.valid_from, v.value, v.confirmed) for v in vlmg.values] == [
        (D(2020, 4, 1), Decimal(1107), True), (D(2024, 4, 1), Decimal(1600), False)]


def test_a_value_is_in_force_until_the_next_or_its_valid_to(tmp_path):
    params = load_parameters(write(tmp_path, "[x]\n" + HEADER + value("2024-01-01", 10, end="2024-06-30")
                                   + value("2025-01-01", 20)))
    x = params["topic.x"]
    assert x.at(D(2024, 6, 30)).value == Decimal(10)
    with pytest.raises(ParameterNotInForce):
        x.at(D(2024, 7, 1))  # the gap: no value in force
    assert x.at(D(2025, 1, 1)).value == Decimal(20) and x.at(D(2030, 1, 1)).value == Decimal(20)
    with pytest.raises(ParameterNotInForce):
        x.at(D(2023, 12, 31))


@pytest.mark.parametrize("body, message", [
    ("[x]\n" + HEADER + value("2025-01-01", 1) + value("2024-01-01", 2), "date order"),
    ("[x]\n" + HEADER + value("2024-01-01", 1, end="2025-02-01") + value("2025-01-01", 2), "overlaps"),
    ("[x]\n" + HEADER + value("2024-01-01", 1, basis=""), "legal_basis"),
    ("[x]\n" + HEADER + value("2024-01-01", 1, confirmed='"yes"'), "confirmed"),
    ("[x]\nlabel = { ro = \"r\" }\nunit = \"lei\"\n" + value("2024-01-01", 1), "label"),
    ("[x]\nlabel = { ro = \"r\", ru = \"р\", en = \"e\" }\nunit = \"euro\"\n" + value("2024-01-01", 1), "unit"),
    ("[x]\n" + HEADER, "no values"),
    ("[x]\n" + HEADER + value("2024-01-01", 1, end="2023-01-01"), "before valid_from"),
])
def test_mistakes_are_refused_when_loading(tmp_path, body, message):
    with pytest.raises(ParameterError, match=message):
        load_parameters(write(tmp_path, body))


def test_a_policy_analyst_adds_a_value_for_a_future_date(tmp_path):
    """The README's recipe: append a value with a future valid_from; nothing before that date changes."""
    shutil.copytree(PARAMETERS_DIR, tmp_path / "parameters")
    path = tmp_path / "parameters" / "social_aid.toml"
    path.write_text(path.read_text(encoding="utf-8") + (
        "\n[[vlmg.values]]\nvalid_from = 2027-04-01\nvalue = 1700\n"
        'legal_basis = "HG nr. 999/2027 (indexation of 1 April 2027)"\nconfirmed = true\n'), encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))
    params = load_parameters(tmp_path / "parameters")
    x = couple_with_two_children(income="2100")
    before = evaluate("social_aid", x, D(2027, 3, 31), params)
    after = evaluate("social_aid", x, D(2027, 4, 1), params)
    assert before.amount == Decimal("2220.00")  # 1,600 × 2.7 − 2,100
    assert after.amount == Decimal("2490.00")  # 1,700 × 2.7 − 2,100
    used = next(u for u in after.parameters if u.name == "social_aid.vlmg")
    assert (used.valid_from, used.legal_basis, used.confirmed) == (D(2027, 4, 1), "HG nr. 999/2027 (indexation of "
                                                                   "1 April 2027)", True)


def test_every_benefit_with_rules_is_in_the_catalogue_and_routed():
    catalogue = load_catalogue()
    for code in RULES:
        assert code in catalogue.benefits
        assert route(code, "ialoveni") and route(code, "soroca")
    assert route("childcare_allowance", "soroca") == "CNAS" == route("disability_allowance", "cahul")
    assert route("energy_compensation", "ialoveni") == "ATAS-CENTRU"


def test_rules_read_every_figure_from_the_parameters():
    """No amount or threshold in code: each benefit reads parameters, and only names that exist."""
    params = default_parameters()
    x = couple_with_two_children(income="2100", answers={"heating_source": "gas", "bank_interest": "0"})
    results = [evaluate(code, x, D(2025, 12, 1)) for code in RULES]
    assert len([r for r in results if r.amount is not None]) >= 3
    for r in results:
        if r.amount is not None:
            assert r.parameters and r.calculation, r.benefit
        assert all(u.name in params for u in r.parameters)
