"""The receipt as PDF, and the public status lookup (no account: number + code, rate-limited per address by
:mod:`portal.core.limits`)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import queries, services
from portal.core import limits
from portal.core.db import db
from portal.core.security import citizen, public
from portal.tracking import forms
from portal.tracking import services as tracking
from portal.tracking.viewmodels import receipt_data

bp = Blueprint("tracking", __name__)


def _lang() -> str:
    return str(get_locale() or "ro")


@bp.get("/applications/<ref>/receipt.pdf")
@citizen
def receipt_pdf(ref: str):
    application = queries.application_for_citizen(db.session, ref, current_user)
    if application.number is None:
        return render_template("errors/error.html", code=409, title=_l("This application is not sent yet"),
                               message=_l("The receipt is printed once the application is sent.")), 409
    from portal.printouts.receipt import render

    pdf = render(receipt_data(db.session, application, base_url=current_app.config["ESOCIAL"].base_url))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="receipt-{application.number}.pdf"'})


@bp.get("/status")
@public
def lookup_form():
    """Where an application stands, for anyone holding its receipt: no login, no personal data."""
    form = forms.LookupForm()
    form.number.data = request.args.get("number", "")[:40] or None
    return render_template("tracking/lookup.html", form=form, result=None, lang=_lang())


@bp.post("/status")
@public
@limits.status_lookup
def lookup():
    form = forms.LookupForm()
    if not form.validate_on_submit():
        return render_template("tracking/lookup.html", form=form, result=None, lang=_lang()), 400
    result = tracking.lookup(db.session, form.number.data, form.code.data, services.catalogue(), _lang())
    if result is None:
        form.code.errors = list(form.code.errors) + [
            _l("We found no application with this number and code. Check both against the receipt.")]
        return render_template("tracking/lookup.html", form=form, result=None, lang=_lang()), 404
    return render_template("tracking/lookup.html", form=form, result=result, lang=_lang())


@bp.app_context_processor
def _receipt_code():
    def receipt_code(application) -> str:
        return tracking.display(tracking.code_for(db.session, application))

    return {"receipt_code": receipt_code}
