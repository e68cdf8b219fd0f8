"""Household case files in the back office. Every opening asks why, and is logged with the answer."""
from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import queries as bo_queries
from portal.casefiles import forms, services
from portal.casefiles.models import Referral
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import staff
from portal.routing.reference import territory

bp = Blueprint("casefiles", __name__, url_prefix="/backoffice/households")
ROLES = services.ROLES
PURPOSE_KEY = "casefile_purpose"
PURPOSE_SECONDS = 30 * 60


def _lang() -> str:
    return str(get_locale() or "ro")


def _agencies():
    terr = territory()
    return [(code, a.name_in(_lang())) for code, a in terr.agencies.items()]


def _file(ref: str):
    case_file = services.file_for(db.session, ref, current_user)
    if case_file is None:
        abort(404)
    return case_file


def _purpose(ref: str) -> tuple[str, str] | None:
    """The reason this person gave for opening case file ``ref`` in the last half hour, with their details."""
    stored = session.get(PURPOSE_KEY, {}).get(ref)
    if stored and stored[1] > time.time():
        return stored[0], stored[2] if len(stored) > 2 else ""
    return None


@bp.get("/")
@staff(*ROLES)
def index():
    return render_template("casefiles/index.html", files=services.files_for(db.session, current_user),
                           risk_labels=forms.RISK_LABELS, agencies=dict(_agencies()))


@bp.post("/from-case/<ref>")
@staff(*ROLES)
def open_file(ref: str):
    found = bo_queries.case_for_staff(db.session, ref, current_user.agencies_for(*ROLES))
    from portal.citizen.forms import EmptyForm

    if not EmptyForm().validate_on_submit():
        abort(400)
    case_file, created = services.open_for_application(db.session, found.case.application, found.case.agency_code,
                                                       actor=current_user)
    if created:
        flash(_l("A case file was opened for the household."), "success")
    return redirect(url_for("casefiles.show", ref=case_file.ref), code=303)


def _page(case_file, status=200, **forms_given):
    lang = _lang()
    agencies = _agencies()
    plan_form = forms_given.get("plan_form") or forms.PlanForm(prefix="plan")
    plan_form.responsible_agency.choices = agencies
    if not plan_form.responsible_agency.data:
        plan_form.responsible_agency.data = case_file.agency_code
    referral_form = forms_given.get("referral_form") or forms.ReferralForm(prefix="referral")
    referral_form.to_agency.choices = [(c, n) for c, n in agencies if c != case_file.agency_code]
    risk_form = forms_given.get("risk_form") or forms.RiskForm(prefix="risk", level=case_file.risk_level)
    terr = territory()
    return render_template(
        "casefiles/show.html", f=case_file, lang=lang, owner=case_file.agency_code in services.agencies_of(current_user),
        risk_form=risk_form, assessment_form=forms_given.get("assessment_form") or forms.assessment_form()(prefix="assess"),
        plan_form=plan_form, visit_form=forms_given.get("visit_form") or forms.VisitForm(prefix="visit"),
        note_form=forms_given.get("note_form") or forms.NoteForm(prefix="note"), referral_form=referral_form,
        answer_form=forms.ReferralAnswerForm(prefix="answer"), close_form=forms.CloseForm(prefix="close"), status_form=forms.PlanStatusForm(prefix="status"),
        areas=services.NEED_AREAS, area_labels=forms.AREA_LABELS, level_labels=forms.LEVEL_LABELS,
        risk_labels=forms.RISK_LABELS, plan_labels=forms.PLAN_STATUS_LABELS, kind_labels=forms.KIND_LABELS,
        agency_names={c: a.name_in(lang) for c, a in terr.agencies.items()},
        raion=terr.raions[case_file.raion_code].name_in(lang) if case_file.raion_code in terr.raions else "—",
        my_agencies=services.agencies_of(current_user)), status


@bp.get("/<ref>")
@staff(*ROLES)
def show(ref: str):
    case_file = _file(ref)
    purpose = _purpose(ref)
    if purpose is None:
        return render_template("casefiles/purpose.html", f=case_file, form=forms.PurposeForm())
    services.record_opening(db.session, case_file, actor=current_user, purpose=purpose[0], note=purpose[1])
    return _page(case_file)


@bp.post("/<ref>/purpose")
@staff(*ROLES)
def purpose(ref: str):
    case_file = _file(ref)
    form = forms.PurposeForm()
    if not form.validate_on_submit():
        return render_template("casefiles/purpose.html", f=case_file, form=form), 400
    purposes = dict(session.get(PURPOSE_KEY, {}))
    purposes = {k: v for k, v in purposes.items() if v[1] > time.time()}
    purposes[ref] = (form.purpose.data, time.time() + PURPOSE_SECONDS, (form.note.data or "")[:500])
    session[PURPOSE_KEY] = purposes
    return redirect(url_for("casefiles.show", ref=ref), code=303)


def _act(ref: str, form_name: str, form, action):
    case_file = _file(ref)
    if _purpose(ref) is None:
        return redirect(url_for("casefiles.show", ref=ref), code=303)
    if not form.validate_on_submit():
        return _page(case_file, status=400, **{form_name: form})
    try:
        action(case_file, form)
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash(_l("Saved."), "success")
    return redirect(url_for("casefiles.show", ref=ref), code=303)


@bp.post("/<ref>/risk")
@staff(*ROLES)
def risk(ref: str):
    return _act(ref, "risk_form", forms.RiskForm(prefix="risk"), lambda cf, form: services.set_risk(
        db.session, cf, form.level.data, actor=current_user, reason=form.reason.data))


@bp.post("/<ref>/assessments")
@staff(*ROLES)
def assessment(ref: str):
    form = forms.assessment_form()(prefix="assess")
    return _act(ref, "assessment_form", form, lambda cf, form: services.assess(
        db.session, cf, {a: getattr(form, f"area_{a}").data for a in services.NEED_AREAS}, form.summary.data,
        actor=current_user))


@bp.post("/<ref>/plan")
@staff(*ROLES)
def plan(ref: str):
    form = forms.PlanForm(prefix="plan")
    form.responsible_agency.choices = _agencies()
    return _act(ref, "plan_form", form, lambda cf, form: services.add_plan_item(
        db.session, cf, actor=current_user, kind=form.kind.data, description=form.description.data,
        responsible_agency=form.responsible_agency.data, due_on=form.due_on.data))


@bp.post("/<ref>/plan/<int:item_id>")
@staff(*ROLES)
def plan_status(ref: str, item_id: int):
    return _act(ref, "status_form", forms.PlanStatusForm(prefix="status"), lambda cf, form: services.update_plan_item(
        db.session, cf, item_id, form.status.data, actor=current_user))


@bp.post("/<ref>/visits")
@staff(*ROLES)
def visit(ref: str):
    return _act(ref, "visit_form", forms.VisitForm(prefix="visit"), lambda cf, form: services.add_visit(
        db.session, cf, actor=current_user, visited_on=form.visited_on.data, findings=form.findings.data,
        next_visit_on=form.next_visit_on.data))


@bp.post("/<ref>/notes")
@staff(*ROLES)
def note(ref: str):
    return _act(ref, "note_form", forms.NoteForm(prefix="note"), lambda cf, form: services.add_note(
        db.session, cf, form.text.data, actor=current_user))


@bp.post("/<ref>/referrals")
@staff(*ROLES)
def referral(ref: str):
    form = forms.ReferralForm(prefix="referral")
    form.to_agency.choices = _agencies()
    return _act(ref, "referral_form", form, lambda cf, form: services.refer(
        db.session, cf, form.to_agency.data, form.reason.data, actor=current_user))


@bp.post("/<ref>/referrals/<referral_ref>")
@staff(*ROLES)
def answer_referral(ref: str, referral_ref: str):
    def act(cf, form):
        item = db.session.scalar(select(Referral).where(Referral.ref == referral_ref, Referral.case_file_id == cf.id))
        if item is None:
            abort(404)
        services.answer_referral(db.session, item, form.answer.data == "accept", form.note.data, actor=current_user)

    return _act(ref, "answer_form", forms.ReferralAnswerForm(prefix="answer"), act)


@bp.post("/<ref>/close")
@staff(*ROLES)
def close(ref: str):
    return _act(ref, "close_form", forms.CloseForm(prefix="close"), lambda cf, form: services.close(
        db.session, cf, form.reason.data, actor=current_user))

