"""One module per benefit: its conditions and amount, reading dated parameters.

Each module has ``CODE``, ``FREQUENCY``, ``evaluate(inputs, judgement) -> Result`` and
``beneficiaries(inputs, parameters) -> [(kind, idnp)]`` (who the benefit is paid for: the
family's members, a child or a person; the cross-checks find duplicates by these).
"""
from __future__ import annotations

from types import ModuleType

from portal.eligibility.benefits import (
    birth_allowance,
    childcare_allowance,
    cold_season_aid,
    disability_allowance,
    energy_compensation,
    social_aid,
)

RULES: dict[str, ModuleType] = {m.CODE: m for m in (
    social_aid, cold_season_aid, birth_allowance, childcare_allowance, disability_allowance, energy_compensation,
)}
