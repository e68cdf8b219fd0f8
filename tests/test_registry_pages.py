"""The citizen's "My data" and "Who used my data", rectification requests and the registry owner's queue,
with the data-access log behind them: every query and every staff reading, and nobody sees another's log."""
from __future__ import annotations

import re

import pytest

from sqlalchemy import func, select

from devstack.demo_people import by_idnp
from portal.core.db import db
from portal.registries.models import DataAccess, RectificationRequest, RegistryNotice
from registry_helpers import apply, csrf, in_english, person, post

pytest_plugins = ["registry_fixtures"]

ION = by_idnp("2005001000017")  # Ialoveni; spouse and two children
NATALIA = by_idnp("2005001000028")
ELENA = by_idnp("2005001000051")  # case worker, ATAS Centru


def accesses(app, **where) -> list[DataAccess]:
    with app.app_context():
        q = select(DataAccess).order_by(DataAccess.id)
        for key, value in where.items():
            q = q.where(getattr(DataAccess, key) == value)
        rows = list(db.session.scalars(q))
        db.session.expunge_all()
        return rows


def household_of(population, idnp):
    return [m.idnp for m, _ in population.members(idnp)]


def test_my_data_shows_every_registry_live_and_logs_it_as_data_subject_access(app, client, make_account, login,
                                                                             portal_registries, population):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    page = client.get("/my-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("State Population Register", "National Social Insurance House", "State Tax Service",
                 "Civil Status Register", "Real Estate Cadastre"):
        assert name in html
    assert "Ialoveni" in html and "Recorded by the registry on" in html
    assert html.count("Report as wrong") >= 10
    # Marriages: no benefit asks for them yet, the civil status register holds them, so they are shown.
    plain = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Registered marriages" in plain and "Ecaterina Rusu married on March 25, 2015, record AC-2015-" in plain

    log = accesses(app, purpose="data_subject_access")
    assert log and {e.result for e in log} == {"ok"}
    assert {e.subject_idnp for e in log} == set(household_of(population, ION.idnp))  # the household too
    assert all(e.actor_idnp == ION.idnp and e.actor_role == "citizen" and e.institution == "ESOCIAL"
               and "133/2011" in e.legal_basis for e in log)
    asked = len(portal_registries.queries())
    assert asked == len(log)

    # A reload within minutes reuses the answers of the same purpose: logged, not asked again.
    client.get("/my-data")
    assert len(portal_registries.queries()) == asked
    assert {e.result for e in accesses(app, purpose="data_subject_access")[len(log):]} == {"cached"}


def test_my_data_with_a_registry_down_says_so(app, client, make_account, login, portal_registries):
    login(client, person(make_account, NATALIA))
    in_english(client)
    portal_registries.fault("cnas", "down")
    html = client.get("/my-data").get_data(as_text=True)
    assert "did not answer just now" in html and "Soroca" in html


def test_who_used_my_data_lists_applications_and_officials_and_only_my_own(app, client, make_account, login,
                                                                          portal_registries, grant_role,
                                                                          population):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    ref = apply(client, ["social_aid"])

    elena = person(make_account, ELENA)
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, elena)
    queue = worker.get("/backoffice/").get_data(as_text=True)
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', queue).group(1)
    assert worker.get(case_url).status_code == 200

    readings = accesses(app, kind="reading")
    spouse = next(m for m, rel in population.members(ION.idnp) if rel == "spouse")
    assert {e.subject_idnp for e in readings} >= {ION.idnp, spouse.idnp}  # everyone whose data the page shows
    assert all(e.actor_idnp == ELENA.idnp and e.institution == "ATAS-CENTRU" and e.actor_role == "official"
               and e.result == "read" and e.application_ref == ref for e in readings)

    page = client.get("/my-data/access").get_data(as_text=True)
    assert "Elena Vasilache, official" in page and "Centru" in page
    assert "your application" in page and "eSocial" in page and "at your request" not in page
    assert "State Tax Service" in page or "Declared income" in page

    # The spouse sees that Ion's application asked about them, and that the official read their data.
    spouse_account = make_account(idnp=spouse.idnp, first_name=spouse.first_name, last_name=spouse.last_name)
    other = app.test_client()
    login(other, spouse_account)
    in_english(other)
    theirs = other.get("/my-data/access").get_data(as_text=True)
    assert "Ion Rusu" in theirs and "Elena Vasilache, official" in theirs
    # A stranger sees nothing of it.
    stranger = app.test_client()
    login(stranger, make_account(first_name="Ana", last_name="Străin"))
    in_english(stranger)
    nothing = stranger.get("/my-data/access").get_data(as_text=True)
    assert "Nobody has used your data" in nothing and "Elena" not in nothing and "Rusu" not in nothing


def test_a_rolled_back_request_still_leaves_its_trace(app, client, make_account, login, portal_registries):
    login(client, person(make_account, NATALIA))
    client.get("/my-data")
    before = len(accesses(app))
    page = client.get("/my-data").get_data(as_text=True)
    # An empty report: the form is refused (400), the request's transaction rolled back.
    refused = client.post("/my-data/address/report", data={"address-csrf_token": csrf(page), "address-note": ""})
    assert refused.status_code == 400
    after = accesses(app)
    assert len(after) > before + 1  # the page's reload and the refused request's queries are both logged
    with app.app_context():
        assert db.session.scalar(select(func.count(RectificationRequest.id))) == 0


def test_report_as_wrong_goes_to_the_registry_owner_and_the_open_application_notes_it(
        app, client, make_account, login, portal_registries, grant_role):
    ion = person(make_account, ION)
    login(client, ion)
    in_english(client)
    ref = apply(client, ["social_aid"])
    page = client.get("/my-data").get_data(as_text=True)
    sent = client.post("/my-data/address/report", data={"address-csrf_token": csrf(page),
                                                        "address-note": "We moved to Costești in May."})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/my-data/reports")
    mine = client.get("/my-data/reports").get_data(as_text=True)
    assert "We moved to Costești in May." in mine and "Sent to the registry" in mine

    with app.app_context():
        request = db.session.scalar(select(RectificationRequest))
        assert (request.registry_code, request.item, request.subject_idnp) == ("rsp", "address", ION.idnp)
        assert request.shown["raion_code"] == "ialoveni" and request.application.ref == ref
        notice = db.session.scalar(select(RegistryNotice).where(RegistryNotice.kind == "data_reported"))
        assert notice.application.ref == ref and notice.params["note"] == "We moved to Costești in May."
        events = [e for e in request.application.events if e.to_status == "data_reported"]
        assert len(events) == 1 and "We moved to Costești in May." in events[0].note
        request_ref = request.ref

    # The population register's officer sees it; the CNAS one does not.
    officer = make_account(first_name="Vera", last_name="Registru")
    grant_role(officer.idnp, "registry_officer", "rsp")
    desk = app.test_client()
    login(desk, officer)
    in_english(desk)
    queue = desk.get("/backoffice/rectifications").get_data(as_text=True)
    assert "We moved to Costești in May." in queue and ION.idnp in queue
    other = make_account(first_name="Dan", last_name="Asigurari")
    grant_role(other.idnp, "registry_officer", "cnas")
    elsewhere = app.test_client()
    login(elsewhere, other)
    assert "Costești" not in elsewhere.get("/backoffice/rectifications").get_data(as_text=True)
    refused = post(elsewhere, f"/backoffice/rectifications/{request_ref}",
                   {f"{request_ref}-status": "corrected", f"{request_ref}-answer": "x"},
                   page_url="/backoffice/rectifications")
    assert refused.status_code == 404
    assert client.get("/backoffice/rectifications").status_code == 403  # a citizen is not a registry officer

    queue_page = desk.get("/backoffice/rectifications").get_data(as_text=True)
    answered = desk.post(f"/backoffice/rectifications/{request_ref}", data={
        f"{request_ref}-csrf_token": csrf(queue_page), f"{request_ref}-status": "corrected",
        f"{request_ref}-answer": "The address is corrected: Costești, Ialoveni."})
    assert answered.status_code == 303
    assert "The address is corrected" in client.get("/my-data/reports").get_data(as_text=True)
    assert "We moved to Costești" not in desk.get("/backoffice/rectifications").get_data(as_text=True)


def test_pages_need_the_right_person(app, client, make_account, login, portal_registries):
    assert client.get("/my-data").status_code == 302  # login first
    login(client, make_account())
    assert client.get("/offers/not-mine").status_code == 404
    assert client.post("/my-data/nonsense/report", data={}).status_code in (400, 404)


@pytest.mark.parametrize("lang", ["ro", "ru", "en"])
def test_who_used_my_data_reads_in_the_citizens_language(app, client, make_account, login, portal_registries,
                                                         grant_role, lang):
    from flask_babel import force_locale, gettext

    def tr(msgid, **kw):
        with app.test_request_context(), force_locale(lang):
            return gettext(msgid, **kw)

    login(client, person(make_account, ION))
    in_english(client)
    apply(client, ["social_aid"])
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, person(make_account, ELENA))
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', worker.get("/backoffice/").get_data(as_text=True)).group(1)
    assert worker.get(case_url).status_code == 200

    with client.session_transaction() as s:
        s["lang"] = lang
    plain = " ".join(re.sub(r"<[^>]+>", " ", client.get("/my-data/access").get_data(as_text=True)).split())
    registry = {"ro": "Serviciul Fiscal de Stat", "ru": "Государственная налоговая служба", "en": "State Tax Service"}
    for expected in (tr("Who used my data"), tr("%(name)s, official", name="Elena Vasilache"),
                     tr("your application"), registry[lang]):
        assert expected in plain, (lang, expected)
    if lang != "en":
        assert "Who used my data" not in plain and "your application" not in plain


def test_the_household_is_asked_while_the_citizen_chooses_and_the_prefill_only_asks_the_rest(
        app, client, make_account, login, portal_registries, population):
    """Opening the benefit choice asks the population register who the citizen is and who lives with them, in the
    background, for an application; after the choice the prefill uses those answers (logged again for the
    application, as reused) and asks only the other registries."""
    ion = person(make_account, ION)
    login(client, ion)
    page = client.get("/apply")
    assert page.status_code == 200
    from portal.applications import prefill

    with app.app_context():
        (_, asked_for, future) = app.extensions[prefill._PREPARED][(ion.idnp, ion.idnp)]
    future.result(timeout=10)
    assert (asked_for.purpose, asked_for.actor_role, asked_for.application_ref) == ("application", "citizen", None)
    ahead = [e for e in portal_registries.queries() if e["registry"] == "rsp"]
    assert sorted(e["service"] for e in ahead) == ["household", "identity"]

    response = client.post("/apply", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                           "benefits": ["social_aid"]})
    assert response.status_code == 303
    ref = response.headers["Location"].split("/")[2]
    rsp = [(e["service"], e["subject"]) for e in portal_registries.queries() if e["registry"] == "rsp"]
    assert sorted(rsp).count(("household", ION.idnp)) == 1 and sorted(rsp).count(("identity", ION.idnp)) == 1
    members = household_of(population, ION.idnp)
    assert {e["subject"] for e in portal_registries.queries() if e["registry"] == "sfs"} == set(members)
    with app.app_context():
        from portal.applications.models import Application

        evidence = {e.item: e for e in db.session.scalar(select(Application).where(Application.ref == ref)).evidence}
        assert evidence["household"].status == "fetched"
        assert {m["idnp"] for m in evidence["household"].payload["members"]} == set(members)
    # Every query is in the log: asked ahead (no application yet), then used for the application.
    ahead_rows = [a for a in accesses(app, registry_code="rsp", subject_idnp=ION.idnp)
                  if a.service in ("identity", "household")]
    assert sorted((a.service, a.result, a.application_ref) for a in ahead_rows) == [
        ("household", "cached", ref), ("household", "ok", None), ("identity", "cached", ref), ("identity", "ok", None)]
    assert all(a.purpose == "application" and a.actor_idnp == ION.idnp and a.legal_basis for a in ahead_rows)
    # Used once: a second application asks the population register again.
    assert app.extensions[prefill._PREPARED] == {}
