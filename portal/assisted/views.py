"""The CUPS desk: start a visit, identify the visitor, consent, act for them, end the visit."""
from __future__ import annotations

import datetime as dt

from flask import (Blueprint, Response, current_app, flash, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import services as app_services
from portal.assisted import centres, forms, queries, services
from portal.assisted.models import ACTIVE, AWAITING_CONSENT, IDENTIFYING, new_ref
from portal.core import clock
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import staff

bp = Blueprint("assisted", __name__, url_prefix="/cups")
specialist = staff(services.ROLE)
CLEAR_SITE_DATA = '"cache", "storage"'


def _lang() -> str:
    return str(get_locale() or "ro")


def _me():
    return current_user._get_current_object()  # noqa: SLF001


def _centre_choices(lang: str) -> list[tuple[str, str]]:
    return [(c.code, c.name_in(lang)) for c in services.centres_of(_me())]


def _desk(mpass_form=None, document_form=None, status: int = 200):
    lang = _lang()
    choices = _centre_choices(lang)
    mpass_form = mpass_form or forms.MPassVisitForm(prefix="mpass")
    document_form = document_form or forms.DocumentVisitForm(prefix="doc")
    for form in (mpass_form, document_form):
        form.centre.choices = choices
    from portal.representation.authority import open_visit_of

    visit = services.visit_of_request(db.session, _me())
    leftover = open_visit_of(db.session, _me()) if visit is None else None
    return render_template("assisted/desk.html", visit=visit, leftover=leftover, mpass_form=mpass_form,
                           document_form=document_form, centres=services.centres_of(_me()), lang=lang,
                           end_form=forms.EndForm()), status


@bp.get("/")
@specialist
def desk():
    return _desk()


@bp.post("/visits/mpass")
@specialist
def start_mpass():
    """The visitor logs in with MPass here; the answer identifies them for this visit and logs nobody in."""
    form = forms.MPassVisitForm(prefix="mpass")
    form.centre.choices = _centre_choices(_lang())
    if not form.validate_on_submit():
        return _desk(mpass_form=form, status=400)
    from portal.auth import services as auth_services
    from portal.auth.views import service_provider

    timeout = dt.timedelta(seconds=current_app.config["ESOCIAL"].saml_message_timeout_seconds)
    ref = new_ref()
    message = auth_services.begin_visitor_identification(
        service_provider(), return_to=url_for("assisted.visit", ref=ref), lang=form.language.data,
        now=clock.now(), timeout=timeout)
    services.start_by_mpass(db.session, _me(), centre_code=form.centre.data, language=form.language.data,
                            login_session_id=_me().login_session_id, saml_request_id=message.id, ref=ref)
    response = make_response(render_template(
        "auth/post_binding.html", message=message, title=_l("The visitor logs in with MPass"),
        lead=_l("Give the keyboard to the visitor: they log in with MPass themselves. Their login only identifies "
                "them for this visit; it does not open their own session on this computer."),
        button=_l("Continue to MPass")))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/visits/document")
@specialist
def start_document():
    form = forms.DocumentVisitForm(prefix="doc")
    form.centre.choices = _centre_choices(_lang())
    if not form.validate_on_submit():
        return _desk(document_form=form, status=400)
    try:
        visit = services.start_by_document(
            db.session, _me(), centre_code=form.centre.data, idnp=form.idnp.data,
            document_type=form.document_type.data, document_number=form.document_number.data,
            language=form.language.data, login_session_id=_me().login_session_id)
    except DomainError as e:
        form.form_errors.append(str(e))
        return _desk(document_form=form, status=400)
    return redirect(url_for("assisted.visit", ref=visit.ref), code=303)


@bp.get("/visits/<ref>")
@specialist
def visit(ref: str):
    services.visit_of_request(db.session, _me())  # ends a visit left idle or in another login session
    v = services.visit_for_specialist(db.session, ref, _me())
    return render_template("assisted/visit.html", visit=v, centre=centres.get(v.centre_code),
                           consent_form=forms.ConsentForm(), end_form=forms.EndForm(), lang=_lang(),
                           ACTIVE=ACTIVE, AWAITING_CONSENT=AWAITING_CONSENT, IDENTIFYING=IDENTIFYING)


@bp.get("/visits/<ref>/consent.pdf")
@specialist
def consent_pdf(ref: str):
    v = services.visit_for_specialist(db.session, ref, _me())
    if not v.is_open or v.visitor is None:
        return redirect(url_for("assisted.visit", ref=ref))
    from portal.assisted.viewmodels import consent_form_data
    from portal.printouts.consent_form import render

    pdf = render(consent_form_data(v))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="consent-{v.ref}.pdf"'})


@bp.post("/visits/<ref>/consent")
@specialist
def confirm_consent(ref: str):
    v = services.visit_for_specialist(db.session, ref, _me())
    form = forms.ConsentForm()
    if not form.validate_on_submit():
        return render_template("assisted/visit.html", visit=v, centre=centres.get(v.centre_code), consent_form=form,
                               end_form=forms.EndForm(), lang=_lang(), ACTIVE=ACTIVE,
                               AWAITING_CONSENT=AWAITING_CONSENT, IDENTIFYING=IDENTIFYING), 400
    if services.visit_of_request(db.session, _me()) is None:
        flash(_l("This visit has ended."), "warning")
        return redirect(url_for("assisted.desk"), code=303)
    services.confirm_consent(db.session, v, specialist=_me())
    return redirect(url_for("assisted.visit", ref=ref), code=303)


@bp.post("/visits/<ref>/end")
@specialist
def end(ref: str):
    v = services.visit_for_specialist(db.session, ref, _me())
    if forms.EndForm().validate_on_submit():
        services.end(db.session, v, specialist=_me())
        flash(_l("The visit has ended. Nothing of the visitor is shown on this computer any more."), "success")
    response = redirect(url_for("assisted.desk"), code=303)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.get("/applications")
@specialist
def applications():
    """The centre's visitors' applications still open, and what each is waiting for."""
    codes = {c.code for c in services.centres_of(_me())}
    rows = queries.centre_applications(db.session, codes, app_services.catalogue(), _lang())
    names = ", ".join(c.name_in(_lang()) for c in services.centres_of(_me()))
    return render_template("assisted/applications.html", rows=rows, centre_names=names, lang=_lang())
