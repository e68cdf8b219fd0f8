"""Whom the current request acts for.

In order: a CUPS specialist's open assisted session (the visitor, once identified and consenting), the
representation the person chose in this browser session (a child, a ward, a grantor of a mandate; kept in
the signed session cookie and checked again on every request), or the person themselves.  The answer is
computed once per request (``flask.g``) and shown on every page by the banner.
"""
from __future__ import annotations

import datetime as dt

from flask import flash, g, has_request_context, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Account
from portal.applications.models import Application
from portal.core import clock
from portal.core.db import db
from portal.core.errors import NotAllowed
from portal.representation import authority as auth
from portal.representation import rules
from portal.representation.models import Guardianship, Mandate

SESSION_KEY = "acting_for"
# A parent link read from the civil status register is trusted for this long within one browser session;
# every submission asks the register again anyway.
PARENT_CHECK_VALID = dt.timedelta(hours=8)
_G = "_esocial_acting"


def remember(authority: auth.Authority, *, child_birth_date: dt.date | None = None) -> dict:
    """What the browser session keeps of a representation (ids only, signed with the session cookie)."""
    data = {"basis": authority.basis, "subject": authority.subject.idnp, "since": clock.now().isoformat()}
    if authority.mandate is not None:
        data["mandate"] = authority.mandate.ref
    if authority.guardianship is not None:
        data["guardianship"] = authority.guardianship.ref
    if child_birth_date is not None:
        data["born"] = child_birth_date.isoformat()
    return data


def _from_session(actor: Account, data: dict, today: dt.date) -> auth.Authority | None:
    s = db.session
    subject = s.scalar(select(Account).where(Account.idnp == data.get("subject")))
    if subject is None:
        return None
    basis = data.get("basis")
    if basis == "mandate":
        m = s.scalar(select(Mandate).where(Mandate.ref == data.get("mandate")))
        if (m is None or m.grantee_idnp != actor.idnp or m.grantor_id != subject.id
                or not rules.mandate_in_force(m.valid_from, m.valid_until, m.revoked_at, m.renounced_at, today)):
            return None
        return auth.Authority("mandate", actor, subject, mandate=m)
    if basis == "guardian":
        gd = s.scalar(select(Guardianship).where(Guardianship.ref == data.get("guardianship")))
        if (gd is None or gd.guardian_idnp != actor.idnp or gd.ward_idnp != subject.idnp
                or not rules.guardianship_in_force(gd.valid_from, gd.valid_until, gd.ended_at, today)):
            return None
        return auth.Authority("guardian", actor, subject, guardianship=gd)
    if basis == "parent":
        try:
            born = dt.date.fromisoformat(data.get("born", ""))
            since = dt.datetime.fromisoformat(data.get("since", ""))
        except ValueError:
            return None
        if not rules.is_minor(born, today) or clock.now() - since > PARENT_CHECK_VALID:
            return None
        return auth.Authority("parent", actor, subject)
    return None


def current() -> auth.Authority | None:
    """The authority of this request (``None`` when nobody is logged in)."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return None
    if _G in g:
        return g.get(_G)
    actor = current_user._get_current_object()  # noqa: SLF001
    from portal.assisted import services as assisted

    visit = assisted.visit_of_request(db.session, actor)
    if visit is not None:
        result = auth.Authority("assisted", actor, visit.visitor if visit.status == "active" else None, visit=visit)
    else:
        result = auth.Authority("self", actor, actor)
        data = session.get(SESSION_KEY)
        if data:
            chosen = _from_session(actor, data, clock.today())
            if chosen is None:
                session.pop(SESSION_KEY, None)
                flash(_l("You are no longer acting for another person: the mandate, guardianship or check has "
                         "ended. You are back on your own account."), "warning")
            else:
                result = chosen
    g.setdefault(_G, result)
    return result


def forget() -> None:
    session.pop(SESSION_KEY, None)
    g.pop(_G, None)


def subject() -> Account:
    """The person the pages are about now; refuses while a CUPS visitor is not identified and consenting."""
    authority = current()
    if authority is None or authority.subject is None:
        raise NotAllowed(_l("Identify the visitor and confirm their consent before you apply on their behalf."))
    return authority.subject


def may_open(account: Account, application: Application) -> bool:
    """Whether ``account`` may open ``application`` in this request.

    Its applicant may, unless they are a specialist serving a visitor right now (only the visitor's
    applications can be opened then, so nobody else's data appears on the centre's screen); whoever acts
    for the applicant now may, and nobody else, including whoever filled it in before their authority ended.
    """
    authority = current()
    if authority is None:
        return application.applicant_id == account.id
    if authority.subject is not None and application.applicant_id == authority.subject.id:
        return True
    return application.applicant_id == account.id and authority.basis != "assisted"
