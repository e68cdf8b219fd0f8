"""The citizen's privacy page: download everything held about them, retention periods, their consents."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.audit import services as audit
from portal.core.db import db
from portal.core.security import citizen
from portal.privacy import consent, export, retention

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

# Readable names of the sections of the download; other tables show their technical name.
SECTIONS = {
    "account": _l("Your account"),
    "role_assignment": _l("Roles given to you in eSocial"),
    "login_session": _l("Your logins"),
    "application": _l("Your applications"),
    "claim": _l("Benefits asked for"),
    "evidence": _l("Data received from the registries"),
    "document": _l("Documents you uploaded"),
    "status_event": _l("What happened to your applications"),
    "notification": _l("Messages sent to you"),
    "audit_event": _l("Who did what with your data"),
    "consent": _l("Your consents"),
}
KIND_NAMES = {
    "drafts": _l("Unfinished applications"),
    "rejected_applications": _l("Rejected applications"),
    "decided_applications": _l("Decided applications"),
    "audit_events": _l("Record of who accessed your data"),
    "login_sessions": _l("Logins"),
    "notifications": _l("Messages sent to you"),
    "consents": _l("Consents that ended"),
    "orphan_uploads": _l("Files no longer attached to an application"),
}


def _data():
    data = export.collect(db.session, current_user)
    return data


@bp.get("/")
@citizen
def overview():
    data = _data()
    periods = retention.load_periods(current_app.config["ESOCIAL"])
    return render_template("privacy/overview.html", counts={k: len(v) for k, v in data.tables.items()},
                           sections=SECTIONS, periods=periods.days, kinds=KIND_NAMES,
                           consents=consent.of_person(db.session, current_user.idnp))


@bp.get("/data")
@citizen
def data_page():
    data = _data()
    audit.record(db.session, "personal_data_exported", actor_idnp=current_user.idnp, subject_idnp=current_user.idnp,
                 form="page")
    return render_template("privacy/data.html", data=data, sections=SECTIONS)


@bp.get("/data.json")
@citizen
def download():
    data = _data()
    audit.record(db.session, "personal_data_exported", actor_idnp=current_user.idnp, subject_idnp=current_user.idnp,
                 form="json")
    body = json.dumps(data.as_json(), ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="esocial-my-data.json"', "Cache-Control": "no-store, private"})
