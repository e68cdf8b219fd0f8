"""The whole journey in headless Chromium, in Russian, through the real SAML redirects and POSTs.

A citizen logs in on the development MPass, applies once for two benefits,
and keeps the application page open; a case worker of the responsible agency
asks for more information; the citizen sees it arrive without reloading, gets
the e-mail in Russian, answers; the worker approves; the citizen sees the
decision and logs out through SAML single logout.
"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

NATALIA = "2005001000028"  # Soroca → ATAS Nord-Est (social aid) and CNAS (birth allowance); speaks Russian
SERGIU = "2005001000062"  # case worker, ATAS Nord-Est


def mpass_login(page, portal: str, idnp: str, assert_accessible) -> None:
    page.goto(portal + "/")
    page.click('nav a[href^="/auth/login"]')
    # The signed AuthnRequest is posted to the IdP; choose the person there.
    page.wait_for_selector(f'button[name="idnp"][value="{idnp}"]')
    assert_accessible(page)
    page.click(f'button[name="idnp"][value="{idnp}"]')
    # The signed Response is posted back to the ACS.
    page.wait_for_url(re.compile(re.escape(portal) + r"/(applications|backoffice/?)(\?.*)?$"))


def choose_russian(page) -> None:
    page.click('form.lang-switch button[value="ru"]')
    page.wait_for_selector('html[lang="ru"]')


def fill_application(page, assert_accessible) -> None:
    """Answer every page of the form with what a citizen would, until the check page."""
    for _ in range(12):
        if page.url.endswith("/steps/check"):
            return
        for radio in page.locator('input[type="radio"][value="yes"]').all():
            radio.check()
        child = page.locator('input[type="radio"][name="child_idnp"]')
        if child.count():
            child.first.check()
        if page.locator('input[name="remittances"]').count():
            page.fill('input[name="remittances"]', "0")
        assert_accessible(page)
        current = page.url
        page.click("main form button.primary")
        page.wait_for_url(lambda url: url != current)
    raise AssertionError("never reached the check page")


def test_journey_in_russian(stack, browser, assert_accessible, screenshot):
    citizen_ctx = browser.new_context(locale="ru-RU", viewport={"width": 1000, "height": 900})
    worker_ctx = browser.new_context(locale="ru-RU")
    citizen = citizen_ctx.new_page()
    worker = worker_ctx.new_page()

    # 2. Log in with MPass; land on "My applications" as Natalia.
    citizen.goto(stack.portal + "/")
    choose_russian(citizen)
    assert_accessible(citizen)
    mpass_login(citizen, stack.portal, NATALIA, assert_accessible)
    assert citizen.locator("nav").inner_text().count("Natalia Ceban") == 1
    assert citizen.get_attribute("html", "lang") == "ru"
    assert_accessible(citizen)

    # 3–4. Apply once for two benefits; registry data shown with its source.
    citizen.goto(stack.portal + "/apply")
    citizen.check('input[name="benefits"][value="social_aid"]')
    citizen.check('input[name="benefits"][value="birth_allowance"]')
    citizen.click("main form button.primary")
    citizen.wait_for_url(re.compile(r"/steps/about_you$"))
    assert "Ceban" in citizen.inner_text("main")
    assert citizen.locator(".source").count() >= 2
    fill_application(citizen, assert_accessible)
    assert_accessible(citizen)
    assert citizen.locator("#eligibility-heading").is_visible()  # the pre-assessment, before sending
    citizen.check('input[name="declaration"]')
    citizen.click('main form[action$="/submit"] button.primary')
    citizen.wait_for_url(re.compile(r"/receipt$"))
    number = re.search(r"ES-\d{4}-\d{7}", citizen.inner_text("main")).group(0)
    assert_accessible(citizen)

    # The citizen keeps the application page open.
    citizen.click('main a.button[href^="/applications/"]:not([href$=".pdf"])')  # not the printable receipt
    citizen.wait_for_selector("#live-status")
    citizen.evaluate("window.__stillTheSamePage = true")
    assert_accessible(citizen)
    # … and "My applications" in another tab.
    listing = citizen_ctx.new_page()
    listing.goto(stack.portal + "/applications")
    listing.wait_for_selector(f"#my-applications >> text={number}")
    listing.evaluate("window.__stillTheSamePage = true")
    assert listing.locator("#my-applications .tag-info_requested").count() == 0
    assert_accessible(listing)

    # 5–6. The case worker of ATAS Nord-Est sees it in the queue and asks for more.
    worker.goto(stack.portal + "/")
    choose_russian(worker)
    mpass_login(worker, stack.portal, SERGIU, assert_accessible)
    worker.goto(stack.portal + "/backoffice/")
    assert_accessible(worker)
    worker.click(f"text={number}")
    worker.wait_for_selector('textarea[name="question"]')
    assert_accessible(worker)
    assert worker.locator("#eligibility-heading").is_visible()  # what the citizen saw, and the checks
    question = "Пришлите, пожалуйста, справку о доходах супруга."
    worker.fill('textarea[name="question"]', question)
    worker.click('form[action$="/request-info"] button')
    worker.wait_for_selector(".notice-success")

    # 7. The citizen sees it without reloading, and gets an e-mail in Russian.
    citizen.wait_for_selector(f"#live-status >> text={question}", timeout=10_000)
    assert citizen.evaluate("window.__stillTheSamePage") is True
    listing.wait_for_selector("#my-applications .tag-info_requested", timeout=10_000)
    assert listing.evaluate("window.__stillTheSamePage") is True
    screenshot(citizen, "application-status")
    mails = stack.wait_for_message("natalia.ceban@example.md", containing=question)
    assert any(question in m["text"] for m in mails)
    assert any(re.search("[А-Яа-я]{4,}", m["subject"]) for m in mails), [m["subject"] for m in mails]

    citizen.fill('textarea[name="answer"]', "У меня нет супруга.")
    citizen.click('form[action$="/answer"] button.primary')
    citizen.wait_for_selector(".notice-success")

    # The worker sees the answer and approves.
    worker.reload()
    assert "У меня нет супруга." in worker.inner_text("main")
    worker.check('input[name="decision"][value="approved"]')
    worker.fill('input[name="amount"]', "1250.00")  # the worker enters it where the rules give none
    worker.fill('textarea[name="reason"]', "Доход семьи ниже гарантированного минимума.")
    worker.click('form[action$="/decide"] button.primary')
    worker.wait_for_url(re.compile(r"/backoffice/?$"))

    # The decision with its reason appears on the open page by itself.
    citizen.evaluate("window.__stillTheSamePage = true")
    citizen.wait_for_selector("#live-status >> text=Доход семьи ниже гарантированного минимума.", timeout=10_000)
    assert citizen.evaluate("window.__stillTheSamePage") is True
    listing.wait_for_selector("#my-applications .tag-approved", timeout=10_000)
    assert listing.evaluate("window.__stillTheSamePage") is True
    assert_accessible(listing)
    listing.close()

    # Single logout through the IdP ends the portal session.
    citizen.click('nav form[action$="/auth/logout"] button')
    citizen.wait_for_load_state("networkidle")
    citizen.goto(stack.portal + "/applications")
    assert "/auth/login" in citizen.url or citizen.locator('button[name="idnp"]').count() > 0

    citizen_ctx.close()
    worker_ctx.close()
