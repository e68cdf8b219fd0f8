"""Households for the eligibility tests, built as plain inputs (no registry, no database)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.eligibility import Inputs, Member

SOURCES = {"identity": "rsp", "address": "rsp", "household": "rsp", "income": "sfs", "insurance": "cnas",
           "disability": "cnddcm", "unemployment": "anofm", "births": "civil"}
ALL_ITEMS = frozenset(SOURCES)


def couple_with_two_children(income="2100", remittances="0", answers=None) -> Inputs:
    people = (Member("2000000000011", "Ion Rusu", "applicant", dt.date(1988, 3, 14)),
              Member("2000000000022", "Ana Rusu", "spouse", dt.date(1990, 8, 22)),
              Member("2000000000033", "Mihaela Rusu", "child", dt.date(2017, 1, 9)),
              Member("2000000000044", "Tatiana Rusu", "child", dt.date(2025, 4, 1)))
    return Inputs(applicant_idnp=people[0].idnp, members=people,
                  answers={"remittances": remittances, **(answers or {})}, available=ALL_ITEMS, sources=SOURCES,
                  household_income=Decimal(income), abroad=False)
