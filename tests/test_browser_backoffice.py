"""The back office in headless Chromium against the running demo stack, with axe-core on every page.

Ion applies for social aid and the birth allowance (two agencies, two cases); Elena of ATAS Centru takes
the next case and rejects with a reason from the list; Ion reads the decision, downloads the letter and
appeals; Victor, the supervisor, opens the household's case file (saying why); Irina, the agency
administrator, runs the routing rules' dry run; Dumitru, the analyst, reads the figures.
"""
from __future__ import annotations

import re

import pytest

from test_browser_journey import fill_application, mpass_login

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

ION, ELENA, VICTOR = "2005001000017", "2005001000051", "2005001000084"
IRINA, DUMITRU = "2005001000523", "2005001000534"


def test_back_office_roles_in_the_browser(stack, browser, assert_accessible):
    def as_person(idnp):
        page = browser.new_context(locale="ro-RO", viewport={"width": 1100, "height": 900}).new_page()
        mpass_login(page, stack.portal, idnp, assert_accessible)
        return page

    ion = as_person(ION)
    ion.goto(stack.portal + "/apply")
    ion.check('input[name="benefits"][value="social_aid"]')
    ion.check('input[name="benefits"][value="birth_allowance"]')
    ion.click("main form button.primary")
    ion.wait_for_url(re.compile(r"/steps/about_you$"))
    fill_application(ion, assert_accessible)
    ion.check('input[name="declaration"]')
    ion.click('main form[action$="/submit"] button.primary')
    ion.wait_for_url(re.compile(r"/receipt$"))
    number = re.search(r"ES-\d{4}-\d{7}", ion.inner_text("main")).group(0)

    # Elena takes the next case of ATAS Centru: Ion's social aid (the birth allowance went to CNAS).
    elena = as_person(ELENA)
    elena.goto(stack.portal + "/backoffice/")
    assert number in elena.inner_text("main")
    assert_accessible(elena)
    elena.click('form[action$="/backoffice/next"] button')
    elena.wait_for_url(re.compile(r"/backoffice/cases/"))
    assert number in elena.inner_text("h1")
    assert_accessible(elena)
    elena.check('input[name="decision"][value="rejected"]')
    elena.select_option('select[name="reason_code"]', "conditions_not_met")
    elena.fill('textarea[name="reason"]', "Venitul declarat depășește pragul.")
    elena.click('form[action$="/decide"] button.primary')
    elena.wait_for_load_state("load")
    assert re.search(r"/backoffice/?$", elena.url), elena.inner_text("main")[:1500]

    # Ion reads the decision, gets the letter, appeals within 30 days.
    ion.goto(ion.url.replace("/receipt", ""))
    ion.click('#live-status a[href*="/decisions/"]:not([href$=".pdf"]) >> nth=0')  # the decision page
    ion.wait_for_url(re.compile(r"/decisions/[^/]+$"))
    assert_accessible(ion)
    letter = ion.request.get(stack.portal + ion.locator('a[href$="letter.pdf"]').get_attribute("href"))
    assert letter.ok and letter.headers["content-type"] == "application/pdf" and letter.body().startswith(b"%PDF")
    grounds = ion.input_value('textarea[name="grounds"]')
    assert grounds.startswith(("I contest decision", "Contest decizia"))
    ion.fill('textarea[name="grounds"]', grounds + "venitul a scăzut în ianuarie.")
    ion.click('form[action$="/appeal"] button.primary')
    ion.wait_for_selector(".notice-success")
    assert_accessible(ion)

    # Victor, the supervisor: the appealed case, then the household's case file (after saying why).
    victor = as_person(VICTOR)
    victor.goto(stack.portal + "/backoffice/")
    assert_accessible(victor)
    victor.click(f"main table a:text('{number}')")
    victor.wait_for_url(re.compile(r"/backoffice/cases/"))
    assert_accessible(victor)
    victor.click('form[action*="/households/from-case/"] button')
    victor.wait_for_selector('input[name="purpose"]')
    assert_accessible(victor)
    victor.check('input[name="purpose"][value="supervision"]')
    victor.click('form[action$="/purpose"] button.primary')
    victor.wait_for_selector('form[action$="/visits"]')
    assert_accessible(victor)

    # Irina: the routing rules and a dry run.
    irina = as_person(IRINA)
    irina.goto(stack.portal + "/backoffice/admin/routing")
    assert_accessible(irina)
    irina.fill('textarea[name="rule-0-raions"]', "ialoveni")
    irina.click('button[value="preview"]')
    irina.wait_for_selector("#preview-heading")
    assert_accessible(irina)

    # Dumitru, the ministry analyst: figures only.
    dumitru = as_person(DUMITRU)
    dumitru.goto(stack.portal + "/backoffice/")
    dumitru.wait_for_url(re.compile(r"/backoffice/figures$"))
    assert "Ion" not in dumitru.inner_text("main")
    assert_accessible(dumitru)
    for page in (ion, elena, victor, irina, dumitru):
        page.context.close()
