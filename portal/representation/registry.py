"""What the state registries say about representation: a parent's minor children (civil status register)
and who a person is (population register).  Queries go through the registry gateway with their purpose
and legal basis, so they appear in the person's "Who used my data"."""
from __future__ import annotations

import datetime as dt

from portal.accounts.models import Account
from portal.registries.client import Purpose, RegistryNotFound
from portal.representation import rules

PURPOSE = "representation"
LEGAL_BASIS_PARENT = "Codul familiei nr. 1316/2000, art. 61 (părinții sunt reprezentanții legali ai copiilor minori)"
LEGAL_BASIS_IDENTITY = "HG nr. 322/2021 (CUPS); Legea nr. 142/2018 cu privire la schimbul de date și interoperabilitate"


def _client():
    from portal.applications.prefill import client

    return client()


def minor_children_of(parent: Account, today: dt.date) -> list[dict]:
    """The parent's minor children as the civil status register holds them (``[]`` if it knows none).

    Raises :class:`portal.registries.client.RegistryUnavailable` when the register does not answer.
    """
    purpose = Purpose(purpose=PURPOSE, legal_basis=LEGAL_BASIS_PARENT, actor_idnp=parent.idnp, actor_role="citizen")
    try:
        record = _client().fetch("civil", "births", parent.idnp, purpose)
    except RegistryNotFound:
        return []
    return rules.minor_children(record.data, today)


def identity(idnp: str, *, actor: Account, purpose: str = PURPOSE, role: str = "citizen",
             institution: str | None = None) -> dict | None:
    """The population register's identity record of ``idnp`` (names, birth date), or ``None`` if unknown.

    Raises :class:`portal.registries.client.RegistryUnavailable` when the register does not answer.
    """
    query = Purpose(purpose=purpose, legal_basis=LEGAL_BASIS_IDENTITY, actor_idnp=actor.idnp, actor_role=role,
                    on_behalf_of=idnp if idnp != actor.idnp else None, institution=institution)
    try:
        return _client().fetch("rsp", "identity", idnp, query).data
    except RegistryNotFound:
        return None
