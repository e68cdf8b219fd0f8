"""Background sweeps of the registry layer (registered with :mod:`portal.jobs`).

* ``registries.pending_data`` — ask again for the data sent applications still wait for
  (:func:`portal.registries.pending.complete_due`);
* ``registries.events`` — take the registry change events from the MConnect Events feed and act on
  them (:func:`portal.registries.events.poll`).

Both are idempotent and safe in several processes at once (compare-and-set on every item).
"""
from __future__ import annotations

from portal.jobs import periodic
from portal.registries import events, pending


@periodic("registries.pending_data", every=10)
def complete_pending_data(app):
    return pending.complete_due(app)


@periodic("registries.events", every=2)
def consume_registry_events(app):
    return events.poll(app)
