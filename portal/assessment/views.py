"""Eligibility's pages and the template helpers that show results on other pages.

Routes: add offered benefits to a draft and ask for a human review (citizen), clear a flag
(case worker).  Template globals build the view models of the eligibility panels, so the check
page, the citizen's application page and the case page each include one template without their
views changing.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.applications import prefill
from portal.applications import queries as application_queries
from portal.applications import services as applications
from portal.applications import steps as steps_mod
from portal.applications.models import Claim
from portal.assessment import forms, queries, services, viewmodels
from portal.core import clock
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen, staff
from portal.routing.reference import territory

bp = Blueprint("eligibility", __name__)
CASE_ROLES = ("case_worker", "supervisor")


def _lang() -> str:
    return str(get_locale() or "ro")


# --- the panels other pages include ---------------------------------------------------------------

@bp.app_template_global()
def check_eligibility(application):
    """The check page's panel: the result of each benefit asked for, and the offers."""
    return viewmodels.CheckEligibility(application, applications.catalogue(), territory(), _lang(), clock.today())


@bp.app_template_global()
def citizen_eligibility(application):
    """The citizen's application page: the pre-assessment kept with each claim."""
    return viewmodels.for_citizen(application, applications.catalogue(), territory(), _lang())


@bp.app_template_global()
def case_eligibility(claim):
    """The case page's panel for one claim: results, flags, the review asked for."""
    return viewmodels.CaseEligibility(claim, applications.catalogue(), territory(), _lang())


@bp.app_template_global()
def risk_label(level):
    return viewmodels.risk_label(level)


# --- the citizen ------------------------------------------------------------------------------------

@bp.post("/applications/<ref>/offers")
@citizen
def add_offers(ref: str):
    """Add benefits the check page offered to the same draft, then ask the registries for what they need."""
    application = application_queries.application_for_citizen(db.session, ref, current_user)
    if application.status != "draft":
        return redirect(url_for("citizen.application", ref=ref), code=303)
    form = forms.OffersForm()
    if not form.validate_on_submit():
        flash(_l("Choose at least one of the benefits offered."), "error")
        return redirect(url_for("citizen.step", ref=ref, step="check") + "#offers-heading", code=303)
    before = steps_mod.steps_for(applications.catalogue(), application.benefits,
                                 applications.evidence_by_item(application), clock.today())
    try:
        services.add_offered(db.session, application, form.benefits.data, actor=current_user,
                             catalogue_codes=applications.catalogue().benefits)
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("citizen.step", ref=ref, step="check"), code=303)
    prefill.refresh(db.session, application, actor=current_user, only_missing=True)
    after = steps_mod.steps_for(applications.catalogue(), application.benefits,
                                applications.evidence_by_item(application), clock.today())
    # The first page that is new, else the first page with something left to do, else the check page.
    target = next((s for s in after if s not in before), None)
    if target is None:
        target = next((s for s, _ in applications.problems(application, clock.today())), "check")
    applications.go_to(application, target)
    flash(_l("Added to your application. Answer what is new, then check and send."), "success")
    return redirect(url_for("citizen.step", ref=ref, step=target), code=303)


@bp.post("/applications/<ref>/claims/<claim_ref>/review")
@citizen
def request_review(ref: str, claim_ref: str):
    """Ask that a case worker review the automatic pre-assessment of one benefit."""
    application = application_queries.application_for_citizen(db.session, ref, current_user)
    claim = queries.claim_of_application(application, claim_ref)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.request_review(db.session, application, claim, actor=current_user, note=form.note.data)
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash(_l("Your request was recorded: a case worker will review the result."), "success")
    return redirect(url_for("citizen.application", ref=ref) + "#preassessment-heading", code=303)


# --- the case worker -------------------------------------------------------------------------------------

@bp.post("/backoffice/claims/<claim_ref>/flags/<int:flag_id>/clear")
@staff(*CASE_ROLES)
def clear_flag(claim_ref: str, flag_id: int):
    """Clear a cross-check flag with a recorded reason."""
    claim = db.session.scalar(select(Claim).where(Claim.ref == claim_ref))
    if claim is None or claim.agency_code not in current_user.agencies_for(*CASE_ROLES):
        abort(404)
    flag = queries.flag_for_claim(db.session, claim, flag_id)
    form = forms.ClearFlagForm()
    if not form.validate_on_submit():
        flash(_l("Say why you clear this flag."), "error")
    else:
        try:
            services.clear_flag(db.session, flag, actor=current_user, reason=form.reason.data)
        except DomainError as e:
            flash(str(e), "error")
        else:
            flash(_l("The flag was cleared and your reason recorded."), "success")
    back = request.referrer or ""
    return redirect(back if back.startswith(request.host_url) else url_for("backoffice.queue"), code=303)
