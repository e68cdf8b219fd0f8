"""The citizen's side of a decision: its page, its letter (PDF) and the appeal."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.applications import queries as app_queries
from portal.applications import services as app_services
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen
from portal.decisions import forms, services
from portal.decisions.models import Decision
from portal.routing.reference import territory

bp = Blueprint("decisions", __name__)


def _lang() -> str:
    return str(get_locale() or "ro")


def _decision(ref: str, decision_ref: str):
    """The decision ``decision_ref`` of the citizen's application ``ref``; 404 for anyone else."""
    application = app_queries.application_for_citizen(db.session, ref, current_user)
    decision = db.session.scalar(select(Decision).where(Decision.ref == decision_ref))
    if decision is None or decision.claim.application_id != application.id:
        abort(404)
    return application, decision


def _page(application, decision, form, status=200):
    cat = app_services.catalogue()
    terr = territory()
    agency = terr.agencies.get(decision.agency_code)
    return render_template("decisions/decision.html", application=application, decision=decision, form=form,
                           benefit=cat.get(decision.claim.benefit_code).title_in(_lang()),
                           agency=agency.name_in(_lang()) if agency else decision.agency_code,
                           can_appeal=services.can_appeal(db.session, decision),
                           appeal=services.open_appeal(db.session, decision.claim)), status


@bp.get("/applications/<ref>/decisions/<decision_ref>")
@citizen
def decision(ref: str, decision_ref: str):
    application, decision = _decision(ref, decision_ref)
    form = forms.AppealForm()
    form.grounds.data = services.prefilled_grounds(decision, _lang())
    return _page(application, decision, form)


@bp.get("/applications/<ref>/decisions/<decision_ref>/letter.pdf")
@citizen
def letter(ref: str, decision_ref: str):
    _, decision = _decision(ref, decision_ref)
    return Response(decision.letter_pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{decision.number}.pdf"'})


@bp.post("/applications/<ref>/decisions/<decision_ref>/appeal")
@citizen
def appeal(ref: str, decision_ref: str):
    application, decision = _decision(ref, decision_ref)
    form = forms.AppealForm()
    if not form.validate_on_submit():
        return _page(application, decision, form, status=400)
    try:
        services.appeal(db.session, decision, actor=current_user, grounds=form.grounds.data)
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("decisions.decision", ref=ref, decision_ref=decision_ref), code=303)
    flash(_l("Your appeal was sent. A worker other than the one who decided will examine it."), "success")
    return redirect(url_for("citizen.application", ref=ref), code=303)
