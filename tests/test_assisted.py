"""CUPS assisted service through the test client, against the registry simulator over HTTP.

A specialist identifies a visitor by document (IDNP checked with the population register, signed consent)
or by the visitor's own MPass login, applies on their behalf, prints the receipt, and ends the visit;
the application says everywhere who sent it for whom; nothing of one visitor reaches the next.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from devstack.demo_people import by_idnp
from inclusion_helpers import registries  # noqa: F401 - a fixture
from inclusion_helpers import answer_every_step, csrf, in_english, person, post, start, submit, text
from portal.applications.models import Application
from portal.assisted.models import AssistedSession
from portal.audit.models import AuditEvent
from portal.core import clock
from portal.core.db import db
from portal.core.errors import NotAllowed
from portal.privacy.models import Consent
from portal.representation.models import OnBehalf

pytest_plugins = ["registry_fixtures"]

LILIA = by_idnp("2005001000604")  # CUPS specialist, Lozova
MARIA = by_idnp("2005001000039")  # pensioner, no e-mail
ION = by_idnp("2005001000017")
CENTRE = "CUPS-LOZOVA"


@pytest.fixture
def specialist(app, client, make_account, login, grant_role):
    account = person(make_account, LILIA)
    grant_role(LILIA.idnp, "cups_specialist", CENTRE)
    login(client, account)
    in_english(client)
    return account


def start_visit(client, idnp: str, *, number: str = "A01234567", language: str = "ro"):
    return post(client, "/cups/visits/document", {
        "doc-centre": CENTRE, "doc-idnp": idnp, "doc-document_type": "identity_card",
        "doc-document_number": number, "doc-language": language}, page="/cups/")


def consent(client, visit_url: str):
    page = client.get(visit_url).get_data(as_text=True)
    return client.post(visit_url + "/consent", data={"csrf_token": csrf(page), "signed": "y"})


def end_visit(client, visit_url: str):
    page = client.get(visit_url).get_data(as_text=True)
    return client.post(visit_url + "/end", data={"csrf_token": csrf(page)})


def test_a_visitor_identified_by_document_gets_an_application_sent_on_their_behalf(
        app, client, specialist, registries, make_account, login):
    desk = client.get("/cups/")
    assert desk.status_code == 200 and "The visitor shows an identity document" in text(desk)

    response = start_visit(client, MARIA.idnp)
    assert response.status_code == 303, text(response)[:1500]
    visit_url = response.headers["Location"]

    # The population register was asked, by the specialist, for the visitor, with the centre as institution.
    log = registries.log()
    assert any(e.get("user_id") == LILIA.idnp for e in log), log

    # Until the signed consent is confirmed, nothing can be done for the visitor.
    page = client.get(visit_url)
    assert "Print the consent form (PDF)" in text(page)
    assert client.get("/apply").status_code == 409
    form = client.get(visit_url + "/consent.pdf")
    assert form.status_code == 200 and form.mimetype == "application/pdf"
    assert form.data.startswith(b"%PDF") and b"/Lang (ro)" in form.data  # in the visitor's language
    assert consent(client, visit_url).status_code == 303

    # Every page now says whom the specialist acts for.
    apply_page = text(client.get("/apply"))
    assert "You are acting for Maria Lungu" in apply_page
    check = answer_every_step(client, start(client, ["cold_season_aid"]), phone="+37368100039")
    sent, ref = submit(client, check)
    assert sent.status_code == 303, text(sent)[:1000]
    receipt = text(client.get(f"/applications/{ref}/receipt"))
    assert ("Sent by Lilia Cojocaru, CUPS specialist at CUPS Lozova (Strășeni), on behalf of Maria Lungu"
            in receipt), receipt[:3000]
    code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", receipt).group(0)
    # On the centre's computer the application page is never kept by the browser (no validator, no 304).
    status = client.get(f"/applications/{ref}")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert "ETag" not in status.headers

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        assert application.applicant.idnp == MARIA.idnp and application.created_by.idnp == LILIA.idnp
        assert application.channel == "assisted" and application.language == "ro"
        row = db.session.scalar(select(OnBehalf).where(OnBehalf.application_id == application.id))
        assert (row.basis, row.centre_code, row.submitted_by.idnp, row.submitted_centre_code) == (
            "assisted", CENTRE, LILIA.idnp, CENTRE)
        given = db.session.scalar(select(Consent).where(Consent.ref == row.consent_ref))
        assert (given.subject_idnp, given.granted_to_idnp, given.granted_to_org, given.method) == (
            MARIA.idnp, LILIA.idnp, CENTRE, "signed_form")
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application_submitted_on_behalf"))
        assert (audit.actor_idnp, audit.subject_idnp, audit.details["centre"]) == (LILIA.idnp, MARIA.idnp, CENTRE)
        number = application.number

    # The printed receipt, in the visitor's language.
    pdf = client.get(f"/applications/{ref}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"/Lang (ro)" in pdf.data

    # The centre's list: the visitor's open application and what it waits for.
    listing = text(client.get("/cups/applications"))
    assert number in listing and "Maria Lungu" in listing and "The agency's decision" in listing
    assert number in text(client.get("/applications/list"))  # the live list is the visitor's too

    # The visit ends: nothing of the visitor can be opened from the desk any more.
    ended = end_visit(client, visit_url)
    assert ended.status_code == 303 and ended.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get(f"/applications/{ref}").status_code == 404
    assert client.get(f"/applications/{ref}/receipt.pdf").status_code == 404
    assert number not in text(client.get("/applications"))
    assert number not in text(client.get("/applications/list"))
    with app.app_context():
        assert db.session.scalar(select(Consent).where(Consent.ref == row.consent_ref)).expires_at is not None

    # Later, at home, the visitor sees it with who sent it for her.
    home = app.test_client()  # her account was made at the desk; MPass logins find it by IDNP
    with app.app_context():
        from portal.accounts.models import Account

        maria = db.session.scalar(select(Account).where(Account.idnp == MARIA.idnp))
        db.session.expunge(maria)
    login(home, maria)
    in_english(home)
    mine = text(home.get(f"/applications/{ref}"))
    assert "Sent by Lilia Cojocaru, CUPS specialist at CUPS Lozova (Strășeni), on behalf of Maria Lungu" in mine

    # The public lookup with the receipt's code shows the status and nothing personal.
    public = app.test_client()
    in_english(public)
    found = post(public, "/status", {"number": number, "code": code})
    assert found.status_code == 200
    shown = text(found)
    assert "Cold-season aid" in shown and "Submitted" in shown
    assert "Maria" not in shown and "Lungu" not in shown and MARIA.idnp not in shown


def test_the_next_visitor_never_sees_the_previous_one(app, client, specialist, registries):
    first = start_visit(client, MARIA.idnp).headers["Location"]
    consent(client, first)
    draft = start(client, ["cold_season_aid"])
    draft_ref = draft.split("/")[2]

    # A second visit cannot start while one is open.
    refused = start_visit(client, ION.idnp)
    assert refused.status_code == 400 and "Another visit is still open" in text(refused)

    end_visit(client, first)
    second = start_visit(client, ION.idnp, number="B99887766").headers["Location"]
    consent(client, second)
    listing = text(client.get("/applications"))
    assert "You are acting for Ion Rusu" in listing and "Maria" not in listing
    assert client.get(draft).status_code == 404
    assert client.get(f"/applications/{draft_ref}/steps/check").status_code == 404
    # Personal pages are never kept by the browser: the back button shows nothing of Maria.
    assert client.get("/applications").headers["Cache-Control"] == "no-store"


def test_a_specialist_never_serves_themselves(app, client, specialist, registries, login):
    refused = start_visit(client, LILIA.idnp)
    assert refused.status_code == 400 and "This is your own IDNP" in text(refused)

    # Her own draft, made before the visit, cannot be sent while she serves someone.
    with app.app_context():
        from portal.applications import services

        me = db.session.merge(specialist)
        own = services.start(db.session, actor=me, applicant=me, benefits=["cold_season_aid"], language="ro")
        db.session.commit()
        own_ref = own.ref
    visit = start_visit(client, MARIA.idnp).headers["Location"]
    consent(client, visit)
    assert client.get(f"/applications/{own_ref}/steps/check").status_code == 404  # not on the visitor's screen
    with app.test_request_context():
        from portal.applications import services

        own = db.session.scalar(select(Application).where(Application.ref == own_ref))
        with pytest.raises(NotAllowed):
            services.submit(db.session, own, actor=own.applicant)
        with pytest.raises(NotAllowed):  # and nothing new is started in her name either
            services.start(db.session, actor=own.applicant, applicant=own.applicant, benefits=["social_aid"],
                           language="ro")
        db.session.rollback()


def test_a_visitor_logs_in_with_mpass_on_the_centres_computer(app, client, specialist, idp):
    from saml_helpers import post_form

    page = post(client, "/cups/visits/mpass", {"mpass-centre": CENTRE, "mpass-language": "ru"}, page="/cups/")
    assert page.status_code == 200
    action, fields = post_form(page.get_data())
    assert idp.read_authn_request(fields).force_authn == "true"  # MPass asks the visitor, not the specialist
    answer, _ = idp.respond(fields, person=MARIA)
    back = client.post("/auth/acs", data={"SAMLResponse": answer})
    assert back.status_code == 303 and "/cups/visits/" in back.headers["Location"]

    visit = text(client.get(back.headers["Location"]))
    assert "Start an application for Maria Lungu" in visit and "MPass login of the visitor" in visit
    # The specialist is still logged in as herself; the visitor has no session of hers on this computer.
    assert "Lilia Cojocaru" in text(client.get("/cups/"))
    with app.app_context():
        from portal.accounts.models import Account, LoginSession

        maria = db.session.scalar(select(Account).where(Account.idnp == MARIA.idnp))
        assert db.session.scalar(select(LoginSession).where(LoginSession.account_id == maria.id)) is None
        given = db.session.scalar(select(Consent).where(Consent.subject_idnp == MARIA.idnp))
        assert given.method == "mpass" and given.language == "ru"


def test_the_specialist_logging_in_as_the_visitor_ends_the_visit(app, client, specialist, idp):
    from saml_helpers import post_form

    page = post(client, "/cups/visits/mpass", {"mpass-centre": CENTRE, "mpass-language": "ro"}, page="/cups/")
    _, fields = post_form(page.get_data())
    answer, _ = idp.respond(fields, person=LILIA)
    back = client.post("/auth/acs", data={"SAMLResponse": answer})
    assert "A specialist never serves themselves" in text(client.get(back.headers["Location"]))
    assert client.get("/apply").status_code == 200  # no visit open: she is herself again


def test_a_visit_ends_after_inactivity_and_with_the_login_session(app, client, specialist, registries):
    visit = start_visit(client, MARIA.idnp).headers["Location"]
    consent(client, visit)
    later = clock.now() + dt.timedelta(minutes=16)
    clock.set_clock(lambda: later)
    try:
        assert "You are acting for" not in text(client.get("/cups/"))
    finally:
        clock.set_clock(None)
    with app.app_context():
        row = db.session.scalar(select(AssistedSession))
        assert (row.status, row.end_reason) == ("ended", "idle")

    # A visit whose specialist logged out is ended by the sweep.
    visit = start_visit(client, ION.idnp, number="C12345678").headers["Location"]
    with app.app_context():
        from portal.accounts.models import LoginSession
        from portal.assisted import services

        for login_row in db.session.scalars(select(LoginSession)):
            login_row.ended_at = clock.now()
        db.session.commit()
        assert services.sweep(db.session) == 1
        db.session.commit()
        assert db.session.scalar(select(AssistedSession).where(AssistedSession.status != "ended")) is None


def test_only_specialists_reach_the_desk(client, make_account, login):
    login(client, make_account())
    assert client.get("/cups/").status_code == 403
    assert client.get("/cups/applications").status_code == 403


def test_the_public_lookup_shows_nothing_without_the_right_code_and_is_rate_limited(app, monkeypatch):
    import dataclasses

    from portal.core import limits

    public = app.test_client()
    in_english(public)
    assert public.get("/status").status_code == 200
    wrong = post(public, "/status", {"number": "ES-2026-0000001", "code": "AAAA-BBBB"}, page="/status")
    assert wrong.status_code == 404 and "We found no application with this number and code" in text(wrong)
    malformed = post(public, "/status", {"number": "anything", "code": "x"}, page="/status")
    assert malformed.status_code == 404  # the same answer: the lookup never says which numbers exist

    monkeypatch.setitem(app.config, "ESOCIAL", dataclasses.replace(
        app.config["ESOCIAL"], ratelimit_enabled=True, ratelimit_status_lookup="3 per minute"))
    limits.limiter.reset()
    try:
        token = csrf(public.get("/status").get_data(as_text=True))
        codes = [public.post("/status", data={"csrf_token": token, "number": "ES-2026-0000001",
                                              "code": f"AAAA-BBB{n}"}).status_code for n in range(5)]
        assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429], codes
    finally:
        limits.limiter.reset()


def test_the_case_worker_sees_who_sent_it_and_the_visitor_finishes_a_draft_at_home(
        app, client, specialist, registries, make_account, login, grant_role):
    from portal.accounts.models import Account
    from portal.backoffice.models import AgencyCase

    visit = start_visit(client, MARIA.idnp).headers["Location"]
    consent(client, visit)
    sent, ref = submit(client, answer_every_step(client, start(client, ["cold_season_aid"]), phone="+37368100039"))
    assert sent.status_code == 303
    draft_ref = start(client, ["disability_allowance"]).split("/")[2]
    end_visit(client, visit)

    # The agency's case worker reads the same sentence on the case.
    with app.app_context():
        case = db.session.scalar(select(AgencyCase).join(Application, Application.id == AgencyCase.application_id)
                                 .where(Application.ref == ref))
        agency, case_ref = case.agency_code, case.ref
    worker = app.test_client()
    worker_account = make_account()
    grant_role(worker_account.idnp, "case_worker", agency)
    login(worker, worker_account)
    in_english(worker)
    page = text(worker.get(f"/backoffice/cases/{case_ref}"))
    assert "Sent by Lilia Cojocaru, CUPS specialist at CUPS Lozova (Strășeni), on behalf of Maria Lungu" in page

    # At home, Maria finds the draft begun at the centre, finishes and sends it herself.
    home = app.test_client()
    with app.app_context():
        maria = db.session.scalar(select(Account).where(Account.idnp == MARIA.idnp))
        db.session.expunge(maria)
    login(home, maria)
    in_english(home)
    mine = text(home.get("/applications"))
    assert "Continue the draft" in mine
    sent, _ = submit(home, answer_every_step(home, f"/applications/{draft_ref}/steps/about_you", phone="+37368100039"))
    assert sent.status_code == 303
    shown = text(home.get(f"/applications/{draft_ref}"))
    assert "Filled in by Lilia Cojocaru, CUPS specialist at CUPS Lozova (Strășeni), on behalf of Maria Lungu" in shown
    assert "Sent by Maria Lungu" in shown
