"""A person's own registry data ("My data"), who used it ("Who used my data"), rectification requests,
offers, and the registry owner's queue of rectification requests.

The blueprint also opens the data-access journal of every request (see :mod:`portal.registries.accesslog`).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import services as app_services
from portal.citizen.forms import EmptyForm
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen, staff
from portal.registries import accesslog, mydata, offers, queries, services, viewmodels
from portal.registries.forms import RectificationAnswerForm, ReportForm
from portal.routing.reference import territory

bp = Blueprint("registries", __name__)
OFFICER = "registry_officer"
CASE_ROLES = ("case_worker", "supervisor")

bp.before_app_request(accesslog.open_request_journal)
bp.teardown_app_request(accesslog.close_request_journal)


def _lang() -> str:
    return str(get_locale() or "ro")


# --- the citizen: My data, Who used my data -------------------------------------------------------------------

def _my_data_page(forms: dict | None = None, status: int = 200):
    results = mydata.fetch(current_user)
    vm = viewmodels.MyDataView(results, app_services.catalogue(), territory(), _lang())
    forms = forms or {}
    for registry in vm.registries:
        for item in registry.items:
            forms.setdefault(item.item, ReportForm(prefix=item.item, formdata=None))
    return render_template("registries/my_data.html", vm=vm, forms=forms), status


@bp.get("/my-data")
@citizen
def my_data():
    """What the registries hold about me and my household, asked now (purpose: data subject access)."""
    return _my_data_page()


@bp.post("/my-data/<item>/report")
@citizen
def report(item: str):
    """"This is wrong": a rectification request to the registry that owns the item."""
    if item not in app_services.catalogue().data_items:
        abort(404)
    form = ReportForm(prefix=item)
    if not form.validate_on_submit():
        return _my_data_page({item: form}, status=400)
    shown = mydata.fetch(current_user, items=[item]).get(item)
    try:
        services.report_wrong(db.session, account=current_user, item=item, note=form.note.data,
                              shown=shown.payload if shown is not None and shown.ok else None,
                              shown_at=shown.retrieved_at if shown is not None else None)
    except DomainError as e:
        form.note.errors = list(form.note.errors) + [str(e)]
        return _my_data_page({item: form}, status=400)
    flash(_l("Thank you. Your report was sent to the registry that holds this data."), "success")
    return redirect(url_for("registries.my_reports"), code=303)


@bp.get("/my-data/reports")
@citizen
def my_reports():
    rows = viewmodels.rectification_rows(queries.rectifications_of(db.session, current_user.idnp),
                                         app_services.catalogue(), territory(), _lang())
    return render_template("registries/my_reports.html", rows=rows)


@bp.get("/my-data/access")
@citizen
def who_used_my_data():
    """Every access to my data: which institution and official, when, for what. Only ever my own."""
    entries = queries.accesses_to(db.session, current_user.idnp)
    accounts = queries.accounts_by_idnp(db.session, {e.actor_idnp for e in entries})
    applications = queries.applications_by_ref(db.session, {e.application_ref for e in entries if e.application_ref})
    vm = viewmodels.AccessLogView(entries, current_user, accounts, applications, app_services.catalogue(),
                                  territory(), _lang())
    return render_template("registries/access_log.html", vm=vm)


# --- the citizen: offers ------------------------------------------------------------------------------------------

@bp.get("/offers")
@citizen
def my_offers():
    cat = app_services.catalogue()
    views = [viewmodels.offer_view(o, cat, _lang()) for o in queries.offers_for(db.session, current_user.idnp)]
    return render_template("registries/offers.html", offers=views, form=EmptyForm())


@bp.get("/offers/<ref>")
@citizen
def offer(ref: str):
    o = queries.offer_for(db.session, ref, current_user)
    if o.status == "accepted" and o.application is not None:
        return redirect(url_for("citizen.application", ref=o.application.ref)
                        if o.application.status != "draft" else
                        url_for("citizen.step", ref=o.application.ref, step=o.application.current_step))
    return render_template("registries/offer.html", offer=viewmodels.offer_view(o, app_services.catalogue(), _lang()),
                           form=EmptyForm())


@bp.post("/offers/<ref>/accept")
@citizen
def accept_offer(ref: str):
    o = queries.offer_for(db.session, ref, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    application = offers.accept(db.session, o, actor=current_user, language=_lang())
    if application.status != "draft":
        return redirect(url_for("citizen.application", ref=application.ref), code=303)
    return redirect(url_for("citizen.step", ref=application.ref, step=_first_step(application)), code=303)


def _first_step(application) -> str:
    from portal.applications import steps as steps_mod
    from portal.core import clock

    steps = steps_mod.steps_for(app_services.catalogue(), application.benefits,
                                app_services.evidence_by_item(application), clock.today())
    target = steps_mod.next_step(steps, "benefits")
    app_services.go_to(application, target)
    return target


@bp.post("/offers/<ref>/dismiss")
@citizen
def dismiss_offer(ref: str):
    o = queries.offer_for(db.session, ref, current_user)
    if EmptyForm().validate_on_submit():
        offers.dismiss(db.session, o, actor=current_user)
    return redirect(url_for("registries.my_offers"), code=303)


# --- staff: the registry owner's queue, and the case worker's notices -----------------------------------------

def _registries() -> set[str]:
    return current_user.agencies_for(OFFICER)


@bp.get("/backoffice/rectifications")
@staff(OFFICER)
def rectification_queue():
    requests = queries.rectification_queue(db.session, _registries())
    rows = viewmodels.rectification_rows(requests, app_services.catalogue(), territory(), _lang())
    names = [services.registry_name(code, _lang()) for code in sorted(_registries())]
    return render_template("registries/rectification_queue.html", rows=rows, registries=names,
                           forms={r.ref: RectificationAnswerForm(prefix=r.ref, formdata=None) for r in rows})


@bp.post("/backoffice/rectifications/<ref>")
@staff(OFFICER)
def answer_rectification(ref: str):
    r = queries.rectification_for_staff(db.session, ref, _registries())
    form = RectificationAnswerForm(prefix=ref)
    if not form.validate_on_submit():
        flash(" ".join(str(m) for _, m in form.error_summary()), "error")
        return redirect(url_for("registries.rectification_queue"), code=303)
    services.answer_rectification(db.session, r, actor=current_user, status=form.status.data, answer=form.answer.data)
    flash(_l("The answer was recorded."), "success")
    return redirect(url_for("registries.rectification_queue"), code=303)


@bp.post("/backoffice/applications/<ref>/registry-notices/seen")
@staff(*CASE_ROLES)
def notices_seen(ref: str):
    """A case worker of an agency handling the application has read what changed in its registry data."""
    application = queries.application_for_agencies(db.session, ref, current_user.agencies_for(*CASE_ROLES))
    if EmptyForm().validate_on_submit():
        services.mark_notices_seen(db.session, application, actor=current_user)
    target = request.form.get("next") or url_for("backoffice.queue")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("backoffice.queue")
    return redirect(target, code=303)


@bp.app_template_global()
def registry_notices(application) -> list:
    """Unseen notices about the application's registry data, for the case page (in the reader's language)."""
    return viewmodels.notice_views(application, app_services.catalogue(), territory(), _lang())


@bp.app_template_global()
def registry_changed_cases(rows) -> set[str]:
    """Refs of the queue's cases whose registry data changed since a case worker last looked."""
    return services.cases_with_unseen_notices(db.session, [r.ref for r in rows])


@bp.app_template_global()
def registry_pending(application) -> list[str]:
    """What the application still waits for from the registries."""
    return viewmodels.pending_items(application, app_services.catalogue(), territory(), _lang())
