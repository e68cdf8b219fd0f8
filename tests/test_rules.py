"""Pure rules: IDNP, catalogue loading, routing, status transitions, application steps."""
import datetime as dt
import tomllib

import pytest

from portal.applications import status as st
from portal.applications import steps
from portal.catalogue import load_catalogue
from portal.catalogue.loader import CatalogueError
from portal.core import idnp
from portal.core.errors import InvalidTransition
from portal.routing.reference import load_territory
from portal.routing.rules import NoRoute, Rule, load_rules, route


# --- IDNP -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2000000000004", "2004000123455", "0990000000017", "2005001000017"])
def test_valid_idnps(value):
    assert idnp.is_person_idnp(value)


@pytest.mark.parametrize("value", ["2000000000005", "200000000000", "20000000000041", "2A00000000004", "",
                                   "1008600038413"])
def test_invalid_or_non_person_idnps(value):
    assert not idnp.is_person_idnp(value)


def test_idno_is_well_formed_but_not_a_person():
    assert idnp.is_well_formed("1008600038413")


def test_make_idnp_round_trip():
    assert idnp.is_person_idnp(idnp.make_idnp("200312345678"))


def test_mask_hides_the_middle():
    assert idnp.mask("2005001000017") == "2005•••••0017"


# --- catalogue ------------------------------------------------------------------

def test_catalogue_has_the_three_benefits_as_data():
    cat = load_catalogue()
    assert {"social_aid", "cold_season_aid", "birth_allowance"} <= set(cat.benefits)
    for benefit in cat:
        assert set(benefit.title) == {"ro", "ru", "en"}
        assert benefit.data, "every benefit names the data it needs and its registry"


def test_items_for_several_benefits_merge():
    cat = load_catalogue()
    items = cat.items_for(["social_aid", "birth_allowance"])
    assert items["births"] == "civil" and items["income"] == "sfs" and items["identity"] == "rsp"


def test_catalogue_refuses_unknown_registry(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[data.identity]\ntitle = { ro = "x" }\n[[benefit]]\ncode = "b"\ntitle = { ro = "b" }\n'
                   'summary = { ro = "s" }\ndata = { identity = "nowhere" }\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown registry"):
        load_catalogue(bad)


def test_a_data_item_may_name_its_registry(tmp_path):
    cat = load_catalogue()
    assert cat.data_sources == {"marriages": "civil"}  # no benefit asks for marriages yet
    benefit = ('[[benefit]]\ncode = "b"\ntitle = { ro = "b" }\nsummary = { ro = "s" }\n'
               'data = { marriages = "%s" }\n')
    item = '[data.marriages]\ntitle = { ro = "x" }\nregistry = "%s"\n'
    path = tmp_path / "c.toml"
    path.write_text(item % "civil" + benefit % "civil", encoding="utf-8")
    assert load_catalogue(path).items_for(["b"]) == {"marriages": "civil"}
    path.write_text(item % "nowhere" + benefit % "civil", encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown registry"):
        load_catalogue(path)
    path.write_text(item % "civil" + benefit % "rsp", encoding="utf-8")
    with pytest.raises(CatalogueError, match="comes from civil"):
        load_catalogue(path)


# --- routing --------------------------------------------------------------------

def test_every_raion_has_a_territorial_agency():
    terr = load_territory()
    for code in terr.raions:
        assert terr.territorial_agency_for(code) is not None, code


@pytest.mark.parametrize("benefit,raion,agency", [
    ("social_aid", "ialoveni", "ATAS-CENTRU"),
    ("social_aid", "soroca", "ATAS-NORD-EST"),
    ("cold_season_aid", "cahul", "ATAS-SUD"),
    ("social_aid", "chisinau", "DGASP-CHISINAU"),
    ("birth_allowance", "ialoveni", "CNAS"),
    ("birth_allowance", "soroca", "CNAS"),
])
def test_route(benefit, raion, agency):
    assert route(benefit, raion) == agency


def test_specific_raion_rule_beats_wildcard():
    rules = load_rules() + (Rule(frozenset({"birth_allowance"}), frozenset({"soroca"}), agency="ATAS-NORD-EST"),)
    assert route("birth_allowance", "soroca", rules) == "ATAS-NORD-EST"
    assert route("birth_allowance", "ialoveni", rules) == "CNAS"


def test_no_route_for_unknown_benefit_or_raion():
    with pytest.raises(NoRoute):
        route("unknown", "ialoveni")
    with pytest.raises(NoRoute):
        route("social_aid", "atlantis")


def test_rule_must_name_one_target(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text('[[rule]]\nbenefits = ["x"]\nraions = ["*"]\n', encoding="utf-8")
    with pytest.raises(ValueError):
        load_rules(bad)


# --- status ---------------------------------------------------------------------

def test_allowed_transitions():
    st.check(st.SUBMITTED, st.IN_REVIEW, st.STAFF)
    st.check(st.INFO_REQUESTED, st.INFO_PROVIDED, st.APPLICANT)
    st.check(st.INFO_PROVIDED, st.APPROVED, st.STAFF)


@pytest.mark.parametrize("current,target,party", [
    (st.APPROVED, st.REJECTED, st.STAFF),       # a decision is final
    (st.REJECTED, st.IN_REVIEW, st.STAFF),
    (st.SUBMITTED, st.APPROVED, st.APPLICANT),  # the citizen cannot decide
    (st.INFO_REQUESTED, st.APPROVED, st.STAFF),  # waiting for the citizen
    (st.SUBMITTED, st.INFO_PROVIDED, st.APPLICANT),
])
def test_illegal_transitions_are_refused(app, current, target, party):
    with app.test_request_context():
        with pytest.raises(InvalidTransition):
            st.check(current, target, party)


def test_every_status_has_a_label():
    statuses = {s for pair in st.TRANSITIONS for s in pair}
    assert statuses <= set(st.LABELS)


# --- steps ----------------------------------------------------------------------

class _E:
    def __init__(self, status, payload):
        self.status, self.payload = status, payload


def test_steps_follow_the_chosen_benefits():
    cat = load_catalogue()
    today = dt.date(2026, 11, 29)
    birth_only = steps.steps_for(cat, ["birth_allowance"], {}, today)
    assert birth_only == ["benefits", "about_you", "income", "children", "contact", "check"]
    aid = steps.steps_for(cat, ["social_aid"], {}, today)
    assert aid == ["benefits", "about_you", "household", "income", "questions", "contact", "check"]


def test_upload_asked_only_when_the_register_has_no_recent_birth():
    cat = load_catalogue()
    today = dt.date(2026, 11, 29)
    recent = {"births": _E("fetched", {"children": [{"idnp": "x", "birth_date": "2026-10-20"}]})}
    none = {"births": _E("fetched", {"children": [{"idnp": "x", "birth_date": "2019-01-01"}]})}
    down = {"births": _E("pending", None)}
    assert steps.documents_needed(cat, ["birth_allowance"], recent, today) == []
    assert steps.documents_needed(cat, ["birth_allowance"], none, today) == ["foreign_birth_certificate"]
    assert steps.documents_needed(cat, ["birth_allowance"], down, today) == []
