"""Effective-dated parameters: amounts, thresholds, weights and rates, read from ``config/parameters/``.

Each file holds the parameters of one topic (its name is the prefix: ``social_aid.toml`` holds
``social_aid.vlmg``…).  A parameter has a label in ro/ru/en, a unit and a list of values, each
in force from ``valid_from`` (inclusive) until the day before the next value starts, or until
``valid_to`` (inclusive) when it is given; ``legal_basis`` says where the figure comes from and
``confirmed = false`` marks an EXAMPLE figure that nobody has confirmed in law yet::

    [vlmg]
    label = { ro = "...", ru = "...", en = "Guaranteed minimum monthly income (VLMG)" }
    unit = "lei"

    [[vlmg.values]]
    valid_from = 2020-04-01
    value = 1107
    legal_basis = "HG nr. 1167/2008 (indexed on 1 April 2020)"
    confirmed = true

A value is a number, a boolean, a text, a list of those, or a table of those (for example one
rate per degree of disability).  Numbers are read as :class:`~decimal.Decimal` (``0.7`` stays
exactly 0.7).  :func:`load_parameters` refuses overlapping periods, values out of date order, a
missing label or legal basis, so mistakes fail at start-up, not in a citizen's result.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMETERS_DIR = Path(__file__).resolve().parents[2] / "config" / "parameters"
UNITS = {"lei", "share", "months", "years", "days", "count", "flag", "list", "code"}


class ParameterError(ValueError):
    """A parameter file is wrong (raised when loading)."""


class ParameterNotInForce(LookupError):
    """No value of ``name`` is in force on ``on``: the rules cannot be applied on that date."""

    def __init__(self, name: str, on: dt.date):
        super().__init__(f"no value of {name} is in force on {on.isoformat()}")
        self.name = name
        self.on = on


@dataclass(frozen=True)
class Value:
    value: Any
    valid_from: dt.date
    valid_to: dt.date | None  # inclusive; None: until the next value, or for ever
    legal_basis: str
    confirmed: bool

    def covers(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class Parameter:
    name: str
    label: dict[str, str]
    unit: str
    values: tuple[Value, ...]

    def at(self, on: dt.date) -> Value:
        for value in reversed(self.values):
            if value.covers(on):
                return value
        raise ParameterNotInForce(self.name, on)


@dataclass(frozen=True)
class Use:
    """One parameter as a rule used it: the value and where it comes from (for the explanation)."""

    name: str
    value: Any
    unit: str
    valid_from: dt.date
    valid_to: dt.date | None
    legal_basis: str
    confirmed: bool


@dataclass
class Parameters:
    """All parameters by name."""

    by_name: dict[str, Parameter]

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self.by_name[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def on(self, day: dt.date) -> "ParameterView":
        return ParameterView(self, day)


@dataclass
class ParameterView:
    """The parameters in force on one date; remembers which were read, for the explanation."""

    parameters: Parameters
    day: dt.date
    used: dict[str, Use] = field(default_factory=dict)

    def __call__(self, name: str, *, on: dt.date | None = None) -> Any:
        """The value of ``name`` in force on the view's date (or on ``on``, e.g. a child's birth date)."""
        parameter = self.parameters[name]
        day = on or self.day
        value = parameter.at(day)
        key = name if on is None else f"{name}@{day.isoformat()}"
        self.used[key] = Use(name, value.value, parameter.unit, value.valid_from, value.valid_to,
                             value.legal_basis, value.confirmed)
        return value.value

    def optional(self, name: str, default: Any = None) -> Any:
        """The value in force, or ``default`` where the parameter has no value on this date."""
        try:
            return self(name)
        except ParameterNotInForce:
            return default


def _convert(value: Any, where: str) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, list):
        return tuple(_convert(v, where) for v in value)
    if isinstance(value, dict):
        return {str(k): _convert(v, f"{where}.{k}") for k, v in value.items()}
    raise ParameterError(f"{where}: unsupported value {value!r}")


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
        raise ParameterError(f"{where}: expected a date like 2025-01-01")
    return raw


def _parameter(name: str, raw: dict, source: str) -> Parameter:
    where = f"{source}: {name}"
    label = raw.get("label") or {}
    if not isinstance(label, dict) or not all(label.get(lang) for lang in ("ro", "ru", "en")):
        raise ParameterError(f"{where}: a label in ro, ru and en is required")
    unit = raw.get("unit")
    if unit not in UNITS:
        raise ParameterError(f"{where}: unit must be one of {', '.join(sorted(UNITS))}")
    values = []
    for i, v in enumerate(raw.get("values") or []):
        w = f"{where}.values[{i}]"
        if "value" not in v:
            raise ParameterError(f"{w}: no value")
        if not str(v.get("legal_basis") or "").strip():
            raise ParameterError(f"{w}: legal_basis is required (say EXAMPLE where there is none)")
        if not isinstance(v.get("confirmed"), bool):
            raise ParameterError(f"{w}: confirmed = true or false is required")
        start = _date(v.get("valid_from"), f"{w}.valid_from")
        end = _date(v["valid_to"], f"{w}.valid_to") if "valid_to" in v else None
        if end is not None and end < start:
            raise ParameterError(f"{w}: valid_to is before valid_from")
        values.append(Value(_convert(v["value"], w), start, end, v["legal_basis"].strip(), v["confirmed"]))
    if not values:
        raise ParameterError(f"{where}: no values")
    for before, after in zip(values, values[1:]):
        if after.valid_from <= before.valid_from:
            raise ParameterError(f"{where}: values must be in date order (valid_from {after.valid_from})")
        if before.valid_to is not None and before.valid_to >= after.valid_from:
            raise ParameterError(f"{where}: the value from {before.valid_from} overlaps the one from "
                                 f"{after.valid_from}")
    return Parameter(name, dict(label), unit, tuple(values))


def load_parameters(directory: Path | None = None) -> Parameters:
    """Read every ``*.toml`` file of ``directory`` (default: ``config/parameters``)."""
    directory = directory or PARAMETERS_DIR
    by_name: dict[str, Parameter] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        for key, table in raw.items():
            if not isinstance(table, dict):
                raise ParameterError(f"{path.name}: {key} must be a table")
            name = f"{path.stem}.{key}"
            by_name[name] = _parameter(name, table, path.name)
    if not by_name:
        raise ParameterError(f"no parameters in {directory}")
    return Parameters(by_name)


@lru_cache(maxsize=1)
def default_parameters() -> Parameters:
    return load_parameters()
