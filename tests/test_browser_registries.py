"""The registry pages in headless Chromium, on a phone-sized screen, against the stack the README starts:
"My data", reporting wrong data, "Who used my data", the registry owner's queue, and a birth registered in
the simulator turning into an offer the family accepts in one press.  axe-core checks every page."""
from __future__ import annotations

import re
import time

import pytest
import requests

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

ION = "2005001000017"
MARIA = "2005001000039"  # pensioner, Chișinău, no e-mail
OLGA = "2005001000073"  # CNAS: case worker, and answers reports of wrong insurance data
PHONE = {"width": 375, "height": 812}


def login(page, portal: str, idnp: str) -> None:
    page.goto(portal + "/auth/login")
    page.wait_for_selector(f'button[name="idnp"][value="{idnp}"]')
    page.click(f'button[name="idnp"][value="{idnp}"]')
    page.wait_for_url(re.compile(re.escape(portal) + r"/(applications|backoffice/?)(\?.*)?$"))
    page.click('form.lang-switch button[value="en"]')
    page.wait_for_selector('html[lang="en"]')


def test_my_data_reports_and_who_used_it(stack, browser, assert_accessible, screenshot):
    ctx = browser.new_context(viewport=PHONE)
    page = ctx.new_page()
    login(page, stack.portal, MARIA)
    page.goto(stack.portal + "/my-data")
    page.wait_for_selector("h1")
    main = page.inner_text("main")
    assert "Maria" in main and "National Social Insurance House" in main and "Recorded by the registry" in main
    assert_accessible(page)
    screenshot(page, "my-data")

    # Report the insurance record as wrong, by keyboard.
    summary = page.locator('details:has(form[action="/my-data/insurance/report"]) > summary')
    summary.focus()
    page.keyboard.press("Enter")
    page.fill("#insurance-note", "I worked 12 more months at the bakery in 2023.")
    assert_accessible(page)
    page.click('form[action="/my-data/insurance/report"] button')
    page.wait_for_url(re.compile(r"/my-data/reports$"))
    assert "bakery" in page.inner_text("main")
    assert_accessible(page)

    page.goto(stack.portal + "/my-data/access")
    assert "data subject" in page.inner_text("main").lower() or "showing you your own data" in page.inner_text("main")
    assert_accessible(page)

    # The CNAS registry officer answers it.
    desk_ctx = browser.new_context()
    desk = desk_ctx.new_page()
    login(desk, stack.portal, OLGA)
    desk.click('nav a[href="/backoffice/rectifications"]')
    desk.wait_for_selector("text=bakery")
    assert_accessible(desk)
    form = desk.locator('form[action^="/backoffice/rectifications/"]').first
    form.locator('input[value="corrected"]').check()
    form.locator("textarea").fill("Added: 12 months at SRL Franzeluța, 2023.")
    form.locator("button").click()
    desk.wait_for_selector(".notice-success")
    page.goto(stack.portal + "/my-data/reports")
    assert "Franzeluța" in page.inner_text("main")
    ctx.close()
    desk_ctx.close()


def test_a_registered_birth_becomes_an_offer_the_family_accepts(stack, browser, assert_accessible):
    ctx = browser.new_context(viewport=PHONE)
    page = ctx.new_page()
    login(page, stack.portal, ION)  # Ion has an account now: the offer can notify him
    event = requests.post(f"{stack.registry}/_events", json={"type": "birth", "parent": ION, "first_name": "Irina"},
                          timeout=5)
    assert event.status_code == 201
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the sweep takes the event from the feed within seconds
        page.goto(stack.portal + "/offers")
        if page.locator('main a[href^="/offers/"]').count():
            break
        time.sleep(1)
    assert "Irina" in page.inner_text("main")
    assert_accessible(page)
    page.locator('main a[href^="/offers/"]').first.click()
    page.wait_for_selector("text=Start the application")
    assert_accessible(page)
    page.click('form[action$="/accept"] button')
    page.wait_for_url(re.compile(r"/steps/[a-z_]+$"))
    assert "Rusu" in page.inner_text("main")
    assert_accessible(page)
    page.goto(stack.portal + "/notifications")
    assert "Irina" in page.inner_text("main")
    ctx.close()
