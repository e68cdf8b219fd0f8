"""The whole journey through the test client: apply once, routed, decided, notified.

The registry simulator runs over real HTTP; SAML login has its own tests
(test_saml*.py) and the browser test walks the same journey through it.
"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from devstack.demo_people import by_idnp
from portal.applications.models import Application, Claim, StatusEvent
from portal.core.db import db
from portal.notifications.models import Notification
from portal.registries.client import HttpRegistryClient

pytest_plugins = ["registry_fixtures"]

ION = by_idnp("2005001000017")  # Ialoveni: ATAS Centru; newborn; household of four
ELENA = by_idnp("2005001000051")  # case worker, ATAS Centru
SERGIU = by_idnp("2005001000062")  # case worker, ATAS Nord-Est
OLGA = by_idnp("2005001000073")  # case worker, CNAS


@pytest.fixture
def registries(app, registry_server):
    """Point the portal at the simulator started for this test run."""
    settings = app.config["ESOCIAL"]
    app.extensions["esocial.registries"] = HttpRegistryClient(registry_server.base_url,
                                                              settings.registry_client_id, timeout=5)
    registry_server.reset()
    yield registry_server
    registry_server.reset()
    app.extensions.pop("esocial.registries", None)


def in_english(client) -> None:
    """The page texts these tests read are the English source; the ro/ru pages have their own tests."""
    with client.session_transaction() as s:
        s["lang"] = "en"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def person(make_account, p, **extra):
    return make_account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name, email=p.email or None,
                        phone=p.phone, language=p.language, **extra)


def post(client, url, data, **kw):
    page = client.get(url)
    token = csrf(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kw)


def answer_every_step(client, location: str) -> str:
    """Walk the form from ``location`` to the check page, confirming everything the registries said."""
    for _ in range(12):
        step = location.rsplit("/", 1)[-1]
        if step == "check":
            return location
        page = client.get(location)
        assert page.status_code == 200, (location, page.status_code)
        html = page.get_data(as_text=True)
        data = {"csrf_token": csrf(html)}
        for name in set(re.findall(r'name="(confirm_[a-z]+)"', html)):
            data[name] = "yes"
        if step == "children":
            data["child_idnp"] = re.search(r'name="child_idnp"[^>]*value="(\d{13})"', html).group(1)
        if step == "questions":
            data["remittances"] = "0"
            if 'name="heating_source"' in html:
                data["heating_source"] = "gas"
        if step == "contact":
            data.update(email="ion.rusu@example.md", phone="+37369100017", language="ro")
        response = client.post(location, data=data)
        assert response.status_code == 303, (step, response.get_data(as_text=True)[:3000])
        location = response.headers["Location"]
    raise AssertionError("the form never reached the check page")


def start(client, benefits):
    response = post(client, "/apply", {"benefits": benefits})
    assert response.status_code == 303
    return response.headers["Location"]


def test_apply_once_for_two_benefits_routes_to_two_agencies(app, client, make_account, login, registries, grant_role):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    location = start(client, ["social_aid", "birth_allowance"])
    assert location.endswith("/steps/about_you")

    # The registry data is shown with its source.
    page = client.get(location).get_data(as_text=True)
    assert "Rusu" in page and "Ialoveni" in page
    assert "State Population Register" in page or "Registrul de stat" in page

    check = answer_every_step(client, location)
    ref = check.split("/")[2]
    page = client.get(check)
    token = csrf(page.get_data(as_text=True))

    # A double click: two submits, one application.
    first = client.post(f"/applications/{ref}/submit", data={"csrf_token": token, "declaration": "y"})
    second = client.post(f"/applications/{ref}/submit", data={"csrf_token": token, "declaration": "y"})
    assert first.status_code == second.status_code == 303
    receipt = client.get(first.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "ES-" in receipt, re.findall(r'class="notice[^>]*>(.*?)</div>', receipt, re.S)
    number = re.search(r"ES-\d{4}-\d{7}", receipt).group(0)

    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        assert application.number == number and application.status == "submitted"
        assert {c.benefit_code: c.agency_code for c in application.claims} == {
            "social_aid": "ATAS-CENTRU", "birth_allowance": "CNAS"}
        assert db.session.scalar(select(func.count()).select_from(StatusEvent)
                                 .where(StatusEvent.application_id == application.id)) == 1
        sent = db.session.scalars(select(Notification.channel).where(Notification.account_id == ion.id)).all()
        assert sorted(sent) == ["email", "portal", "sms"]

    # Each registry query carried who asked and why.
    log = registries.log()
    assert log and all(entry.get("user_id") == ION.idnp for entry in log)


def test_case_worker_sees_only_their_agency_and_decides(app, client, make_account, login, registries, grant_role):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    ref = answer_every_step(client, start(client, ["social_aid"])).split("/")[2]
    post(client, f"/applications/{ref}/steps/check", {"declaration": "y"})
    client.post(f"/applications/{ref}/submit", data={"csrf_token": csrf(client.get(
        f"/applications/{ref}/steps/check").get_data(as_text=True)), "declaration": "y"})
    with app.app_context():
        claim_ref = db.session.scalar(select(Claim.ref).join(Application).where(Application.ref == ref))

    elena = person(make_account, ELENA)
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    sergiu = person(make_account, SERGIU)
    grant_role(SERGIU.idnp, "case_worker", "ATAS-NORD-EST")

    worker = app.test_client()
    other = app.test_client()
    login(worker, elena)
    in_english(worker)
    login(other, sergiu)
    assert claim_ref in worker.get("/backoffice/").get_data(as_text=True)
    assert claim_ref not in other.get("/backoffice/").get_data(as_text=True)
    assert other.get(f"/backoffice/cases/{claim_ref}").status_code == 404  # not even by guessing
    assert client.get("/backoffice/").status_code == 403  # a citizen is not staff

    # Ask for more information; the citizen answers; the worker approves.
    page = worker.get(f"/backoffice/cases/{claim_ref}").get_data(as_text=True)
    response = worker.post(f"/backoffice/cases/{claim_ref}/request-info",
                           data={"csrf_token": csrf(page), "question": "Trimiteți contractul de arendă."})
    assert response.status_code == 303
    status_page = client.get(f"/applications/{ref}").get_data(as_text=True)
    assert "Trimiteți contractul de arendă." in status_page

    # Deciding while the citizen has not answered is refused by the transition table.
    page = worker.get(f"/backoffice/cases/{claim_ref}").get_data(as_text=True)
    refused = worker.post(f"/backoffice/cases/{claim_ref}/decide",
                          data={"csrf_token": csrf(page), "decision": "approved", "reason": ""})
    assert refused.status_code == 303
    assert "cannot go from" in worker.get(refused.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Claim.status).where(Claim.ref == claim_ref)) == "info_requested"

    answered = client.post(f"/applications/{ref}/answer", data={"csrf_token": csrf(status_page),
                                                                "answer": "Nu am contract de arendă."})
    assert answered.status_code == 303

    page = worker.get(f"/backoffice/cases/{claim_ref}").get_data(as_text=True)
    assert "Nu am contract de arendă." in page
    rejected_without_reason = worker.post(f"/backoffice/cases/{claim_ref}/decide",
                                          data={"csrf_token": csrf(page), "decision": "rejected", "reason": ""})
    assert rejected_without_reason.status_code == 400
    approved = worker.post(f"/backoffice/cases/{claim_ref}/decide",
                           data={"csrf_token": csrf(page), "decision": "approved", "reason": "Venit sub VLMG.",
                                 "amount": "1450.00"})  # the amount and its letter: portal.decisions
    assert approved.status_code == 303

    final = client.get(f"/applications/{ref}").get_data(as_text=True)
    assert "Venit sub VLMG." in final
    with app.app_context():
        templates = db.session.scalars(select(Notification.template).where(
            Notification.account_id == ion.id, Notification.channel == "portal")).all()
        # status_changed: the citizen's answer reached the agency
        assert set(templates) == {"application_submitted", "info_requested", "status_changed", "decision_made"}


def test_draft_resumes_where_the_citizen_stopped(app, client, make_account, login, registries):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    location = start(client, ["cold_season_aid"])
    page = client.get(location).get_data(as_text=True)
    client.post(location, data={"csrf_token": csrf(page), "confirm_identity": "yes", "confirm_address": "no",
                                "note_address": "Locuiesc pe altă stradă."})
    # Another device: a new client, same person.
    other = app.test_client()
    login(other, ion)
    in_english(other)
    mine = other.get("/applications").get_data(as_text=True)
    resume = re.search(r'href="(/applications/[^/]+/steps/[a-z_]+)"', mine).group(1)
    assert resume.endswith("/steps/household")
    back = other.get(location).get_data(as_text=True)
    assert "Locuiesc pe altă stradă." in back


def test_registry_down_keeps_the_draft_and_refuses_to_submit_without_an_address(app, client, make_account, login,
                                                                              registries):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    registries.fault("rsp", "down")
    location = start(client, ["birth_allowance"])
    page = client.get(location).get_data(as_text=True)
    assert "did not answer" in page
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.applicant_id == ion.id))
        assert application.status == "draft"
        assert {e.item: e.status for e in application.evidence}["address"] == "pending"
    registries.fault("rsp", "ok")
    refreshed = client.post(f"/applications/{application.ref}/refresh",
                            data={"csrf_token": csrf(page), "next": location})
    assert refreshed.status_code == 303
    assert "Ialoveni" in client.get(location).get_data(as_text=True)


def test_another_citizen_cannot_open_my_application(app, client, make_account, login, registries):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    ref = start(client, ["social_aid"]).split("/")[2]
    stranger = make_account(first_name="Ana", last_name="Străin")
    other = app.test_client()
    login(other, stranger)
    in_english(other)
    assert other.get(f"/applications/{ref}").status_code == 404
    assert other.get(f"/applications/{ref}/steps/about_you").status_code == 404


ANDREI = by_idnp("2005001000040")  # lives in Italy; child born there, not in the Moldovan register


def test_upload_asked_only_where_no_registry_holds_the_birth(app, client, make_account, login, registries):
    andrei = person(make_account, ANDREI)
    login(client, andrei)
    in_english(client)
    location = start(client, ["birth_allowance"])
    for _ in range(6):
        if location.endswith("/steps/documents"):
            break
        page = client.get(location).get_data(as_text=True)
        data = {"csrf_token": csrf(page), **{n: "yes" for n in set(re.findall(r'name="(confirm_[a-z]+)"', page))}}
        location = client.post(location, data=data).headers["Location"]
    assert location.endswith("/steps/documents")
    page = client.get(location).get_data(as_text=True)
    token = csrf(page)

    # An HTML file named .pdf is refused by its content, and nothing is stored.
    fake = client.post(location, data={"csrf_token": token, "foreign_birth_certificate":
                                       (io.BytesIO(b"<html><script>alert(1)</script></html>"), "certificat.pdf")},
                       content_type="multipart/form-data")
    assert fake.status_code == 400 and "PDF, JPEG or PNG" in fake.get_data(as_text=True)
    real = client.post(location, data={"csrf_token": token, "foreign_birth_certificate":
                                       (io.BytesIO(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n"), "certificat.pdf")},
                       content_type="multipart/form-data")
    assert real.status_code == 303
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.applicant_id == andrei.id))
        assert [(d.kind, d.content_type) for d in application.documents] == [
            ("foreign_birth_certificate", "application/pdf")]


def test_a_registered_birth_needs_no_upload(app, client, make_account, login, registries):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    check = answer_every_step(client, start(client, ["birth_allowance"]))
    ref = check.split("/")[2]
    assert client.get(f"/applications/{ref}/steps/documents").status_code == 302
