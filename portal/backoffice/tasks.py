"""The back office's sweep: cases past their legal deadline go to the agency's supervisors."""
from __future__ import annotations

from portal.backoffice import cases
from portal.core.db import session_scope
from portal.jobs import periodic


@periodic("backoffice.escalate_overdue", every=300)
def escalate_overdue(app) -> int:
    """Idempotent: each overdue case is escalated once (compare-and-set on ``escalated_at``)."""
    with session_scope() as session:
        return len(cases.escalate_overdue(session))


@periodic("backoffice.attach_unplaced", every=10)
def attach_unplaced(app) -> int:
    """Claims routed after submission (the address came later) join their agency's case."""
    with session_scope() as session:
        return cases.attach_unplaced(session)
