"""The integration API and the figures in the running demo stack: the README's example call with a demo
client, the API's documentation page, the administrator's deliveries page and the ministry's dashboard, each
checked with axe-core."""
from __future__ import annotations

import uuid

import pytest
import requests

from test_browser_journey import mpass_login

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

IRINA, DUMITRU = "2005001000523", "2005001000534"


def test_api_and_figures_in_the_demo(stack, browser, assert_accessible):
    answer = requests.post(f"{stack.portal}/api/v1/oauth/token", timeout=10,
                           data={"grant_type": "client_credentials", "client_id": "demo-atas-centru",
                                 "client_secret": "demo-secret-atas-centru"})
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    cases = requests.get(f"{stack.portal}/api/v1/cases?per_page=5", headers=headers, timeout=10)
    assert cases.status_code == 200 and "cursor" in cases.json()
    hook = requests.post(f"{stack.portal}/api/v1/webhooks", timeout=10, json={"url": "http://127.0.0.1:9/hook"},
                         headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_")

    docs = browser.new_context(locale="en-US").new_page()
    docs.goto(f"{stack.portal}/api/v1/docs")
    assert "POST /api/v1/oauth/token" in docs.inner_text("main")
    assert_accessible(docs)

    irina = browser.new_context(locale="ro-RO", viewport={"width": 1100, "height": 900}).new_page()
    mpass_login(irina, stack.portal, IRINA, assert_accessible)
    irina.goto(f"{stack.portal}/")
    irina.click('nav a[href="/backoffice/integration/"]')  # the menu leads the administrator there
    irina.wait_for_url("**/backoffice/integration/")
    assert "demo-atas-centru" in irina.inner_text("main") and "127.0.0.1:9/hook" in irina.inner_text("main")
    assert_accessible(irina)
    manage_a_client_in_the_portal(stack, irina, assert_accessible)

    dumitru = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()  # a phone
    mpass_login(dumitru, stack.portal, DUMITRU, assert_accessible)
    dumitru.goto(f"{stack.portal}/")
    dumitru.click('nav a[href="/ministry/"]')  # the analyst's menu leads to the dashboard
    dumitru.wait_for_url("**/ministry/")
    assert dumitru.locator("main svg").count() >= 6 and dumitru.locator("main table").count() >= 6
    assert_accessible(dumitru)
    dumitru.select_option('select[name="benefit"]', "social_aid")
    dumitru.click("main form.filters button")
    dumitru.wait_for_url("**benefit=social_aid**")
    assert_accessible(dumitru)
    csv_answer = dumitru.request.get(f"{stack.portal}/ministry/export.csv")
    assert csv_answer.ok and csv_answer.text().startswith("figure,dimension,key,measure,value")


def _token(stack, client_id: str, secret: str) -> requests.Response:
    return requests.post(f"{stack.portal}/api/v1/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})


def _cases(stack, answer: requests.Response) -> int:
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return requests.get(f"{stack.portal}/api/v1/cases?per_page=1", headers=headers, timeout=10).status_code


def manage_a_client_in_the_portal(stack, irina, assert_accessible) -> None:
    """Irina adds a client system, copies its secret from the page shown once, rotates it without the system
    stopping, subscribes it to events and finally revokes it: each step checked through the real API."""
    cid = "atas-test-" + uuid.uuid4().hex[:8]
    irina.fill('input[name="client_id"]', cid)
    irina.fill('input[name="name"]', "Sistemul de test")
    irina.click('form[action$="/backoffice/integration/clients"] button[type="submit"]')
    irina.wait_for_selector("#the-secret")
    assert_accessible(irina)
    first = irina.inner_text("#the-secret").strip()
    first_token = _token(stack, cid, first)
    assert first_token.status_code == 200 and _cases(stack, first_token) == 200
    irina.click("main a.button")
    irina.wait_for_url(f"**/backoffice/integration/clients/{cid}")
    assert first not in irina.content()  # shown once only
    assert_accessible(irina)

    irina.fill('input[name="label"]', "2027")
    irina.click(f'form[action$="/clients/{cid}/secrets"] button[type="submit"]')
    irina.wait_for_selector("#the-secret")
    second = irina.inner_text("#the-secret").strip()
    second_token = _token(stack, cid, second)
    assert _cases(stack, first_token) == 200 and _cases(stack, second_token) == 200  # both during the switch
    irina.click("main a.button")
    irina.wait_for_url(f"**/backoffice/integration/clients/{cid}")
    irina.locator(f'form[action*="/clients/{cid}/secrets/"][action$="/revoke"] button').first.click()
    irina.wait_for_selector(".notice-success")
    assert _cases(stack, first_token) == 401 and _token(stack, cid, first).status_code == 401
    assert _cases(stack, second_token) == 200

    irina.fill('input[name="url"]', "https://sistem.example.md/esocial")
    irina.click(f'form[action$="/clients/{cid}/webhooks"] button[type="submit"]')
    irina.wait_for_selector("#the-secret")
    assert irina.inner_text("#the-secret").strip().startswith("whsec_")
    assert_accessible(irina)
    irina.click("main a.button")
    irina.wait_for_url(f"**/backoffice/integration/clients/{cid}")
    assert "https://sistem.example.md/esocial" in irina.inner_text("main")

    irina.click(f'form[action$="/clients/{cid}/revoke"] button')
    irina.wait_for_selector(".notice-success")
    assert _cases(stack, second_token) == 401 and _token(stack, cid, second).status_code == 401
    assert_accessible(irina)
