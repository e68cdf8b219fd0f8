"""Eligibility on the pages: the citizen's check page (results and offers), the application page (the kept
pre-assessment and asking for a human review), and the case worker's case page (the same result, flags).

The registry simulator runs over real HTTP, as in test_journey.py; the demo household of Ion Rusu
(Ialoveni: two adults, two children, a newborn, low income) is the subject.
"""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from devstack.demo_people import by_idnp
from portal.applications.models import Application, Claim
from portal.assessment.models import ClaimAssessment, RiskFlag
from portal.audit.models import AuditEvent
from portal.core.db import db
from portal.registries.client import HttpRegistryClient

pytest_plugins = ["registry_fixtures"]

ION = by_idnp("2005001000017")
ELENA = by_idnp("2005001000051")  # case worker, ATAS Centru (Ialoveni)


@pytest.fixture
def registries(app, registry_server):
    settings = app.config["ESOCIAL"]
    app.extensions["esocial.registries"] = HttpRegistryClient(registry_server.base_url,
                                                              settings.registry_client_id, timeout=5)
    registry_server.reset()
    yield registry_server
    registry_server.reset()
    app.extensions.pop("esocial.registries", None)


def text(page: str) -> str:
    """The page's visible text in one line (tags dropped, entities decoded), for reading sentences."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def language(client, lang: str) -> None:
    with client.session_transaction() as s:
        s["lang"] = lang


def person(make_account, p):
    return make_account(idnp=p.idnp, first_name=p.first_name, last_name=p.last_name, email=p.email or None,
                        phone=p.phone, language=p.language)


def walk_to_check(client, location: str, answers: dict | None = None) -> str:
    """Answer every page from ``location`` up to the check page, confirming the registries' data."""
    answers = {"remittances": "0", "heating_source": "gas", "bank_interest": "0", "childcare_option": "until_3",
               **(answers or {})}
    for _ in range(14):
        step = location.rsplit("/", 1)[-1]
        if step == "check":
            return location
        page = client.get(location).get_data(as_text=True)
        data = {"csrf_token": csrf(page)}
        for name in set(re.findall(r'name="(confirm_[a-z]+)"', page)):
            data[name] = "yes"
        if step == "children":
            data["child_idnp"] = re.search(r'name="child_idnp"[^>]*value="(\d{13})"', page).group(1)
        if step == "questions":
            data.update({k: v for k, v in answers.items() if f'name="{k}"' in page})
        if step == "contact":
            data.update(email="ion.rusu@example.md", phone="+37369100017", language="ro")
        response = client.post(location, data=data)
        assert response.status_code == 303, (step, text(response.get_data(as_text=True))[:2000])
        location = response.headers["Location"]
    raise AssertionError("never reached the check page")


def start(client, benefits) -> str:
    page = client.get("/apply").get_data(as_text=True)
    response = client.post("/apply", data={"csrf_token": csrf(page), "benefits": benefits})
    assert response.status_code == 303
    return response.headers["Location"]


def submit(client, ref: str) -> None:
    page = client.get(f"/applications/{ref}/steps/check").get_data(as_text=True)
    response = client.post(f"/applications/{ref}/submit", data={"csrf_token": csrf(page), "declaration": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/receipt")


def test_check_page_explains_each_benefit_with_figures_and_sources(app, client, make_account, login, registries):
    login(client, person(make_account, ION))
    language(client, "en")
    check = walk_to_check(client, start(client, ["social_aid"]))
    page = text(client.get(check).get_data(as_text=True))

    assert "Do you qualify?" in page
    assert "Likely eligible" in page
    # The income condition names its figures and where they come from.
    assert "is below the guaranteed minimum for the household" in page
    assert "State Tax Service" in page and "the applicant's answer" in page
    # The calculation and the parameters in force, with their legal basis; EXAMPLE figures are labelled.
    assert "Guaranteed minimum for the household" in page
    assert "Guaranteed minimum monthly income (VLMG)" in page
    assert "example figure, not confirmed in law" in page
    assert re.search(r"Social aid: [\d,.]+ lei − [\d,.]+ lei = [\d,.]+ lei a month", page)


def test_check_page_offers_other_benefits_and_adds_them_to_the_same_draft(app, client, make_account, login,
                                                                            registries):
    login(client, person(make_account, ION))
    language(client, "en")
    check = walk_to_check(client, start(client, ["social_aid", "birth_allowance"]))
    ref = check.split("/")[2]
    page = client.get(check).get_data(as_text=True)
    assert "You may also qualify for" in page
    offered = set(re.findall(r'name="benefits" value="([a-z_]+)"', page))
    assert "energy_compensation" in offered  # a low income, four people: from the data already fetched
    assert "childcare_allowance" not in offered  # the insurance register says the spouse already receives it
    assert not offered & {"social_aid", "birth_allowance"}  # never what is already asked for

    added = client.post(f"/applications/{ref}/offers", data={"csrf_token": csrf(page),
                                                              "benefits": ["energy_compensation"]})
    assert added.status_code == 303
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        assert application.benefits == ["social_aid", "birth_allowance", "energy_compensation"]
        assert application.status == "draft"
    # The new questions are asked (heating, bank interest); then the check page shows the new benefit's result.
    assert added.headers["Location"].endswith("/steps/questions")
    check = walk_to_check(client, added.headers["Location"])
    page = text(client.get(check).get_data(as_text=True))
    assert "Energy vulnerability compensation" in page and "Estimated energy cost for 4 people" in page

    # A benefit that was not offered cannot be slipped in through the offers form.
    refused = client.post(f"/applications/{ref}/offers", data={"csrf_token": csrf(client.get(check).get_data(
        as_text=True)), "benefits": ["childcare_allowance"]})
    assert refused.status_code == 303
    with app.app_context():
        assert "childcare_allowance" not in db.session.scalar(
            select(Application.benefits).where(Application.ref == ref))


def test_case_worker_sees_what_the_citizen_saw_and_the_review_request(app, client, make_account, login, registries,
                                                                      grant_role):
    login(client, person(make_account, ION))
    language(client, "en")
    check = walk_to_check(client, start(client, ["social_aid"]))
    ref = check.split("/")[2]
    seen = text(client.get(check).get_data(as_text=True))
    amount = re.search(r"Likely eligible ([\d,.]+ lei a month)", seen).group(1)
    submit(client, ref)

    with app.app_context():
        claim = db.session.scalar(select(Claim).join(Application).where(Application.ref == ref))
        kept = db.session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))
        assert kept.submitted_result["status"] == "eligible"
        claim_ref = claim.ref

    # The citizen's application page shows the kept pre-assessment and lets them ask for a person's review.
    status_page = client.get(f"/applications/{ref}").get_data(as_text=True)
    assert "Automatic pre-assessment" in text(status_page) and amount in text(status_page)
    asked = client.post(f"/applications/{ref}/claims/{claim_ref}/review",
                        data={"csrf_token": csrf(status_page), "note": "Venitul soției s-a schimbat."})
    assert asked.status_code == 303
    again = client.post(f"/applications/{ref}/claims/{claim_ref}/review",
                        data={"csrf_token": csrf(status_page), "note": "a second time"})
    assert again.status_code == 303
    assert "You asked for a review by a case worker" in text(client.get(f"/applications/{ref}").get_data(as_text=True))
    with app.app_context():
        kept = db.session.scalar(select(ClaimAssessment).where(ClaimAssessment.claim_id == claim.id))
        assert kept.review_note == "Venitul soției s-a schimbat."  # recorded once
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "automated_result_review_requested")) is not None

    elena = person(make_account, ELENA)
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, elena)
    language(worker, "en")
    queue = worker.get("/backoffice/").get_data(as_text=True)
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', queue).group(1)
    case_page = text(worker.get(case_url).get_data(as_text=True))
    assert "Eligibility and checks" in case_page
    assert "What the applicant saw when sending" in case_page and amount in case_page
    assert "The applicant asked for a review of the automatic result by a person" in case_page
    assert "Venitul soției s-a schimbat." in case_page
    assert "State Tax Service" in case_page


def test_case_worker_sees_a_fresh_result_when_registry_data_changed(app, client, make_account, login, registries,
                                                                    grant_role):
    login(client, person(make_account, ION))
    language(client, "en")
    ref = walk_to_check(client, start(client, ["social_aid"])).split("/")[2]
    submit(client, ref)
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        income = next(e for e in application.evidence if e.item == "income")
        payload = dict(income.payload)
        payload["household_monthly_average"] = 90000.0  # the tax service now reports a large income
        income.payload = payload
        db.session.commit()

    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, person(make_account, ELENA))
    language(worker, "en")
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', worker.get("/backoffice/").get_data(as_text=True)).group(1)
    page = text(worker.get(case_url).get_data(as_text=True))
    assert "With the data received since" in page
    assert "and so does the result" in page
    assert "Likely not eligible" in page and "Likely eligible" in page


def test_case_worker_clears_a_flag_with_a_reason(app, client, make_account, login, registries, grant_role):
    login(client, person(make_account, ION))
    language(client, "en")
    location = start(client, ["social_aid"])
    # The citizen says the household data is wrong: the declared data contradicts the registry.
    page = client.get(location).get_data(as_text=True)
    client.post(location, data={"csrf_token": csrf(page), "confirm_identity": "yes", "confirm_address": "yes"})
    household = location.replace("about_you", "household")
    page = client.get(household).get_data(as_text=True)
    client.post(household, data={"csrf_token": csrf(page), "confirm_household": "no",
                                 "note_household": "Fiul cel mare nu mai locuiește cu noi.",
                                 "confirm_disability": "yes"})
    ref = walk_to_check(client, location.replace("about_you", "income")).split("/")[2]
    submit(client, ref)
    with app.app_context():
        flag = db.session.scalar(select(RiskFlag).where(RiskFlag.code == "declared_contradicts_registry"))
        assert flag.status == "open" and flag.severity == "medium"
        claim = db.session.get(Claim, flag.claim_id)
        assert claim.risk_level == 2
        flag_id, claim_ref = flag.id, claim.ref

    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, person(make_account, ELENA))
    language(worker, "en")
    queue = worker.get("/backoffice/").get_data(as_text=True)
    assert "Medium risk" in text(queue)  # the queue shows each case's risk (and is ordered by it)
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', queue).group(1)
    case_page = worker.get(case_url).get_data(as_text=True)
    assert "Fiul cel mare nu mai locuiește cu noi." in text(case_page) and "Medium risk" in text(case_page)

    clear_url = f"/backoffice/claims/{claim_ref}/flags/{flag_id}/clear"
    without_reason = worker.post(clear_url, data={"csrf_token": csrf(case_page), "reason": " "},
                                 headers={"Referer": "http://localhost" + case_url})
    assert without_reason.status_code == 303
    with app.app_context():
        assert db.session.get(RiskFlag, flag_id).status == "open"
    cleared = worker.post(clear_url, data={"csrf_token": csrf(case_page), "reason": "Verificat la primărie."},
                          headers={"Referer": "http://localhost" + case_url})
    assert cleared.status_code == 303
    with app.app_context():
        flag = db.session.get(RiskFlag, flag_id)
        assert flag.status == "cleared" and flag.cleared_reason == "Verificat la primărie."
        assert db.session.get(Claim, flag.claim_id).risk_level == 0
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "risk_flag_cleared"))
        assert event.actor_idnp == ELENA.idnp and event.details["reason"] == "Verificat la primărie."
    assert "Cleared by Elena Vasilache" in text(worker.get(case_url).get_data(as_text=True))
    assert "Medium risk" not in text(worker.get("/backoffice/").get_data(as_text=True))

    # A worker of another agency cannot even find the flag.
    grant_role(by_idnp("2005001000062").idnp, "case_worker", "ATAS-NORD-EST")
    other = app.test_client()
    login(other, person(make_account, by_idnp("2005001000062")))
    assert other.post(clear_url, data={"csrf_token": csrf(case_page), "reason": "x"}).status_code in (400, 404)


@pytest.mark.parametrize("lang, title, parameter", [
    ("ro", "Ajutor social", "Venitul lunar minim garantat (VLMG)"),
    ("ru", "Социальная помощь", "Гарантированный минимальный месячный доход (ГММД)"),
    ("en", "Social aid", "Guaranteed minimum monthly income (VLMG)"),
])
def test_the_explanation_is_in_the_readers_language(app, client, make_account, login, registries, lang, title,
                                                    parameter):
    login(client, person(make_account, ION))
    language(client, "en")
    check = walk_to_check(client, start(client, ["social_aid"]))
    language(client, lang)
    page = text(client.get(check).get_data(as_text=True))
    assert title in page and parameter in page
    # Amounts in the language's number format, the unit in its plural form (ro "de lei" from 20; ru лей/лея/леев).
    lei = {"ro": "(de )?lei", "ru": "ле(й|я|ев)", "en": "lei"}[lang]
    assert re.search(rf"\d[\d  .,]* {lei}\b", page)


def translated(app, lang: str, msgid: str) -> str:
    """``msgid`` in ``lang`` from the catalogues, up to its first placeholder."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(lang):
        return gettext(msgid).split("%(")[0].strip()


INCOME_BELOW = ("The household's income, %(income_total)s a month (%(household_income)s known to the tax service and "
                "%(remittances)s from abroad), is below the guaranteed minimum for the household, %(family_minimum)s.")


@pytest.mark.parametrize("lang, title, parameter", [
    ("ro", "Ajutor social", "Venitul lunar minim garantat (VLMG)"),
    ("ru", "Социальная помощь", "Гарантированный минимальный месячный доход (ГММД)"),
    ("en", "Social aid", "Guaranteed minimum monthly income (VLMG)"),
])
def test_the_kept_result_is_explained_to_the_citizen_and_the_case_worker_in_their_language(
        app, client, make_account, login, registries, grant_role, lang, title, parameter):
    login(client, person(make_account, ION))
    language(client, "en")
    ref = walk_to_check(client, start(client, ["social_aid"])).split("/")[2]
    submit(client, ref)
    expected = [translated(app, lang, m) for m in ("Likely eligible", INCOME_BELOW, "How this was worked out",
                                                   "Social aid: %(family_minimum)s − %(income_total)s = %(amount)s "
                                                   "a month.")]
    if lang != "en":
        assert expected != [translated(app, "en", m) for m in ("Likely eligible", INCOME_BELOW,
                                                               "How this was worked out",
                                                               "Social aid: %(family_minimum)s − %(income_total)s = "
                                                               "%(amount)s a month.")]
    lei = {"ro": "(de )?lei", "ru": "ле(й|я|ев)", "en": "lei"}[lang]

    # The citizen's application page: the pre-assessment kept at submission, in the reader's language.
    language(client, lang)
    page = text(client.get(f"/applications/{ref}").get_data(as_text=True))
    assert translated(app, lang, "Automatic pre-assessment") in page
    assert title in page and parameter in page and re.search(rf"\d[\d  .,]* {lei}\b", page)
    for sentence in expected:
        assert sentence in page, (lang, sentence)

    # The case worker's case page: the same explanation, in the case worker's language.
    grant_role(ELENA.idnp, "case_worker", "ATAS-CENTRU")
    worker = app.test_client()
    login(worker, person(make_account, ELENA))
    language(worker, lang)
    case_url = re.search(r'href="(/backoffice/cases/[^"]+)"', worker.get("/backoffice/").get_data(as_text=True)).group(1)
    case_page = text(worker.get(case_url).get_data(as_text=True))
    assert translated(app, lang, "Eligibility and checks") in case_page
    assert translated(app, lang, "What the applicant saw when sending") in case_page
    assert title in case_page and parameter in case_page and re.search(rf"\d[\d  .,]* {lei}\b", case_page)
    for sentence in expected:
        assert sentence in case_page, (lang, sentence)
