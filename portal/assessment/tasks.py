"""The eligibility sweep (registered with :mod:`portal.jobs`).

``eligibility.recheck`` — for every sent application with open claims whose registry data
arrived after its last check (pending data completed, a registry event), run the rules and the
cross-checks again: the case worker sees the fresh result beside the one the citizen saw, and
new flags order the queue.  Each application in its own transaction, claimed by a
compare-and-set on ``checked_at``, so two processes never check the same one at once.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from portal.applications.models import Application, Claim
from portal.assessment import services
from portal.assessment.models import ClaimAssessment
from portal.core import clock
from portal.core.db import session_scope
from portal.jobs import periodic

log = logging.getLogger("esocial.eligibility")


@periodic("eligibility.recheck", every=15)
def recheck_changed(app) -> int:
    with session_scope() as session:
        due = services.due_for_recheck(session)
    done = 0
    for application_id in due:
        try:
            with session_scope() as session:
                claims = select(Claim.id).where(Claim.application_id == application_id).scalar_subquery()
                first = session.scalar(select(ClaimAssessment.checked_at).where(ClaimAssessment.claim_id.in_(claims))
                                       .order_by(ClaimAssessment.checked_at.asc()).limit(1))
                taken = session.execute(
                    update(ClaimAssessment).where(ClaimAssessment.claim_id.in_(claims),
                                                  ClaimAssessment.checked_at == first)
                    .values(checked_at=clock.now()).execution_options(synchronize_session=False))
                if not taken.rowcount:
                    continue  # another process took it
                application = session.get(Application, application_id)
                services.recheck(session, application)
                done += 1
        except Exception:  # noqa: BLE001 - one application must not stop the others
            log.exception("eligibility recheck failed for application %s", application_id)
    return done
