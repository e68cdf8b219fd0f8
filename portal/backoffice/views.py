"""Back office: an agency's queue and its cases. A worker sees only their own agency's cases.

Also the administrators' routing rules and the ministry's figures (counts, never a person).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import services
from portal.applications import status as st
from portal.audit import services as audit
from portal.backoffice import cases as case_service
from portal.backoffice import calendar, forms, queries, viewmodels
from portal.citizen.forms import EmptyForm
from portal.core import clock
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import staff
from portal.decisions import services as decisions
from portal.routing import rules as rules_mod
from portal.routing import services as routing
from portal.routing.reference import territory

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
CASE_ROLES = ("case_worker", "supervisor")
ADMIN_ROLES = ("agency_admin", "sysadmin")
FIGURE_ROLES = ("analyst", "supervisor", "agency_admin", "sysadmin")
ANY_STAFF = ("case_worker", "supervisor", "agency_admin", "analyst", "sysadmin")


def _agencies() -> set[str]:
    return current_user.agencies_for(*CASE_ROLES)


def _lang() -> str:
    return str(get_locale() or "ro")


def _is_supervisor() -> bool:
    return bool(current_user.agencies_for("supervisor"))


@bp.get("/")
@staff(*ANY_STAFF)
def queue():
    if not _agencies():  # administrators and analysts have no queue: their own pages
        if current_user.has_role("agency_admin") or current_user.has_role("sysadmin"):
            return redirect(url_for("backoffice.routing_rules"))
        return redirect(url_for("backoffice.figures"))
    agencies = _agencies()
    page = queries.queue(db.session, agencies, after=request.args.get("after"), before=request.args.get("before"),
                         exclude_assigned_to=current_user.id, size=queries.PAGE_SIZE)
    supervisor = _is_supervisor()
    return render_template("backoffice/queue.html", take_form=EmptyForm(), page_size=queries.PAGE_SIZE,
                           vm=viewmodels.QueueView(page, queries.assigned_to(db.session, agencies, current_user.id),
                                                   queries.closed_recently(db.session, agencies) if page.first else [],
                                                   agencies, services.catalogue(), territory(), _lang(),
                                                   me=current_user, supervisor=supervisor,
                                                   overdue=queries.overdue_count(db.session, agencies, clock.today())
                                                   if supervisor else 0))


@bp.post("/next")
@staff(*CASE_ROLES)
def take_next():
    if not EmptyForm().validate_on_submit():
        abort(400)
    case = case_service.take_next(db.session, actor=current_user)
    if case is None:
        flash(_l("There is no case waiting to be taken."), "info")
        return redirect(url_for("backoffice.queue"), code=303)
    return redirect(url_for("backoffice.case", ref=case.ref), code=303)


def _purpose(case) -> str:
    """Why this person opens the case file, recorded with every opening."""
    if case.assigned_to_id == current_user.id:
        return "assigned_case"
    if current_user.has_role("supervisor", case.agency_code):
        return "supervision"
    return "agency_queue"


def _case_page(found, request_form=None, decision_form=None, transfer_form=None, status=200):
    case = found.case
    vm = viewmodels.CaseView(case, found.claim, services.catalogue(), territory(), _lang(),
                             decisions=queries.decisions_of_case(db.session, case),
                             appeals=queries.appeals_of_case(db.session, case), me=current_user)
    decision_form = decision_form or forms.DecisionForm()
    decision_form.reason_code.choices = [("", "—")] + vm.reasons
    if not decision_form.claim.data and vm.decidable:
        focus = found.claim if found.claim is not None else vm.decidable[0].claim
        decision_form.claim.data = focus.ref
    transfer_form = transfer_form or forms.TransferForm(prefix="transfer")
    transfer_form.agency.choices = _agency_choices(exclude=case.agency_code)
    assign_form = forms.AssignForm()
    assign_form.worker.choices = [("", _l("nobody: back to the queue"))] + [
        (str(a.id), a.full_name) for a in case_service.staff_of(db.session, case.agency_code)]
    assign_form.worker.data = str(case.assigned_to_id or "")
    return render_template("backoffice/case.html", vm=vm,
                           request_form=request_form or forms.RequestInfoForm(), decision_form=decision_form,
                           transfer_form=transfer_form, assign_form=assign_form, take_form=EmptyForm(),
                           can_assign=current_user.has_role("supervisor", case.agency_code)), status


def _agency_choices(exclude: str | None = None):
    terr = territory()
    return [(code, a.name_in(_lang())) for code, a in sorted(terr.agencies.items(), key=lambda kv: kv[1].name_in(_lang()))
            if code != exclude]


@bp.get("/cases/<ref>")
@staff(*CASE_ROLES)
def case(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    audit.record(db.session, "case_viewed", actor_idnp=current_user.idnp,
                 subject_idnp=found.case.application.applicant.idnp, object_type="case",
                 object_id=found.case.ref, agency=found.case.agency_code, purpose=_purpose(found.case))
    from portal.registries.services import record_reading  # the data-access log: every person shown

    record_reading(found.case.application, actor=current_user, institution=found.case.agency_code,
                   benefits=[c.benefit_code for c in found.case.claims], reference=found.case.ref)
    return _case_page(found)


@bp.post("/cases/<ref>/take")
@staff(*CASE_ROLES)
def take(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    if EmptyForm().validate_on_submit():
        try:
            if not case_service.take(db.session, found.case, actor=current_user):
                flash(_l("Someone else took this case first."), "error")
        except DomainError as e:
            flash(str(e), "error")
    return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)


@bp.post("/cases/<ref>/assign")
@staff("supervisor")
def assign(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    form = forms.AssignForm()
    workers = {str(a.id): a for a in case_service.staff_of(db.session, found.case.agency_code)}
    form.worker.choices = [("", "")] + [(k, a.full_name) for k, a in workers.items()]
    if form.validate_on_submit():
        try:
            case_service.assign(db.session, found.case, workers.get(form.worker.data), actor=current_user)
        except DomainError as e:
            flash(str(e), "error")
        else:
            flash(_l("The case was assigned."), "success")
    return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)


@bp.post("/cases/<ref>/transfer")
@staff(*CASE_ROLES)
def transfer(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    form = forms.TransferForm(prefix="transfer")
    form.agency.choices = _agency_choices(exclude=found.case.agency_code)
    if not form.validate_on_submit():
        return _case_page(found, transfer_form=form, status=400)
    try:
        case_service.transfer(db.session, found.case, form.agency.data, actor=current_user, reason=form.reason.data)
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)
    flash(_l("The case was sent to the other agency and the applicant was told."), "success")
    return redirect(url_for("backoffice.queue"), code=303)


@bp.post("/cases/<ref>/request-info")
@staff(*CASE_ROLES)
def request_info(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    form = forms.RequestInfoForm()
    if not form.validate_on_submit():
        return _case_page(found, request_form=form, status=400)
    asked = [c for c in found.case.claims if c.status in (st.SUBMITTED, st.IN_REVIEW, st.INFO_PROVIDED)]
    if not asked:
        flash(_l("Nothing in this case waits for the agency."), "error")
        return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)
    for claim in asked:
        services.request_information(db.session, claim, actor=current_user, question=form.question.data)
    flash(_l("The request was sent to the applicant."), "success")
    return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)


@bp.post("/cases/<ref>/decide")
@staff(*CASE_ROLES)
def decide(ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    form = forms.DecisionForm()
    form.reason_code.choices = [("", "—")] + [(code, code) for code in calendar.rules().rejection_reasons]
    if not form.validate_on_submit():
        return _case_page(found, decision_form=form, status=400)
    claim = next((c for c in found.case.claims if c.ref == form.claim.data), None) or found.claim
    if claim is None:
        undecided = [c for c in found.case.claims if c.status in case_service.UNDECIDED]
        claim = undecided[0] if len(undecided) == 1 else None
    if claim is None:
        flash(_l("Choose the benefit you decide on."), "error")
        return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)
    try:
        st.check(claim.status, form.decision.data, st.STAFF)
        decisions.decide(db.session, found.case, claim, actor=current_user, outcome=form.decision.data,
                         amount=form.amount.data, period=form.period.data, start_date=form.start_date.data,
                         reason_code=form.reason_code.data or None, text=form.reason.data or "")
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)
    flash(_l("The decision was recorded and the applicant was notified."), "success")
    if found.case.status != "closed":
        return redirect(url_for("backoffice.case", ref=found.case.ref), code=303)
    return redirect(url_for("backoffice.queue"), code=303)


@bp.get("/cases/<ref>/documents/<doc_ref>")
@staff(*CASE_ROLES)
def document(ref: str, doc_ref: str):
    from portal.applications import queries as app_queries

    found = queries.case_for_staff(db.session, ref, _agencies())
    doc = app_queries.document_of(found.case.application, doc_ref)
    claim = found.claim or found.case.claims[0]
    services.record_document_download(db.session, claim, doc, actor=current_user)
    from portal.core import vault  # decrypted in memory; stored encrypted outside the web root

    return vault.serve(doc)


@bp.get("/cases/<ref>/decisions/<decision_ref>/letter.pdf")
@staff(*CASE_ROLES)
def letter(ref: str, decision_ref: str):
    found = queries.case_for_staff(db.session, ref, _agencies())
    decision = queries.decision_of_case(db.session, found.case, decision_ref)
    audit.record(db.session, "decision_letter_read", actor_idnp=current_user.idnp,
                 subject_idnp=found.case.application.applicant.idnp, object_type="decision",
                 object_id=decision.number)
    return Response(decision.letter_pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{decision.number}.pdf"'})


# --- figures for the ministry -----------------------------------------------------------------------------------

@bp.get("/figures")
@staff(*FIGURE_ROLES)
def figures():
    terr = territory()
    rows = queries.figures(db.session, clock.today())
    return render_template("backoffice/figures.html", rows=rows,
                           names={code: a.name_in(_lang()) for code, a in terr.agencies.items()})


# --- routing rules ----------------------------------------------------------------------------------------------

def _routing_page(rule_data, form, *, preview=None, errors=(), status=200):
    terr = territory()
    cat = services.catalogue()
    targets = [("kind:territorial", str(_l("the territorial agency of the applicant's raion")))] + [
        (f"agency:{code}", name) for code, name in _agency_choices()]
    rows = list(rule_data) + [{}]  # one empty row to add a rule
    return render_template("backoffice/routing.html", rows=rows, form=form, targets=targets,
                           benefits=[(b.code, b.title_in(_lang())) for b in cat],
                           raions=[(code, r.name_in(_lang())) for code, r in terr.raions.items()],
                           condition_keys=rules_mod.CONDITION_KEYS, preview=preview, errors=errors,
                           versions=routing.versions(db.session)[:20], current=routing.latest(db.session),
                           agency_names={code: a.name_in(_lang()) for code, a in terr.agencies.items()},
                           benefit_names={b.code: b.title_in(_lang()) for b in cat},
                           raion_names={code: r.name_in(_lang()) for code, r in terr.raions.items()},
                           own_agencies=_administered_names()), status


def _administered_names() -> list[str] | None:
    """The names of the agencies whose rules this administrator may change; None for a system administrator."""
    own = routing.administered_agencies(current_user)
    if own is None:
        return None
    agencies = territory().agencies
    return sorted(agencies[code].name_in(_lang()) if code in agencies else code for code in own)


@bp.get("/admin/routing")
@staff(*ADMIN_ROLES)
def routing_rules():
    routing.seed(db.session)
    return _routing_page(routing.latest(db.session).rules, forms.RoutingForm())


@bp.post("/admin/routing")
@staff(*ADMIN_ROLES)
def routing_save():
    form = forms.RoutingForm()
    if not form.validate_on_submit():
        abort(400)
    count = min(int(request.form.get("rows", "0") or 0), 500)
    data, errors = forms.parse_rules(request.form, count)
    rule_set = None
    if not errors:
        try:
            rule_set = rules_mod.rules_from_data(data)
        except ValueError as e:
            errors = [str(e)]
    if not errors:
        errors = rules_mod.check_rules(rule_set, territory(), services.catalogue().benefits)
    if errors:
        return _routing_page(data, form, errors=errors, status=400)
    if request.form.get("action") == "save":
        try:
            version = routing.save_version(db.session, rule_set, actor=current_user, reason=form.reason.data,
                                           benefits=services.catalogue().benefits)
        except DomainError as e:
            return _routing_page(data, form, errors=[str(e)], status=400)
        flash(_l("Version %(n)s of the routing rules is in force.", n=version.version), "success")
        return redirect(url_for("backoffice.routing_rules"), code=303)
    terr = territory()
    preview = {
        "matrix": routing.matrix_changes(routing.current(db.session), rule_set, services.catalogue().benefits, terr),
        "recent": [r for r in routing.recent_applications_under(db.session, rule_set, terr) if r.before != r.after],
    }
    outside = routing.scope_problems(routing.current(db.session), rule_set, actor=current_user, terr=terr,
                                     benefits=services.catalogue().benefits)
    errors = [str(DomainError(_l("Only a system administrator can make this change: %(problems)s"),
                              problems=routing.Problems(outside)))] if outside else []
    return _routing_page(data, form, preview=preview, errors=errors)


@bp.get("/admin/routing/versions/<int:number>")
@staff(*ADMIN_ROLES)
def routing_version(number: int):
    version = next((v for v in routing.versions(db.session) if v.version == number), None)
    if version is None:
        abort(404)
    terr = territory()
    cat = services.catalogue()
    return render_template("backoffice/routing_version.html", version=version,
                           agency_names={code: a.name_in(_lang()) for code, a in terr.agencies.items()},
                           benefit_names={b.code: b.title_in(_lang()) for b in cat})
