"""A result in plain words, in the reader's language: the same text for the citizen and the case worker.

Every condition and calculation line of a :class:`portal.eligibility.Result` is a code with
named figures; here each code has a sentence (English source, translated by the catalogues)
whose placeholders are those figures, formatted for the language, followed by where the figures
came from (a registry, the applicant's answer, a parameter).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import get_month_names
from flask_babel import format_date, format_decimal, format_percent, get_locale, get_translations
from flask_babel import lazy_gettext as _l

from portal.applications.display import DEGREES
from portal.catalogue import Catalogue
from portal.core.i18n import Counted, count_of, localized, money, template_of
from portal.eligibility import ELIGIBLE, NOT_ELIGIBLE, PENDING, Result
from portal.eligibility.model import FAIL, ONCE, PASS, SEASON_MONTHLY, UNKNOWN, Fact
from portal.eligibility.parameters import default_parameters
from portal.routing.reference import Territory

# condition code → sentence when it holds, when it fails, when it cannot be told yet
CONDITIONS: dict[str, tuple] = {
    "resident_in_moldova": (
        _l("The home address is in Moldova."),
        _l("The home address is abroad: this benefit is for people who live in Moldova."),
        _l("The home address has not been received yet.")),
    "income_below_family_minimum": (
        _l("The household's income, %(income_total)s a month (%(household_income)s known to the tax service and "
           "%(remittances)s from abroad), is below the guaranteed minimum for the household, %(family_minimum)s."),
        _l("The household's income, %(income_total)s a month (%(household_income)s known to the tax service and "
           "%(remittances)s from abroad), is not below the guaranteed minimum for the household, %(family_minimum)s."),
        _l("The household's income cannot be compared with the guaranteed minimum yet.")),
    "income_below_threshold": (
        _l("The household's income, %(income_total)s a month, is below the limit for this aid, %(threshold)s."),
        _l("The household's income, %(income_total)s a month, is not below the limit for this aid, %(threshold)s."),
        _l("The household's income cannot be compared with the limit for this aid yet.")),
    "child_registered": (
        _l("%(child)s, born on %(birth_date)s, is registered (birth record %(record_number)s)."),
        Counted("window_months", lambda n: get_translations().ngettext(
            "No birth in the last %(window_months)s month is registered in Moldova with the applicant as a parent.",
            "No birth in the last %(window_months)s months is registered in Moldova with the applicant as a parent.",
            n)),
        _l("The civil status register has not answered yet.")),
    "chosen_child_in_register": (
        None, _l("The child chosen is not among the births registered with the applicant as a parent."), None),
    "foreign_certificate_to_verify": (
        None, None, _l("The birth is not registered in Moldova: a case worker will check the certificate "
                       "issued abroad.")),
    "claimed_within_window": (
        Counted("window_months", lambda n: get_translations().ngettext(
            "The allowance is claimed within %(window_months)s month of the birth (by %(deadline)s).",
            "The allowance is claimed within %(window_months)s months of the birth (by %(deadline)s).", n)),
        Counted("window_months", lambda n: get_translations().ngettext(
            "More than %(window_months)s month has passed since the birth: the deadline was %(deadline)s.",
            "More than %(window_months)s months have passed since the birth: the deadline was %(deadline)s.", n)),
        None),
    "not_already_paid": (
        _l("Nobody is already paid this allowance by the social insurance house."),
        _l("The social insurance house already pays this allowance: %(paid_benefits)s."),
        _l("The social insurance register has not answered yet.")),
    "young_child": (
        None, _l("No child is registered in the civil status register with the applicant as a parent."), None),
    "insured_parent": (
        Counted("insured_months", lambda n: get_translations().ngettext(
            "A parent has %(insured_months)s month of social insurance in the last 24 (at least "
            "%(min_insured_months)s are needed): the allowance is a share of the insured income.",
            "A parent has %(insured_months)s months of social insurance in the last 24 (at least "
            "%(min_insured_months)s are needed): the allowance is a share of the insured income.", n)), None, None),
    "uninsured_parent_route": (
        Counted("min_insured_months", lambda n: get_translations().ngettext(
            "No parent has %(min_insured_months)s month of social insurance in the last 24 (the most is "
            "%(insured_months)s): the fixed allowance for uninsured parents applies.",
            "No parent has %(min_insured_months)s months of social insurance in the last 24 (the most is "
            "%(insured_months)s): the fixed allowance for uninsured parents applies.", n)), None, None),
    "option_available": (
        _l("The option “%(option)s” exists on the date of the application."),
        _l("The option “%(option)s” did not exist on the date of the application."), None),
    "child_under_age_limit": (
        Counted("age_months", lambda n: get_translations().ngettext(
            "%(child)s is %(age_months)s month old, under the age limit of %(limit_months_text)s.",
            "%(child)s is %(age_months)s months old, under the age limit of %(limit_months_text)s.", n)),
        Counted("age_months", lambda n: get_translations().ngettext(
            "%(child)s is %(age_months)s month old: the allowance is paid until the age of %(limit_months_text)s.",
            "%(child)s is %(age_months)s months old: the allowance is paid until the age of %(limit_months_text)s.",
            n)),
        None),
    "disability_certificate": (
        _l("%(person)s has a certificate of %(degree)s disability, valid until %(valid_until)s."),
        _l("No disability certificate in force is recorded for %(person)s or their children under 18."),
        _l("The disability council has not answered yet.")),
    "no_insurance_pension": (
        _l("%(person)s receives no insurance pension."),
        _l("%(person)s receives an insurance pension of %(pension)s: this allowance is for people without one."),
        None),
    "bank_interest_within_limit": (
        _l("The household's bank interest last year, %(bank_interest)s, is within the limit of %(limit)s."),
        _l("The household's bank interest last year, %(bank_interest)s, is above the limit of %(limit)s."),
        _l("The household's bank interest last year is not known yet: answer the question about it.")),
    "energy_vulnerable": (
        _l("The household's estimated energy cost, %(energy_cost)s a month, is more than it can pay, %(affordable)s."),
        _l("The household can pay its estimated energy cost: %(affordable)s against %(energy_cost)s a month."),
        _l("The energy cost and the income cannot be compared yet.")),
    "parameters_in_force": (
        None, None, _l("No figures are set for this benefit on %(date)s: a case worker will decide.")),
}

STEPS = {
    "family_minimum": _l(
        "Guaranteed minimum for the household: %(vlmg)s × %(total_weight)s = %(amount)s (%(applicant_weight)s for the "
        "applicant; %(adult_weight)s for each other adult, %(other_adults)s in all; %(child_weight)s for each child, "
        "%(children)s in all; %(disability_weight)s for disabilities; %(single_adult_weight)s for a single adult)."),
    "social_aid_amount": _l("Social aid: %(family_minimum)s − %(income_total)s = %(amount)s a month."),
    "income_threshold": _l("Income limit: %(family_minimum)s × %(multiplier)s = %(amount)s."),
    "season_payment": _l("%(amount)s a month in the months of the cold season: %(season_months)s."),
    "birth_allowance_for_child": _l("%(child)s, born on %(birth_date)s: %(amount)s, the amount for children born "
                                    "on that date."),
    "insured_allowance": _l("%(rate)s of the average insured income of %(parent)s, %(base)s, and at least "
                            "%(minimum)s: %(amount)s a month."),
    "uninsured_allowance": _l("Fixed allowance for uninsured parents: %(amount)s a month."),
    "multiple_birth_supplement": Counted("further_children", lambda n: get_translations().ngettext(
        "Supplement for %(further_children)s more child of the same birth: %(supplement)s each, %(amount)s.",
        "Supplement for %(further_children)s more children of the same birth: %(supplement)s each, %(amount)s.", n)),
    "childcare_total": _l("Total: %(amount)s a month."),
    "child_allowance": _l("%(person)s (a child): %(amount)s a month."),
    "adult_allowance": _l("%(person)s (%(degree)s disability): %(amount)s a month."),
    "energy_cost": Counted("members", lambda n: get_translations().ngettext(
        "Estimated energy cost for %(members)s person heating with %(heating_source)s: %(base_cost)s "
        "plus %(per_member)s for each person after the first, %(amount)s a month.",
        "Estimated energy cost for %(members)s people heating with %(heating_source)s: %(base_cost)s "
        "plus %(per_member)s for each person after the first, %(amount)s a month.", n)),
    "affordable_cost": _l("What the household can pay for energy: %(share)s of its income of %(income_total)s, "
                          "%(amount)s a month."),
    "need_with_priority": Counted("priority_members", lambda n: get_translations().ngettext(
        "The shortfall, %(need)s, increased by %(bonus)s for %(priority_members)s priority member (children, "
        "severe disability, pensioners, unemployed): %(amount)s.",
        "The shortfall, %(need)s, increased by %(bonus)s for each of %(priority_members)s priority members "
        "(children, severe disability, pensioners, unemployed): %(amount)s.", n)),
    "within_cap_and_minimum": _l("Compensation, at least %(minimum)s and at most %(cap)s: %(amount)s a month in "
                                 "the heating season."),
    "solid_fuel_payment": _l("Payment for wood or coal, once this season: %(amount)s."),
}

HEADLINES = {
    ELIGIBLE: _l("Likely eligible"),
    NOT_ELIGIBLE: _l("Likely not eligible"),
    PENDING: _l("We cannot tell yet"),
}
FREQUENCIES = {
    ONCE: _l("%(amount)s, once"),
    SEASON_MONTHLY: _l("%(amount)s a month, in the cold season"),
}
MONTHLY_AMOUNT = _l("%(amount)s a month")
OUTCOMES = {PASS: _l("Met"), FAIL: _l("Not met"), UNKNOWN: _l("Not known yet")}
SOURCES = {"answer": _l("the applicant's answer"), "parameter": _l("the rules in force"),
           "computed": _l("calculated")}
PAID = {"child_raising_allowance": _l("the childcare allowance (insured)"),
        "child_care_allowance": _l("the childcare allowance (uninsured)"),
        "state_social_allowance": _l("the state social allowance"),
        "unemployment_benefit": _l("the unemployment benefit")}
DURATIONS = {  # unit of a fact → its words, not yet filled in
    "days": lambda n: get_translations().ngettext("%(num)s day", "%(num)s days", n),
    "months": lambda n: get_translations().ngettext("%(num)s month", "%(num)s months", n),
    "years": lambda n: get_translations().ngettext("%(num)s year", "%(num)s years", n),
}
HEATING_QUESTION = "heating_source"
PERCENT_FACTS = {"rate", "share", "bonus"}
NO_END = _l("no end date")
MISSING = {
    "answer": _l("your answer to “%(question)s”"),
}


class _Figures(dict):
    """Figures for a sentence; one missing from an old stored result shows as a dash."""

    def __missing__(self, key):
        return "—"


@dataclass
class Line:
    outcome: str
    outcome_label: str
    text: str
    sources: str


@dataclass
class ParameterLine:
    label: str
    value: str
    since: str
    legal_basis: str
    confirmed: bool


@dataclass
class ResultView:
    benefit: str
    title: str
    status: str
    headline: str
    amount: str | None
    judged_on: str
    conditions: list[Line]
    calculation: list[str]
    parameters: list[ParameterLine]
    missing: list[str]


def _number(value) -> str:
    return format_decimal(Decimal(value), format="#,##0.##")


class Explainer:
    """Renders results in one language, with the catalogue's and the registries' names."""

    def __init__(self, catalogue: Catalogue, territory: Territory, lang: str):
        self.catalogue = catalogue
        self.territory = territory
        self.lang = lang

    # -- figures
    def value(self, fact: Fact) -> str:
        v = fact.value
        if v is None:
            return str(NO_END) if fact.unit == "date" else "—"
        if fact.unit == "lei":
            return money(v)
        if fact.unit == "share":
            return format_percent(Decimal(v), format="#,##0.##%") if fact.name in PERCENT_FACTS else _number(v)
        if fact.unit in ("months", "years", "days", "count"):
            return _number(v)
        if fact.unit == "date":
            return format_date(v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)), format="long")
        if fact.unit == "list":
            if fact.name == "season_months":
                names = get_month_names("wide", locale=get_locale())
                return ", ".join(names[int(m)] for m in v)
            if fact.name == "paid_benefits":
                return ", ".join(str(PAID.get(c, c)) for c in v)
            return ", ".join(str(x) for x in v)
        if fact.unit == "code":
            if fact.name == "degree":
                return str(DEGREES.get(v, v))
            if fact.name == "heating_source":
                return self.option(HEATING_QUESTION, v).lower()
            if fact.name == "option":
                return self.option("childcare_option", v)
        return str(v)

    def option(self, question: str, value: str) -> str:
        q = self.catalogue.questions.get(question)
        if q is None:
            return value
        return next((localized(o.label, self.lang) for o in q.options if o.value == value), value)

    def source(self, code: str) -> str:
        if code in SOURCES:
            return str(SOURCES[code])
        registry = self.territory.registries.get(code)
        return registry.name_in(self.lang) if registry else code

    def _sentence(self, template, facts, **extra) -> str:
        values = _Figures({f.name: self.value(f) for f in facts})
        for f in facts:  # a duration inside a sentence about another count carries its own unit
            if f.unit in DURATIONS and f.value is not None:
                values[f"{f.name}_text"] = DURATIONS[f.unit](count_of(f.value)) % {"num": self.value(f)}
        values.update(extra)
        return template_of(template, {f.name: f.value for f in facts}) % values

    def _sources(self, facts) -> str:
        seen = []
        for f in facts:
            if f.source not in ("computed",) and f.source not in seen:
                seen.append(f.source)
        return "; ".join(self.source(s) for s in seen)

    def missing(self, code: str) -> str | None:
        kind, _, what = code.partition(":")
        if kind == "answer":
            q = self.catalogue.questions.get(what)
            return str(MISSING["answer"] % {"question": localized(q.label, self.lang) if q else what})
        if kind in ("verification", "parameter"):
            return None
        return localized(self.catalogue.data_items.get(code), self.lang) or code

    # -- a whole result
    def view(self, result: Result | dict) -> ResultView:
        r = result if isinstance(result, Result) else Result.from_dict(result)
        benefit = self.catalogue.benefits.get(r.benefit)
        conditions = []
        for c in r.conditions:
            texts = CONDITIONS.get(c.code, (None, None, None))
            template = texts[{PASS: 0, FAIL: 1, UNKNOWN: 2}[c.outcome]]
            text = self._sentence(template, c.facts) if template else c.code
            conditions.append(Line(c.outcome, str(OUTCOMES[c.outcome]), text, self._sources(c.facts)))
        calculation = [self._sentence(STEPS.get(s.code, s.code), s.facts, amount=money(s.amount))
                       for s in r.calculation]
        amount = None
        if r.amount is not None:
            amount = str(FREQUENCIES.get(r.frequency, MONTHLY_AMOUNT) % {"amount": money(r.amount)})
        labels = default_parameters().by_name
        parameters = []
        for u in r.parameters:
            param = labels.get(u.name)
            label = localized(param.label, self.lang) if param else u.name
            parameters.append(ParameterLine(label, self._parameter_value(u), format_date(u.valid_from, format="long"),
                                            u.legal_basis, u.confirmed))
        return ResultView(
            benefit=r.benefit, title=benefit.title_in(self.lang) if benefit else r.benefit, status=r.status,
            headline=str(HEADLINES[r.status]), amount=amount, judged_on=format_date(r.on, format="long"),
            conditions=conditions, calculation=calculation, parameters=parameters,
            missing=[m for m in (self.missing(code) for code in r.missing) if m])

    def _parameter_value(self, use) -> str:
        def one(v) -> str:
            if isinstance(v, bool):
                return str(_l("yes")) if v else str(_l("no"))
            if isinstance(v, (int, float, Decimal)) or (isinstance(v, str) and v.replace(".", "", 1).isdigit()):
                return money(v) if use.unit == "lei" else _number(v)
            return str(v)

        v = use.value
        if isinstance(v, dict):
            return "; ".join(f"{self._key(k)}: {one(x)}" for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return ", ".join(one(x) if not isinstance(x, (list, tuple)) else "+".join(map(str, x)) for x in v)
        return one(v)

    def _key(self, key: str) -> str:
        if key in DEGREES:
            return str(DEGREES[key])
        heating = self.option(HEATING_QUESTION, key)
        if heating != key:
            return heating
        childcare = self.option("childcare_option", key)
        if childcare != key:
            return childcare
        return str(WEIGHT_KEYS.get(key, key))


WEIGHT_KEYS = {"applicant": _l("applicant"), "adult": _l("other adult"), "child": _l("child")}
