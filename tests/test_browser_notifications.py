"""The notification pages in Chromium against the running stack, each checked with axe-core.

A citizen sets their preferences on a phone, by keyboard; the system administrator finds an SMS
the gateway refused on the dead-letter page, reads its attempts and sends it again.
"""
from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.core import clock
from portal.notifications.models import Notification
from test_browser_journey import mpass_login

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

ION = "2005001000017"
ANA = "2005001000095"  # system administrator
PHONE = {"width": 390, "height": 844}


def stack_engine(stack):
    """The stack's own database (always a SQLite file in its instance folder)."""
    args = list(stack.process.args)
    return create_engine(f"sqlite:///{args[args.index('--instance') + 1]}/esocial.db")


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_preferences_on_a_phone_by_keyboard(stack, browser, assert_accessible):
    ctx = browser.new_context(locale="ro-RO", viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    mpass_login(page, stack.portal, ION, assert_accessible)
    page.goto(stack.portal + "/notifications")
    page.click('main a[href="/account/notifications"]')
    page.wait_for_selector('input[name="notify_sms"]')
    assert page.is_checked('input[name="notify_sms"]') and page.is_checked('input[name="notify_email"]')
    assert_accessible(page)
    assert no_sideways_scrolling(page)

    # By keyboard: no more SMS, messages in English, save.
    page.focus('input[name="notify_sms"]')
    page.keyboard.press("Space")
    page.focus('input[name="language"][value="en"]')
    page.keyboard.press("Space")
    page.focus("main form button.primary")
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice-success")
    assert page.get_attribute("html", "lang") == "en"
    assert not page.is_checked('input[name="notify_sms"]')
    assert page.is_checked('input[name="language"][value="en"]')
    assert_accessible(page)

    # SMS without a number: the error summary links to the field.
    page.fill('input[name="phone"]', "")
    page.check('input[name="notify_sms"]')
    page.click("main form button.primary")
    page.wait_for_selector('.error-summary a[href="#phone"]')
    assert_accessible(page)
    assert no_sideways_scrolling(page)

    # Back as it was, for whoever logs in as Ion next.
    page.fill('input[name="phone"]', "+37369100017")
    page.check('input[name="language"][value="ro"]')
    page.click("main form button.primary")
    page.wait_for_selector(".notice-success")
    ctx.close()


def test_an_administrator_sends_a_dead_letter_again(stack, browser, assert_accessible):
    ctx = browser.new_context(locale="ro-RO")
    page = ctx.new_page()
    mpass_login(page, stack.portal, ANA, assert_accessible)
    assert page.locator('nav a[href="/admin/notifications/"]').count() == 1

    requests.post(f"{stack.inbox}/_faults", json={"mode": "refuse"}, timeout=5).raise_for_status()
    engine = stack_engine(stack)
    try:
        # A notice as a status change writes it; the stack's worker tries it, the gateway refuses the number.
        with Session(engine) as s, s.begin():
            account = s.scalar(select(Account).where(Account.idnp == ANA))
            notice = Notification(account_id=account.id, channel="sms", template="status_changed", language="ro",
                                  params={"number": "ES-2026-0000001", "benefit": "social_aid",
                                          "status": "in_review"},
                                  address=account.phone, status="pending", next_attempt_at=clock.now())
            s.add(notice)
            s.flush()
            notice_id = notice.id
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with Session(engine) as s:
                if s.get(Notification, notice_id).status == "dead":
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the worker never gave the notice up")

        page.goto(stack.portal + "/admin/notifications/")
        row = page.locator("main tbody tr", has_text="+37369100095")
        assert row.count() == 1 and "422" in row.inner_text()
        assert_accessible(page)
        page.click(f'main a[href="/admin/notifications/{notice_id}"]')
        page.wait_for_selector("main h2")
        assert "422" in page.inner_text("main")
        assert_accessible(page)

        requests.post(f"{stack.inbox}/_faults", json={"mode": "ok"}, timeout=5).raise_for_status()
        page.click("main form button.primary")  # send again
        page.wait_for_selector(".notice-success")
        [sms] = stack.wait_for_message("+37369100095", kind="sms")
        assert sms["text"].startswith("eSocial: ") and "ES-2026-0000001" in sms["text"]
        page.goto(stack.portal + "/admin/notifications/")
        assert page.locator("main tbody tr", has_text="+37369100095").count() == 0
        assert_accessible(page)
    finally:
        requests.post(f"{stack.inbox}/_faults", json={"mode": "ok"}, timeout=5)
        engine.dispose()
        ctx.close()
