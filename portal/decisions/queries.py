"""What the citizen's pages show of decisions."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import format_date
from sqlalchemy import select
from sqlalchemy.orm import object_session

from portal.decisions.models import Decision


@dataclass
class DecisionLink:
    page: str
    letter: str
    can_appeal: bool
    appeal_until: str


def decision_links(application) -> dict[str, DecisionLink]:
    """claim ref → the latest decision on that claim."""
    from portal.decisions import services

    session = object_session(application)
    claims = {c.id: c for c in application.claims}
    if session is None or not claims:
        return {}
    latest: dict[int, Decision] = {}
    for d in session.scalars(select(Decision).where(Decision.claim_id.in_(claims)).order_by(Decision.id)):
        latest[d.claim_id] = d
    return {claims[cid].ref: DecisionLink(
        page=url_for("decisions.decision", ref=application.ref, decision_ref=d.ref),
        letter=url_for("decisions.letter", ref=application.ref, decision_ref=d.ref),
        can_appeal=services.can_appeal(session, d), appeal_until=format_date(d.appeal_until, format="long"))
        for cid, d in latest.items()}
