"""Which pages an application has, derived from the catalogue (no per-benefit code branches).

A step groups data items shown together; a step appears only when one of the
selected benefits needs one of its items, questions or documents.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from portal.catalogue import Catalogue

# Registry data items shown on each data step, in order.
DATA_STEPS: dict[str, tuple[str, ...]] = {
    "about_you": ("identity", "address"),
    "household": ("household", "disability"),
    "income": ("income", "insurance", "unemployment", "property"),
    "children": ("births",),
}

# Data steps where the citizen confirms each item (on "children" they choose the child instead).
CONFIRM_STEPS = ("about_you", "household", "income")

TITLES = {
    "benefits": _l("What do you want to apply for?"),
    "about_you": _l("About you"),
    "household": _l("Your household"),
    "income": _l("Income and insurance"),
    "children": _l("Your child"),
    "questions": _l("A few questions"),
    "documents": _l("Documents"),
    "contact": _l("How we contact you"),
    "check": _l("Check your answers"),
}

# How recent a birth must be for the one-off birth allowance (example value; see domain brief).
BIRTH_WINDOW = dt.timedelta(days=365)


def recent_births(evidence_payload: dict | None, today: dt.date) -> list[dict]:
    if not evidence_payload:
        return []
    out = []
    for child in evidence_payload.get("children", []):
        born = dt.date.fromisoformat(child["birth_date"])
        if dt.timedelta(0) <= today - born <= BIRTH_WINDOW:
            out.append(child)
    return out


def condition_holds(name: str | None, evidence: dict, today: dt.date) -> bool:
    """Named conditions that decide whether a document is asked for."""
    if name is None:
        return True
    if name == "no_registered_birth":
        births = evidence.get("births")
        # Ask for an upload only when the register answered and holds no recent birth.
        return births is not None and births.status == "fetched" and not recent_births(births.payload, today)
    raise ValueError(f"unknown document condition {name}")


def documents_needed(catalogue: Catalogue, benefits, evidence: dict, today: dt.date) -> list[str]:
    return [need.kind for need in catalogue.documents_for(benefits) if condition_holds(need.when, evidence, today)]


def steps_for(catalogue: Catalogue, benefits, evidence: dict, today: dt.date) -> list[str]:
    """The ordered steps of an application for ``benefits`` given the evidence fetched so far."""
    steps = ["benefits"]
    if not benefits:
        return steps
    items = catalogue.items_for(benefits)
    for step, step_items in DATA_STEPS.items():
        if any(item in items for item in step_items):
            steps.append(step)
    if catalogue.questions_for(benefits):
        steps.append("questions")
    if documents_needed(catalogue, benefits, evidence, today):
        steps.append("documents")
    steps += ["contact", "check"]
    return steps


def items_on(step: str, catalogue: Catalogue, benefits) -> list[str]:
    items = catalogue.items_for(benefits)
    return [item for item in DATA_STEPS.get(step, ()) if item in items]


def next_step(steps: list[str], current: str) -> str:
    i = steps.index(current) if current in steps else 0
    return steps[min(i + 1, len(steps) - 1)]


def previous_step(steps: list[str], current: str) -> str | None:
    i = steps.index(current) if current in steps else 0
    return steps[i - 1] if i > 0 else None
