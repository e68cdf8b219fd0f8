"""Nobody left behind, in headless Chromium against the stack of ``python -m devstack`` (one stack, one browser).

* axe-core (WCAG 2.1 A and AA) on every citizen, CUPS and back-office page, in Romanian, Russian and English;
  a GET page of the app that is neither visited nor listed in ``NOT_PAGES`` fails the test, so a new page
  cannot escape the check;
* an application completed with the keyboard alone (Tab, Shift+Tab, Space, Enter);
* an application completed with JavaScript switched off;
* a CUPS visit: identity document, printed consent, application on the visitor's behalf, receipt (the README's
  screenshots are taken here when ``ESOCIAL_SCREENSHOTS`` names a folder);
* the journey of a citizen living abroad (Andrei Munteanu, Italy), in Russian.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

LANGS = ("ro", "ru", "en")
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}

ION, NATALIA, MARIA, ANDREI, SVETLANA = ("2005001000017", "2005001000028", "2005001000039", "2005001000040",
                                         "2005001000615")
ELENA, OLGA, IRINA, DUMITRU, ANA_ADMIN = "2005001000051", "2005001000073", "2005001000523", "2005001000534", \
    "2005001000095"
LILIA = "2005001000604"  # CUPS Lozova

# GET endpoints that are not pages a person reads (files, feeds, fragments, machine formats), or not eSocial's
# citizen, CUPS and back-office pages: each with the reason it is not checked by axe.
NOT_PAGES = {
    "static": "CSS and JavaScript files",
    "site.health": "JSON health check", "ops.ready": "JSON readiness check", "ops.prometheus": "metrics text",
    "auth.metadata": "SAML metadata (XML)", "auth.sls": "answers MPass's logout messages",
    "auth.login": "a form that posts itself to MPass at once (checked with the IdP page by the journey test)",
    "citizen.stream": "Server-Sent Events", "citizen.applications_stream": "Server-Sent Events",
    "citizen.status_fragment": "a fragment of the application page, checked inside that page",
    "citizen.applications_fragment": "a fragment of My applications, checked inside that page",
    "citizen.document": "a file download", "backoffice.document": "a file download",
    "decisions.letter": "PDF", "backoffice.letter": "PDF", "tracking.receipt_pdf": "PDF",
    "assisted.consent_pdf": "PDF", "privacy.download": "JSON download",
    "figures.export_csv": "CSV export", "figures.export_json": "JSON export",
    "preferences.session_alive": "an empty answer for the idle dialog",
    "api.list_cases": "JSON API", "api.get_case": "JSON API", "api.document": "JSON API",
    "api.list_webhooks": "JSON API", "api.openapi": "OpenAPI JSON",
    "api.docs": "developer documentation of the integration API, not a page for citizens or staff",
}


class AxeChecker:
    """axe-core loaded into every page of a context (an init script), run on demand.

    :meth:`check_together` starts axe in several pages at once (one per language) and then collects the
    results: the browser checks them in parallel, which keeps three languages affordable.
    """

    def __init__(self) -> None:
        import axe_playwright_python

        self.script = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text(encoding="utf-8")
        self.failures: list[str] = []
        self.checked: list[str] = []

    def prepare(self, context) -> None:
        context.add_init_script(script=self.script)

    def _record(self, page, label: str, violations: list) -> None:
        self.checked.append(page.url)
        for v in violations:
            self.failures.append(f"{label} {page.url}: {v['id']} ({v['help']}) "
                                 f"{[n['target'] for n in v['nodes']][:4]}")

    def check(self, page, label: str = "") -> None:
        self._record(page, label, page.evaluate("options => axe.run(document, options)", WCAG)["violations"])

    def check_together(self, pages: dict[str, object], label: str = "") -> None:
        for page in pages.values():  # start every run, wait for none
            page.evaluate("options => { window.__axeRun = axe.run(document, options); }", WCAG)
        for lang, page in pages.items():
            self._record(page, f"{label} {lang}", page.evaluate("() => window.__axeRun")["violations"])


def mpass_login(page, stack, idnp: str) -> None:
    page.goto(stack.portal + "/auth/login")
    page.wait_for_selector(f'button[name="idnp"][value="{idnp}"]')
    page.click(f'button[name="idnp"][value="{idnp}"]')
    page.wait_for_url(re.compile(re.escape(stack.portal) + r"/.*"))
    page.wait_for_selector("nav form[action$='/auth/logout']")


def choose_language(page, lang: str) -> None:
    if page.get_attribute("html", "lang") != lang:
        page.click(f'form.lang-switch button[value="{lang}"]')
        page.wait_for_selector(f'html[lang="{lang}"]')


def fill_application(page, phone: str | None = None) -> None:
    """Answer every step as a citizen would, up to the check page (``phone``: the number on the contact page)."""
    for _ in range(12):
        if page.url.endswith("/steps/check"):
            return
        if phone and page.locator('input[name="phone"]').count():
            page.fill('input[name="phone"]', phone)
        for radio in page.locator('input[type="radio"][value="yes"]').all():
            radio.check()
        child = page.locator('input[type="radio"][name="child_idnp"]')
        if child.count():
            child.first.check()
        for name, value in (("remittances", "0"), ("bank_interest", "0")):
            if page.locator(f'input[name="{name}"]').count():
                page.fill(f'input[name="{name}"]', value)
        heating = page.locator('input[name="heating_source"][value="gas"]')
        if heating.count():
            heating.check()
        current = page.url
        page.click("main form button.primary")
        page.wait_for_url(lambda url: url != current)
    raise AssertionError("never reached the check page")


def send(page) -> str:
    """Tick the declaration, send, and return the application number from the receipt."""
    page.check('input[name="declaration"]')
    page.click('main form[action$="/submit"] button.primary')
    page.wait_for_url(re.compile(r"/receipt$"))
    return re.search(r"ES-\d{4}-\d{7}", page.inner_text("main")).group(0)


def path_of(url: str) -> str:
    return urlsplit(url).path


def stack_db(stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.instance / "esocial.db")


def get_endpoints(app_map) -> set[str]:
    return {rule.endpoint for rule in app_map.iter_rules() if "GET" in rule.methods}


# --- every page, three languages --------------------------------------------------------------------------------

def test_every_page_passes_axe_in_romanian_russian_and_english(stack, browser, app):
    url_map = app.url_map.bind("localhost")  # the suite's app: the same routes as the stack's
    axe = AxeChecker()
    opened = []

    def context_for(idnp: str | None, lang: str = "ro"):
        ctx = browser.new_context(locale="ro-RO", viewport={"width": 1000, "height": 900})
        opened.append(ctx)
        axe.prepare(ctx)
        page = ctx.new_page()
        if idnp:
            mpass_login(page, stack, idnp)
        else:
            page.goto(stack.portal + "/")
        choose_language(page, lang)
        return ctx, page

    def in_three_languages(ctx, page) -> dict:
        """The same person in three browser contexts, one per language (the login session is shared)."""
        pages = {"ro": page}
        for lang in ("ru", "en"):
            other = browser.new_context(locale="ro-RO", viewport={"width": 1000, "height": 900},
                                        storage_state=ctx.storage_state())
            opened.append(other)
            axe.prepare(other)
            pages[lang] = other.new_page()
            pages[lang].goto(stack.portal + "/")
            choose_language(pages[lang], lang)
        return pages

    # A citizen's application, sent, with a draft stopped early; the pages of every step on the way.
    citizen_ctx, citizen = context_for(ION)
    steps = []
    citizen.goto(stack.portal + "/apply")
    citizen.check('input[name="benefits"][value="social_aid"]')
    citizen.check('input[name="benefits"][value="birth_allowance"]')
    citizen.click("main form button.primary")
    citizen.wait_for_url(re.compile(r"/steps/about_you$"))
    for _ in range(12):
        if not re.search(r"/steps/(household|income)$", citizen.url):  # the same page as about_you
            steps.append(path_of(citizen.url))
        if citizen.url.endswith("/steps/check"):
            break
        current = citizen.url
        for radio in citizen.locator('input[type="radio"][value="yes"]').all():
            radio.check()
        child = citizen.locator('input[type="radio"][name="child_idnp"]')
        if child.count():
            child.first.check()
        if citizen.locator('input[name="remittances"]').count():
            citizen.fill('input[name="remittances"]', "0")
        citizen.click("main form button.primary")
        citizen.wait_for_url(lambda url: url != current)
    application_ref = steps[0].split("/")[2]
    number = send(citizen)

    # The agency asks and opens the household's case file; the CNAS decides the birth allowance.
    worker_ctx, worker = context_for(ELENA)
    worker.goto(stack.portal + "/backoffice/")
    worker.click(f"text={number}")
    worker.wait_for_selector("main h1")
    case_path = path_of(worker.url)
    if worker.locator('form[action$="/take"] button').count():
        worker.click('form[action$="/take"] button')
        worker.wait_for_load_state()
    worker.fill('textarea[name="question"]', "Trimiteți, vă rog, certificatul de venit al soțului.")
    worker.click('form[action$="/request-info"] button')
    worker.wait_for_selector(".notice-success")
    worker.click('form[action*="/households/from-case/"] button')
    worker.wait_for_url(re.compile(r"/backoffice/households/[^/]+$"))
    household_path = path_of(worker.url)

    cnas_ctx, cnas = context_for(OLGA)
    cnas.goto(stack.portal + "/backoffice/")
    cnas.click(f"text={number}")
    cnas.wait_for_selector("main h1")
    cnas_case = path_of(cnas.url)
    if cnas.locator('form[action$="/take"] button').count():
        cnas.click('form[action$="/take"] button')
        cnas.wait_for_load_state()
    cnas.check('input[name="decision"][value="approved"]')
    if cnas.locator('input[name="amount"]').count():
        cnas.fill('input[name="amount"]', "11000")
    cnas.fill('textarea[name="reason"]', "Nașterea este înregistrată; asigurat.")
    cnas.click('form[action$="/decide"] button.primary')
    cnas.wait_for_load_state()
    citizen.goto(stack.portal + f"/applications/{application_ref}")
    decision_path = citizen.locator('#live-status a[href*="/decisions/"]:not([href$=".pdf"])').first.get_attribute("href")

    # Another citizen, with little data: the pages that show everything held about a person, and an offer
    # made by a registry event (a birth registered for her).
    light_ctx, light = context_for(NATALIA)
    import requests

    requests.post(f"{stack.registry}/_events", json={"type": "birth", "parent": NATALIA}, timeout=5).raise_for_status()
    for _ in range(40):
        light.goto(stack.portal + "/offers")
        offer = light.locator('main a[href^="/offers/"]').first
        if offer.count():
            offer_path = offer.get_attribute("href")
            break
        light.wait_for_timeout(250)
    else:
        raise AssertionError("the registry's birth event made no offer")

    with stack_db(stack) as db:
        notification_id = db.execute("SELECT id FROM notification ORDER BY id LIMIT 1").fetchone()[0]
        routing_version = db.execute("SELECT max(version) FROM routing_rule_version").fetchone()[0] or 1

    # CUPS: a visit waiting for the consent (checked now: it changes below), then active.
    cups_ctx, cups = context_for(LILIA)
    cups.goto(stack.portal + "/cups/")
    cups.check('input[name="doc-document_type"][value="identity_card"]')
    cups.fill('input[name="doc-document_number"]', "A09876543")
    cups.fill('input[name="doc-idnp"]', SVETLANA)
    cups.click('form[action$="/visits/document"] button.primary')
    cups.wait_for_url(re.compile(r"/cups/visits/[^/]+$"))
    visit_path = path_of(cups.url)
    for lang in LANGS:
        choose_language(cups, lang)
        axe.check(cups, f"[{LILIA} {lang}]")
    choose_language(cups, "ro")
    cups.check('input[name="signed"]')
    cups.click('form[action$="/consent"] button.primary')
    cups.wait_for_selector('a[href="/apply"]')

    who_visits = [
        (citizen_ctx, citizen, ION, [
            "/", "/benefits/social_aid", "/apply", "/applications", f"/applications/{application_ref}",
            f"/applications/{application_ref}/receipt", decision_path, *steps, "/account",
            "/account/notifications", "/representation/", "/representation/mandates",
            "/representation/mandates/new", "/no-such-page"]),
        (light_ctx, light, NATALIA, ["/notifications", "/my-data", "/my-data/access", "/my-data/reports", "/offers",
                                     offer_path, "/privacy/", "/privacy/data"]),
        (worker_ctx, worker, ELENA, ["/backoffice/", case_path, "/backoffice/households/", household_path]),
        (cnas_ctx, cnas, OLGA, [cnas_case, "/backoffice/rectifications"]),
        (None, None, IRINA, ["/backoffice/admin/routing", f"/backoffice/admin/routing/versions/{routing_version}",
                             "/backoffice/integration/", "/backoffice/integration/clients/demo-atas-centru",
                             "/backoffice/figures"]),
        (None, None, DUMITRU, ["/ministry/"]),
        (None, None, ANA_ADMIN, ["/admin/notifications/", f"/admin/notifications/{notification_id}"]),
        (cups_ctx, cups, LILIA, ["/cups/", "/cups/applications", visit_path, "/apply", "/applications"]),
        (None, None, None, ["/", "/benefits", "/status", "/session/ended"]),
    ]
    visited: set[str] = set()
    for ctx, page, who, paths in who_visits:
        if page is None:
            ctx, page = context_for(who)
        pages = in_three_languages(ctx, page)
        for path in paths:
            for lang, p in pages.items():
                p.goto(stack.portal + path)
                assert p.get_attribute("html", "lang") == lang, (who, path, lang)
            axe.check_together(pages, f"[{who or 'anonymous'}]")
            try:
                visited.add(url_map.match(path, method="GET")[0])
            except Exception:  # noqa: BLE001 - the 404 page has no endpoint
                pass
    for ctx in opened:
        ctx.close()

    assert not axe.failures, f"{len(axe.failures)} axe violations:\n" + "\n".join(axe.failures)
    missing = get_endpoints(url_map.map) - visited - set(NOT_PAGES)
    assert not missing, f"GET pages never checked by axe: {sorted(missing)}"
    assert len(axe.checked) >= 3 * 40, len(axe.checked)


# --- keyboard only ------------------------------------------------------------------------------------------------

def press_until_focused(page, selector: str, key: str = "Tab", limit: int = 80) -> None:
    """Move the focus with the keyboard until ``selector`` has it (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never received the focus from the keyboard")


def test_an_application_completed_with_the_keyboard_alone(stack, browser):
    ctx = browser.new_context(locale="ro-RO")
    page = ctx.new_page()
    page.goto(stack.portal + "/auth/login")
    page.wait_for_selector(f'button[name="idnp"][value="{SVETLANA}"]')
    press_until_focused(page, f'button[name="idnp"][value="{SVETLANA}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("nav form[action$='/auth/logout']")
    choose_language(page, "en")

    page.goto(stack.portal + "/apply")
    press_until_focused(page, 'input[name="benefits"][value="cold_season_aid"]')
    page.keyboard.press("Space")
    press_until_focused(page, "main form button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/steps/about_you$"))
    for _ in range(12):
        if page.url.endswith("/steps/check"):
            break
        current = page.url
        for name in page.eval_on_selector_all('input[type="radio"][value="yes"]', "els => els.map(e => e.name)"):
            press_until_focused(page, f'input[name="{name}"]')
            # Arrow keys move within a radio group; Space selects the focused one ("yes" comes first).
            page.keyboard.press("Space")
        for name, value in (("remittances", "0"),):
            if page.locator(f'input[name="{name}"]').count():
                press_until_focused(page, f'input[name="{name}"]')
                page.keyboard.type(value)
        if page.locator('input[name="heating_source"]').count():
            press_until_focused(page, 'input[name="heating_source"]')
            page.keyboard.press("Space")
        press_until_focused(page, "main form button.primary")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: url != current)
    assert page.url.endswith("/steps/check")
    press_until_focused(page, 'input[name="declaration"]')
    page.keyboard.press("Space")
    press_until_focused(page, 'main form[action$="/submit"] button.primary')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/receipt$"))
    assert re.search(r"ES-\d{4}-\d{7}", page.inner_text("main"))
    # The focus is always visible: the outline of the focused control is drawn.
    press_until_focused(page, "main a.button")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    ctx.close()


# --- without JavaScript -----------------------------------------------------------------------------------------

def test_an_application_completed_with_javascript_switched_off(stack, browser):
    ctx = browser.new_context(locale="ro-RO", java_script_enabled=False)
    page = ctx.new_page()
    page.goto(stack.portal + "/auth/login")
    # Without JavaScript the SAML forms do not post themselves: the person presses their buttons.
    page.click("form[data-autosubmit] button")
    page.click(f'button[name="idnp"][value="{MARIA}"]')
    page.click("form[data-autosubmit] button")
    page.wait_for_selector("nav form[action$='/auth/logout']")
    page.click('form.lang-switch button[value="en"]')
    page.wait_for_selector('html[lang="en"]')
    page.goto(stack.portal + "/apply")
    page.check('input[name="benefits"][value="cold_season_aid"]')
    page.click("main form button.primary")
    page.wait_for_url(re.compile(r"/steps/about_you$"))
    fill_application(page)
    number = send(page)
    page.click('main a.button[href^="/applications/"]:not([href$=".pdf"])')
    assert number in page.inner_text("main")
    assert page.locator('a:has-text("Refresh the status")').count() == 1  # the no-script link to reload
    # The large-text display and logging out work as plain forms too.
    page.click("form.display-switch button")
    assert "large-text" in (page.get_attribute("body", "class") or "")
    page.click('nav form[action$="/auth/logout"] button')
    page.click("form[data-autosubmit] button")  # the logout request to MPass
    page.wait_for_selector("form[data-autosubmit] button, main h1")
    if page.locator("form[data-autosubmit] button").count():  # MPass's answer back to eSocial
        page.click("form[data-autosubmit] button")
    page.goto(stack.portal + "/applications")
    assert "/auth/login" in page.url or page.locator("form[data-autosubmit]").count()
    ctx.close()


# --- a CUPS visit, with the README's screenshots --------------------------------------------------------------------

def test_a_cups_visit_from_identity_document_to_receipt(stack, browser, screenshot):
    ctx = browser.new_context(locale="ro-RO", viewport={"width": 1000, "height": 900}, accept_downloads=True)
    axe = AxeChecker()
    axe.prepare(ctx)
    page = ctx.new_page()
    mpass_login(page, stack, LILIA)
    choose_language(page, "ro")
    page.goto(stack.portal + "/cups/")
    page.check('input[name="doc-document_type"][value="identity_card"]')
    page.fill('input[name="doc-document_number"]', "A01234567")
    page.fill('input[name="doc-idnp"]', MARIA)
    page.click('form[action$="/visits/document"] button.primary')
    page.wait_for_url(re.compile(r"/cups/visits/[^/]+$"))
    consent = page.request.get(stack.portal + page.locator('a[href$="/consent.pdf"]').get_attribute("href"))
    assert consent.ok and consent.body().startswith(b"%PDF")
    page.check('input[name="signed"]')
    page.click('form[action$="/consent"] button.primary')
    page.wait_for_selector("#acting-banner")
    assert "Maria Lungu" in page.inner_text("#acting-banner")
    screenshot(page, "cups-assisted-session")
    axe.check(page)

    page.click('main a[href="/apply"]')
    page.check('input[name="benefits"][value="cold_season_aid"]')
    page.click("main form button.primary")
    page.wait_for_url(re.compile(r"/steps/about_you$"))
    assert "Maria Lungu" in page.inner_text("#acting-banner")
    fill_application(page, phone="+373 68 100 039")  # no e-mail: she follows it by SMS
    number = send(page)
    assert "Lilia Cojocaru" in page.inner_text("#provenance") and "Maria Lungu" in page.inner_text("#provenance")
    screenshot(page, "cups-receipt")
    axe.check(page)
    receipt = page.request.get(stack.portal + page.locator('a[href$="/receipt.pdf"]').first.get_attribute("href"))
    assert receipt.ok and receipt.body().startswith(b"%PDF")
    if screenshot_folder := __import__("os").environ.get("ESOCIAL_SCREENSHOTS"):
        Path(screenshot_folder, "cups-receipt.pdf").write_bytes(receipt.body())

    receipt_page = page.url
    page.click('#acting-banner form button')  # end the visit
    page.wait_for_url(re.compile(r"/cups/?$"))
    assert page.locator("#acting-banner").count() == 0
    page.go_back()  # the browser kept nothing (no-store): the receipt is asked again, and refused
    assert page.url == receipt_page and "Maria Lungu" not in page.inner_text("main")
    page.goto(stack.portal + "/cups/applications")  # the centre's own list still shows her open application
    assert number in page.inner_text("main")
    assert not axe.failures, axe.failures
    ctx.close()


# --- a citizen living abroad, in Russian -------------------------------------------------------------------------------

def test_journey_of_a_citizen_living_abroad_in_russian(stack, browser):
    ctx = browser.new_context(locale="ru-RU", timezone_id="Europe/Rome")
    axe = AxeChecker()
    axe.prepare(ctx)
    page = ctx.new_page()
    page.goto(stack.portal + "/")
    choose_language(page, "ru")
    mpass_login(page, stack, ANDREI)
    assert page.get_attribute("html", "lang") == "ru"
    page.goto(stack.portal + "/apply")
    page.check('input[name="benefits"][value="cold_season_aid"]')
    page.click("main form button.primary")
    page.wait_for_url(re.compile(r"/steps/about_you$"))
    about = page.inner_text("main")
    assert "Италия" in about  # the foreign address and its country, in Russian
    axe.check(page)
    fill_application(page)
    number = send(page)
    axe.check(page)
    page.goto(stack.portal + "/account")
    assert page.input_value('select[name="country"]') == "IT"
    assert page.input_value('select[name="timezone"]') == "Europe/Rome"
    axe.check(page)
    mails = stack.wait_for_message("andrei.munteanu@example.it", count=1)
    assert any(number in m["text"] for m in mails) and any(re.search("[А-Яа-я]{4,}", m["subject"]) for m in mails)
    assert not stack.messages("+393331000040", kind="sms")  # e-mail, not SMS, abroad
    assert not axe.failures, axe.failures
    ctx.close()
