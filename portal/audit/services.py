"""Write audit events. Called by services inside their transaction; never commits.

Each event joins the hash chain when its transaction commits (:mod:`portal.audit.chain`).
"""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from portal.audit import chain
from portal.audit.models import AuditEvent
from portal.core import clock


def record(session: Session, action: str, *, actor_idnp: str | None = None, subject_idnp: str | None = None,
           object_type: str | None = None, object_id: str | int | None = None, **details) -> AuditEvent:
    event = AuditEvent(
        occurred_at=clock.now(),
        action=action,
        actor_idnp=actor_idnp,
        subject_idnp=subject_idnp,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        details=chain.canonical_details(details),
        source_ip=request.remote_addr if has_request_context() else None,
    )
    session.add(event)
    chain.remember(session, event)
    return event
