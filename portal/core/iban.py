"""IBAN check (ISO 13616): the country's length and the mod-97 check digits.

Moldovan IBANs are 24 characters: ``MD``, two check digits, then 20 letters or digits.
"""
from __future__ import annotations

import re

LENGTHS = {"MD": 24, "RO": 24, "UA": 29}
_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def normalise(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def is_valid(value: str | None) -> bool:
    iban = normalise(value)
    if not _SHAPE.match(iban):
        return False
    expected = LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1
