"""IDNP, the Moldovan personal identification number.

13 digits; the last is a check digit computed with the weights 7, 3, 1 repeated
over the first twelve (the same scheme as IDNO).  Persons' numbers start with
``2`` (current scheme) or ``0`` (older numbers); ``1`` is a legal entity (IDNO).
A valid check digit proves only that the number is well formed.
"""
from __future__ import annotations

_WEIGHTS = (7, 3, 1) * 4


def check_digit(first12: str) -> int:
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("check_digit needs 12 digits")
    return sum(int(d) * w for d, w in zip(first12, _WEIGHTS)) % 10


def is_well_formed(value: str) -> bool:
    """13 digits with a correct check digit (any first digit)."""
    return (
        isinstance(value, str)
        and len(value) == 13
        and value.isdigit()
        and int(value[12]) == check_digit(value[:12])
    )


def is_person_idnp(value: str) -> bool:
    """A well-formed number in a range used for natural persons (first digit 0 or 2)."""
    return is_well_formed(value) and value[0] in "02"


def make_idnp(first12: str) -> str:
    """Complete twelve digits with their check digit (used by the simulators and tests)."""
    return first12 + str(check_digit(first12))


def mask(value: str) -> str:
    """Show an IDNP without exposing it whole: ``2000•••••0004``."""
    if len(value) != 13:
        return "•" * len(value)
    return value[:4] + "•" * 5 + value[9:]
