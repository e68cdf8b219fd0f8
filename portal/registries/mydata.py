""""My data": what each registry holds about a person and their household, asked live.

The queries carry the purpose ``data_subject_access`` and the data-protection law as legal basis, are
logged like every other query (the person sees them on "Who used my data"), and may be answered from the
short-lived cache of the *same* purpose only: a reload of the page does not ask every registry again,
and nothing fetched for an application is shown here as if it had been asked now.
"""
from __future__ import annotations

from portal.accounts.models import Account
from portal.registries import services
from portal.registries.client import Purpose
from portal.registries.prefill import MEMBER_ITEMS, ItemResult, prefill


def all_items() -> dict[str, str]:
    """Every data item some benefit uses or that names its registry, with its registry, in the catalogue's order."""
    cat = services.catalogue()
    items = {**cat.data_sources, **cat.items_for([b.code for b in cat])}
    return {item: items[item] for item in cat.data_items if item in items}


def purpose_for(account: Account) -> Purpose:
    return Purpose(purpose=services.DATA_SUBJECT_ACCESS, legal_basis=services.DATA_PROTECTION_LAW,
                   actor_idnp=account.idnp, actor_role="citizen")


def fetch(account: Account, items: list[str] | None = None) -> dict[str, ItemResult]:
    from portal.applications.prefill import client

    wanted = all_items()
    if items is not None:
        chosen = {i: wanted[i] for i in items if i in wanted}
        if any(i in MEMBER_ITEMS for i in chosen) and "household" in wanted:  # whose data: the household
            chosen = {"household": wanted["household"], **chosen}
        wanted = chosen
    results = prefill(client(), wanted, account.idnp, purpose_for(account))
    return {i: results[i] for i in (items if items is not None else results) if i in results}
