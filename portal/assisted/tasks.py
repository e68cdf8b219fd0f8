"""Background sweeps of the assisted channel (registered with :mod:`portal.jobs`).

* ``assisted.visits`` — end CUPS visits left idle or whose specialist's login session ended, so a centre's
  computer never keeps a visitor open (:func:`portal.assisted.services.sweep`).  Idempotent: ending a visit is
  a compare-and-set.
"""
from __future__ import annotations

from portal.assisted import services
from portal.core.db import session_scope
from portal.jobs import periodic


@periodic("assisted.visits", every=30)
def end_idle_visits(app):
    with session_scope() as session:
        return services.sweep(session)
