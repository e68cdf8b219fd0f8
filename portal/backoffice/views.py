"""Back office: an agency's queue and its cases. A worker sees only their own agency's cases."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import queries, services
from portal.applications import status as st
from portal.backoffice import forms, viewmodels
from portal.citizen.forms import EmptyForm
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import staff
from portal.routing.reference import territory

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
CASE_ROLES = ("case_worker", "supervisor")


def _agencies() -> set[str]:
    return current_user.agencies_for(*CASE_ROLES)


def _lang() -> str:
    return str(get_locale() or "ro")


@bp.get("/")
@staff(*CASE_ROLES)
def queue():
    claims = queries.agency_queue(db.session, _agencies())
    return render_template("backoffice/queue.html",
                           vm=viewmodels.QueueView(claims, queries.decided_recently(db.session, _agencies()),
                                                   _agencies(), services.catalogue(), territory(), _lang()))


def _case_page(claim, request_form=None, decision_form=None, status=200):
    return render_template("backoffice/case.html",
                           vm=viewmodels.CaseView(claim, services.catalogue(), territory(), _lang()),
                           request_form=request_form or forms.RequestInfoForm(),
                           decision_form=decision_form or forms.DecisionForm(),
                           take_form=EmptyForm()), status


@bp.get("/cases/<ref>")
@staff(*CASE_ROLES)
def case(ref: str):
    claim = queries.claim_for_staff(db.session, ref, _agencies())
    services.record_case_view(db.session, claim, actor=current_user)
    return _case_page(claim)


@bp.post("/cases/<ref>/take")
@staff(*CASE_ROLES)
def take(ref: str):
    claim = queries.claim_for_staff(db.session, ref, _agencies())
    if EmptyForm().validate_on_submit() and claim.status in (st.SUBMITTED, st.INFO_PROVIDED):
        services.open_case(db.session, claim, actor=current_user)
    return redirect(url_for("backoffice.case", ref=ref), code=303)


@bp.post("/cases/<ref>/request-info")
@staff(*CASE_ROLES)
def request_info(ref: str):
    claim = queries.claim_for_staff(db.session, ref, _agencies())
    form = forms.RequestInfoForm()
    if not form.validate_on_submit():
        return _case_page(claim, request_form=form, status=400)
    services.request_information(db.session, claim, actor=current_user, question=form.question.data)
    flash(_l("The request was sent to the applicant."), "success")
    return redirect(url_for("backoffice.case", ref=ref), code=303)


@bp.post("/cases/<ref>/decide")
@staff(*CASE_ROLES)
def decide(ref: str):
    claim = queries.claim_for_staff(db.session, ref, _agencies())
    form = forms.DecisionForm()
    if not form.validate_on_submit():
        return _case_page(claim, decision_form=form, status=400)
    try:
        services.decide(db.session, claim, actor=current_user, decision=form.decision.data, reason=form.reason.data)
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("backoffice.case", ref=ref), code=303)
    flash(_l("The decision was recorded and the applicant was notified."), "success")
    return redirect(url_for("backoffice.queue"), code=303)


@bp.get("/cases/<ref>/documents/<doc_ref>")
@staff(*CASE_ROLES)
def document(ref: str, doc_ref: str):
    claim = queries.claim_for_staff(db.session, ref, _agencies())
    doc = queries.document_of(claim.application, doc_ref)
    services.record_document_download(db.session, claim, doc, actor=current_user)
    from portal.core import vault  # decrypted in memory; stored encrypted outside the web root

    return vault.serve(doc)
