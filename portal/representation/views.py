"""Acting for another person (a child, a ward, a grantor of a mandate) and managing mandates."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.applications import services as app_services
from portal.assisted import centres
from portal.core import clock
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen
from portal.registries.client import RegistryError
from portal.representation import context, forms, provenance, registry, services

bp = Blueprint("representation", __name__, url_prefix="/representation")


def _lang() -> str:
    return str(get_locale() or "ro")


def service_titles(codes) -> str:
    cat, lang = app_services.catalogue(), _lang()
    return ", ".join(cat.get(c).title_in(lang) for c in codes if c in cat.benefits)


def _me():
    return current_user._get_current_object()  # noqa: SLF001


def _refuse_during_visit() -> None:
    authority = context.current()
    if authority is not None and authority.basis == "assisted":
        raise DomainError(_l("You are serving a visitor at the centre: end the visit first."))


@bp.get("/")
@citizen
def choose():
    """Whom you can act for: yourself, your minor children, the people in your care, your grantors."""
    today = clock.today()
    children, registry_down = None, False
    try:
        children = registry.minor_children_of(_me(), today)
    except RegistryError:
        registry_down = True
    vm = services.choices(db.session, _me(), today=today, children=children)
    return render_template("representation/choose.html", vm=vm, registry_down=registry_down,
                           stop_form=forms.StopForm(), service_titles=service_titles, lang=_lang())


@bp.post("/act")
@citizen
def act():
    _refuse_during_visit()
    form = forms.ActForm()
    if not form.validate_on_submit():
        return redirect(url_for("representation.choose"), code=303)
    today, lang = clock.today(), _lang()
    born = None
    if form.basis.data == "parent":
        try:
            children = registry.minor_children_of(_me(), today)
        except RegistryError:
            flash(_l("The civil status register does not answer right now. Try again in a few minutes."), "error")
            return redirect(url_for("representation.choose"), code=303)
        authority, born = services.act_for_child(db.session, _me(), form.key.data, children=children, language=lang)
    elif form.basis.data == "guardian":
        authority = services.act_for_ward(db.session, _me(), form.key.data, today=today, language=lang)
    elif form.basis.data == "mandate":
        authority = services.act_under_mandate(db.session, _me(), form.key.data, today=today)
    else:
        return redirect(url_for("representation.choose"), code=303)
    context.forget()
    session[context.SESSION_KEY] = context.remember(authority, child_birth_date=born)
    flash(_l("You are now acting for %(name)s.", name=authority.subject.full_name), "success")
    return redirect(url_for("citizen.my_applications"), code=303)


@bp.post("/stop")
@citizen
def stop():
    if forms.StopForm().validate_on_submit():
        authority = context.current()
        if authority is not None and authority.basis in ("parent", "guardian", "mandate"):
            services.stop_acting(db.session, authority)
        context.forget()
        flash(_l("You are back on your own account."), "success")
    return redirect(url_for("citizen.my_applications"), code=303)


@bp.get("/mandates")
@citizen
def mandates():
    today = clock.today()
    return render_template("representation/mandates.html", given=services.mandates_given(db.session, _me()),
                           received=services.auth.mandates_to(db.session, _me().idnp, today), today=today,
                           form=forms.StopForm(), service_titles=service_titles, lang=_lang())


@bp.route("/mandates/new", methods=["GET", "POST"])
@citizen
def new_mandate():
    _refuse_during_visit()
    cat, lang = app_services.catalogue(), _lang()
    form = forms.MandateForm()
    form.services.choices = [(b.code, b.title_in(lang)) for b in cat]
    if form.validate_on_submit():
        try:
            try:
                record = registry.identity(form.grantee_idnp.data, actor=_me())
            except RegistryError as exc:
                raise DomainError(_l("The population register does not answer right now. Try again in a few "
                                     "minutes.")) from exc
            mandate = services.grant_mandate(db.session, _me(), grantee_idnp=form.grantee_idnp.data,
                                             services=form.services.data, valid_until=form.valid_until.data,
                                             language=lang, grantee_record=record)
        except DomainError as e:
            form.form_errors.append(str(e))
        else:
            flash(_l("%(name)s can now act for you until %(date)s.", name=mandate.grantee_name,
                     date=mandate.valid_until.isoformat()), "success")
            return redirect(url_for("representation.mandates"), code=303)
    return render_template("representation/new_mandate.html", form=form, lang=lang), (
        400 if request.method == "POST" else 200)


@bp.post("/mandates/<ref>/revoke")
@citizen
def revoke(ref: str):
    if forms.StopForm().validate_on_submit():
        services.revoke_mandate(db.session, services.mandate_of(db.session, ref), actor=_me())
        flash(_l("The mandate is revoked. It no longer allows anyone to act for you."), "success")
    return redirect(url_for("representation.mandates"), code=303)


@bp.post("/mandates/<ref>/renounce")
@citizen
def renounce(ref: str):
    if forms.StopForm().validate_on_submit():
        services.renounce_mandate(db.session, services.mandate_of(db.session, ref), actor=_me())
        context.forget()
        flash(_l("You gave up the mandate."), "success")
    return redirect(url_for("representation.mandates"), code=303)


def provenance_of(application):
    """For templates: who filled in and sent ``application`` for whom (``None``: the applicant alone)."""
    from portal.preferences.services import timezone_of

    return provenance.of(db.session, application, _lang(),
                         tzinfo=timezone_of(current_user) if current_user.is_authenticated else None)


@bp.app_context_processor
def _provenance():
    return {"provenance_of": provenance_of}


@bp.app_context_processor
def _acting_banner():
    """Every page says whom the person is acting for, when it is not themselves."""
    if not getattr(current_user, "is_authenticated", False):
        return {"acting": None, "centre_name": lambda code: code or ""}
    authority = context.current()
    lang = _lang()

    def centre_name(code: str | None) -> str:
        centre = centres.get(code)
        return centre.name_in(lang) if centre else (code or "")

    return {"acting": authority if authority is not None and authority.on_behalf else None,
            "centre_name": centre_name}
