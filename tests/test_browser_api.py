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
    irina.goto(f"{stack.portal}/backoffice/integration/")
    assert "demo-atas-centru" in irina.inner_text("main") and "127.0.0.1:9/hook" in irina.inner_text("main")
    assert_accessible(irina)

    dumitru = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()  # a phone
    mpass_login(dumitru, stack.portal, DUMITRU, assert_accessible)
    dumitru.goto(f"{stack.portal}/ministry/")
    assert dumitru.locator("main svg").count() >= 6 and dumitru.locator("main table").count() >= 6
    assert_accessible(dumitru)
    dumitru.select_option('select[name="benefit"]', "social_aid")
    dumitru.click("main form.filters button")
    dumitru.wait_for_url("**benefit=social_aid**")
    assert_accessible(dumitru)
    csv_answer = dumitru.request.get(f"{stack.portal}/ministry/export.csv")
    assert csv_answer.ok and csv_answer.text().startswith("figure,dimension,key,measure,value")
