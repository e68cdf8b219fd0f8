"""Turn registry evidence into rows people can read, in their language.

Used by the citizen's pages and the case worker's case view alike, so both
see the same data the same way.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_date, format_decimal, ngettext, pgettext
from flask_babel import lazy_gettext as _l

from portal.core.i18n import lazy, localized, money
from portal.routing.reference import Territory

RELATIONS = {
    "applicant": _l("applicant"),
    "spouse": _l("spouse"),
    "child": _l("child"),
    "parent": _l("parent"),
    "other": _l("other relative"),
}
INCOME_SOURCES = {
    "salary": _l("salary"),
    "pension": _l("pension"),
    "business": _l("business"),
    "other": _l("other income"),
}
DEGREES = {
    "severe": _l("severe"),
    "accentuated": _l("accentuated"),
    "medium": lazy(lambda: pgettext("degree of disability", "medium")),
}
SEX = {"M": _l("male"), "F": _l("female")}
MARRIAGE_ENDS = {"death": _l("death of the spouse"), "divorce": _l("divorce")}


@dataclass
class Row:
    label: str
    value: str


def _date(value: str | None) -> str:
    if not value:
        return "—"
    return format_date(dt.date.fromisoformat(value), format="long")


def rows(item: str, payload: dict | None, territory: Territory, lang: str) -> list[Row]:
    """Readable rows for one evidence item's normalised payload."""
    if not payload:
        return []
    p = payload
    if item == "identity":
        return [Row(str(_l("Name")), f"{p.get('first_name', '')} {p.get('last_name', '')}".strip()),
                Row(str(_l("IDNP")), p.get("idnp", "")),
                Row(str(_l("Date of birth")), _date(p.get("birth_date"))),
                Row(str(_l("Sex")), str(SEX.get(p.get("sex"), "—")))]
    if item == "address":
        raion = territory.raions.get(p.get("raion_code") or "")
        out = []
        if p.get("abroad"):
            out.append(Row(str(_l("Address abroad")), p.get("foreign_address") or "—"))
            from portal.preferences.countries import name as country_name  # in the reader's language

            out.append(Row(str(_l("Country")), country_name(p["country"], lang) if p.get("country") else "—"))
        out.append(Row(str(_l("Locality")), ", ".join(x for x in (p.get("street"), p.get("locality")) if x) or "—"))
        out.append(Row(str(_l("Raion")), raion.name_in(lang) if raion else (p.get("raion_code") or "—")))
        return out
    if item == "household":
        return [Row(f"{m.get('first_name', '')} {m.get('last_name', '')}".strip(),
                    str(_l("%(relation)s, born %(date)s", relation=RELATIONS.get(m.get("relation"), m.get("relation")),
                           date=_date(m.get("birth_date")))))
                for m in p.get("members", [])]
    if item == "income":
        out = [Row(m.get("name", ""), "; ".join(
            str(_l("%(label)s: %(amount)s", label=INCOME_SOURCES.get(s.get("type"), s.get("type")),
                   amount=money(s.get("monthly"))))
            for s in m.get("sources", []))
            or str(_l("no declared income"))) for m in p.get("members", [])]
        out.append(Row(str(_l("Household average per month")), money(p.get("household_monthly_average"))))
        return out
    if item == "insurance":
        out = []
        for m in p.get("members", []):
            months = int(m.get("insured_months_last_24") or 0)
            parts = [ngettext("%(num)s month insured in the last 24", "%(num)s months insured in the last 24", months)]
            if m.get("pension"):
                parts.append(str(_l("pension %(amount)s", amount=money(m["pension"].get("monthly")))))
            out.append(Row(m.get("name", ""), "; ".join(parts)))
        return out
    if item == "disability":
        members = p.get("members", [])
        if not members:
            return [Row(str(_l("Disability")), str(_l("none recorded")))]
        return [Row(m.get("name", ""), str(_l("%(degree)s degree, valid until %(date)s",
                                              degree=DEGREES.get(m.get("degree"), m.get("degree")),
                                              date=_date(m.get("valid_until")))))
                for m in members]
    if item == "unemployment":
        members = p.get("members", [])
        if not members:
            return [Row(str(_l("Unemployment")), str(_l("nobody in the household is registered as unemployed")))]
        return [Row(m.get("name", ""), str(_l("registered as unemployed since %(date)s",
                                              date=_date(m.get("registered_since")))))
                for m in members]
    if item == "property":
        return [Row(m.get("name", ""), ngettext("%(land)s ha of land, %(num)s dwelling",
                                                "%(land)s ha of land, %(num)s dwellings", int(m.get("dwellings") or 0),
                                                land=format_decimal(m.get("land_ha", 0))))
                for m in p.get("members", [])] or [Row(str(_l("Real estate")), str(_l("none recorded")))]
    if item == "births":
        children = p.get("children", [])
        if not children:
            return [Row(str(_l("Births")), str(_l("no birth registered")))]
        return [Row(f"{c.get('first_name', '')} {c.get('last_name', '')}".strip(),
                    str(_l("born %(date)s, record %(record)s", date=_date(c.get("birth_date")),
                           record=c.get("record_number", "—"))))
                for c in children]
    if item == "marriages":
        marriages = p.get("marriages", [])
        if not marriages:
            return [Row(str(_l("Marriages")), str(_l("no marriage registered")))]
        out = []
        for m in marriages:
            spouse = f"{m.get('spouse_first_name', '')} {m.get('spouse_last_name', '')}".strip()
            if m.get("status") == "ended":
                value = _l("married on %(date)s, record %(record)s; ended on %(ended)s (%(reason)s)",
                           date=_date(m.get("registered_on")), record=m.get("record_number", "—"),
                           ended=_date(m.get("ended_on")), reason=MARRIAGE_ENDS.get(m.get("end_reason"), "—"))
            else:
                value = _l("married on %(date)s, record %(record)s", date=_date(m.get("registered_on")),
                           record=m.get("record_number", "—"))
            out.append(Row(spouse, str(value)))
        return out
    return [Row(key, str(value)) for key, value in p.items()]


def data_title(catalogue, item: str, lang: str) -> str:
    return localized(catalogue.data_items.get(item), lang) or item
