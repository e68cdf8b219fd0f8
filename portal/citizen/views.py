"""Citizen pages: the catalogue, applying once, and following an application.

Views read input through forms, call one service or query, then render or
redirect; the request commits once (portal.core.web).
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from portal.applications import prefill, queries, services
from portal.applications import steps as steps_mod
from portal.citizen import fastpage, forms, pagecache, viewmodels
from portal.core import clock, vault
from portal.core.db import db
from portal.core.errors import DomainError
from portal.core.security import citizen, public
from portal import live
from portal.representation import context as acting
from portal.routing.reference import territory

bp = Blueprint("citizen", __name__)


def _lang() -> str:
    return str(get_locale() or "ro")


@bp.get("/")
@public
def home():
    return render_template("citizen/home.html", catalogue=services.catalogue())


@bp.get("/benefits")
@public
def catalogue():
    return render_template("citizen/catalogue.html", catalogue=services.catalogue(),
                           territory=territory(), lang=_lang())


@bp.get("/benefits/<code>")
@public
def benefit(code: str):
    cat = services.catalogue()
    if code not in cat.benefits:
        abort(404)
    return render_template("citizen/benefit.html", benefit=cat.get(code), catalogue=cat,
                           territory=territory(), lang=_lang())


@bp.get("/applications")
@citizen
def my_applications():
    applications = queries.applications_of(db.session, acting.subject())  # yours, or theirs when acting for them
    return render_template("citizen/my_applications.html", applications=applications,
                           catalogue=services.catalogue(), lang=_lang())


@bp.route("/apply", methods=["GET", "POST"])
@citizen
def apply():
    """Step one of a new application: choose one or several benefits."""
    cat = services.catalogue()
    form = forms.BenefitsForm()
    subject, allowed = acting.subject(), acting.current().services  # a mandate covers chosen services only
    form.benefits.choices = [(b.code, b.title_in(_lang())) for b in cat if allowed is None or b.code in allowed]
    if request.method == "GET" and request.args.get("benefit") in cat.benefits:
        form.benefits.data = [request.args["benefit"]]
    if request.method == "GET":  # who they are and who lives with them, asked while they choose
        prefill.prepare(current_user, subject, [code for code, _ in form.benefits.choices])
    if form.validate_on_submit():
        application = services.start(db.session, actor=current_user, applicant=subject,
                                     benefits=form.benefits.data, language=_lang(), channel=acting.current().channel)
        prefill.refresh(db.session, application, actor=current_user)
        return _continue(application, "benefits")
    return render_template("citizen/steps/benefits.html", form=form, application=None, catalogue=cat,
                           lang=_lang(), step="benefits", steps=["benefits"])


def _continue(application, step: str):
    steps = _steps(application)
    target = steps_mod.next_step(steps, step)
    services.go_to(application, target)
    return redirect(url_for("citizen.step", ref=application.ref, step=target), code=303)


def _steps(application) -> list[str]:
    return steps_mod.steps_for(services.catalogue(), application.benefits,
                               services.evidence_by_item(application), clock.today())


@bp.route("/applications/<ref>/steps/<step>", methods=["GET", "POST"])
@citizen
def step(ref: str, step: str):
    """Every page of the application form; each POST saves the draft on the server."""
    application = queries.application_for_citizen(db.session, ref, current_user)
    if application.status != "draft":
        return redirect(url_for("citizen.application", ref=ref))
    steps = _steps(application)
    if step not in steps:
        return redirect(url_for("citizen.step", ref=ref, step=application.current_step
                                if application.current_step in steps else steps[0]))
    cat = services.catalogue()
    lang = _lang()
    vm = viewmodels.StepPage(application, step, steps, cat, lang)
    form = vm.build_form()
    if request.method == "GET":
        services.go_to(application, step)
        vm.fill_form(form)
    elif form.validate_on_submit():
        try:
            vm.save(db.session, form, actor=current_user,
                    upload_dir=current_app.config["ESOCIAL"].resolve(current_app.config["ESOCIAL"].upload_dir),
                    max_bytes=current_app.config["ESOCIAL"].max_upload_bytes)
        except DomainError as e:
            form.form_errors.append(str(e))
        else:
            if step == "benefits":
                prefill.refresh(db.session, application, actor=current_user, only_missing=True)
            return _continue(application, step)
    return render_template(f"citizen/steps/{vm.template}.html", form=form, vm=vm, application=application,
                           catalogue=cat, lang=lang, step=step, steps=steps), 200 if request.method == "GET" else 400


@bp.post("/applications/<ref>/refresh")
@citizen
def refresh(ref: str):
    """Ask the registries again for what they could not give before."""
    application = queries.application_for_citizen(db.session, ref, current_user)
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    if application.status == "draft":
        prefill.refresh(db.session, application, actor=current_user, only_missing=True)
    return redirect(request.form.get("next") or url_for("citizen.step", ref=ref, step=application.current_step),
                    code=303)


@bp.post("/applications/<ref>/submit")
@citizen
def submit(ref: str):
    application = queries.application_for_citizen(db.session, ref, current_user)
    if application.status != "draft":
        return redirect(url_for("citizen.receipt", ref=ref), code=303)
    form = forms.CheckForm()
    if not form.validate_on_submit():
        vm = viewmodels.StepPage(application, "check", _steps(application), services.catalogue(), _lang())
        return render_template("citizen/steps/check.html", form=form, vm=vm, application=application,
                               catalogue=services.catalogue(), lang=_lang(), step="check",
                               steps=_steps(application)), 400
    try:
        services.submit(db.session, application, actor=current_user)
    except DomainError as e:
        flash(str(e), "error")
        return redirect(url_for("citizen.step", ref=ref, step="check"), code=303)
    return redirect(url_for("citizen.receipt", ref=ref), code=303)


@bp.get("/applications/<ref>/receipt")
@citizen
def receipt(ref: str):
    application = queries.application_for_citizen(db.session, ref, current_user)
    if application.status == "draft":
        return redirect(url_for("citizen.step", ref=ref, step=application.current_step))
    return render_template("citizen/receipt.html", application=application, catalogue=services.catalogue(),
                           territory=territory(), lang=_lang())


def _revalidated() -> bool:
    """Whether this page may be kept by the browser to be revalidated: not during a CUPS visit, whose
    computer is shared by definition (there personal pages stay ``no-store``)."""
    authority = acting.current()
    return authority is None or authority.basis != "assisted"


def _conditional(response, etag: str):
    """The page's validator; the browser may keep it privately and must ask again each time (logging out
    and the end of a session clear what it kept: ``Clear-Site-Data``)."""
    if not _revalidated():
        return response
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def _not_modified(etag: str):
    return _conditional(current_app.response_class(status=304), etag)


def _kept(key: tuple, template: str, application, lang: str) -> Markup:
    """The application part rendered from ``key``: kept per process, rendered on a miss."""
    html = pagecache.cache.get(key)
    if html is None:
        html = render_template(template, application=application, answer_form=forms.AnswerForm(),
                               vm=viewmodels.StatusView(application, services.catalogue(), territory(), lang))
        pagecache.cache.put(key, html)
    return Markup(html)


@bp.get("/applications/<ref>")
@citizen
def application(ref: str):
    """The application's status page. ``ETag`` + 304 for a browser that holds this very page; the
    application part is rendered once per version, language and viewer (:mod:`portal.citizen.pagecache`)."""
    application = queries.application_for_citizen(db.session, ref, current_user)
    if application.status == "draft":
        return redirect(url_for("citizen.step", ref=ref, step=application.current_step))
    lang = _lang()
    key = pagecache.content_key("page", application, services.catalogue(), territory())
    if pagecache.has_flashes():  # shown once: never kept, never answered with 304
        return render_template("citizen/application.html", number=application.number,
                               content=_kept(key, "citizen/_application.html", application, lang))
    etag = pagecache.page_etag(application)
    if etag in request.if_none_match and _revalidated():
        return _not_modified(etag)
    page = render_template("citizen/application.html", number=application.number,
                           content=_kept(key, "citizen/_application.html", application, lang))
    response = _conditional(current_app.make_response(page), etag)
    if _revalidated() and not pagecache.has_flashes():
        # The whole page, for the same validator answered before Flask (portal.citizen.fastpage).
        fastpage.pages.put(etag, response.get_data())
    return response


@bp.get("/applications/<ref>/status")
@citizen
def status_fragment(ref: str):
    """The status part of the application page, for live updates (and a plain page without JavaScript)."""
    application = queries.application_for_citizen(db.session, ref, current_user)
    key = pagecache.content_key("fragment", application, services.catalogue(), territory())
    etag = pagecache.etag_for(key)
    if etag in request.if_none_match and _revalidated():
        return _not_modified(etag)
    return _conditional(current_app.make_response(_kept(key, "citizen/_status.html", application, _lang())), etag)


def _last_seen() -> str | None:
    """What the page (``?since=``) or the reconnecting browser (``Last-Event-ID``) last showed."""
    return request.headers.get("Last-Event-ID") or request.args.get("since") or None


@bp.get("/applications/<ref>/stream")
@citizen
def stream(ref: str):
    """Server-Sent Events: one event each time the application changes (see :mod:`portal.live`).

    The stream holds no database connection while it waits; the process's one
    watcher wakes it.  It ends after a few minutes and the browser reconnects.
    """
    application = queries.application_for_citizen(db.session, ref, current_user)
    key, current = (live.APP, application.id), str(application.version or 0)
    db.session.remove()
    return live.event_stream(key, since=_last_seen(), current=current)


@bp.get("/applications/stream")
@citizen
def applications_stream():
    """Server-Sent Events for "My applications": an event when any of them changes or a new one appears."""
    owner = acting.subject()  # whose list the page shows (a visitor's, a child's when acting for them)
    key, current = (live.ACCOUNT, owner.id), live.fingerprint_of_list(queries.applications_of(db.session, owner))
    db.session.remove()
    return live.event_stream(key, since=_last_seen(), current=current)


@bp.get("/applications/list")
@citizen
def applications_fragment():
    """The list part of "My applications", for live updates (and a plain page without JavaScript)."""
    applications = queries.applications_of(db.session, acting.subject())  # the same person as the page
    return render_template("citizen/_my_applications.html", applications=applications,
                           catalogue=services.catalogue(), lang=_lang())


@bp.post("/applications/<ref>/answer")
@citizen
def answer(ref: str):
    application = queries.application_for_citizen(db.session, ref, current_user)
    form = forms.AnswerForm()
    if form.validate_on_submit():
        try:
            services.answer_information(db.session, application, actor=current_user, answer=form.answer.data)
        except DomainError as e:
            flash(str(e), "error")
        else:
            flash(_l("Thank you. Your answer was sent to the agency."), "success")
        return redirect(url_for("citizen.application", ref=ref), code=303)
    content = render_template("citizen/_application.html", application=application, answer_form=form,
                              vm=viewmodels.StatusView(application, services.catalogue(), territory(), _lang()))
    return render_template("citizen/application.html", number=application.number, content=Markup(content)), 400


@bp.get("/applications/<ref>/documents/<doc_ref>")
@citizen
def document(ref: str, doc_ref: str):
    application = queries.application_for_citizen(db.session, ref, current_user)
    doc = queries.document_of(application, doc_ref)
    services.record_own_document_download(db.session, application, doc, actor=current_user)
    return vault.serve(doc)  # decrypted in memory; stored encrypted outside the web root
