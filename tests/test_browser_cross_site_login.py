"""Login when MPass is another site: the portal is reached as ``localhost``, the development MPass as
``127.0.0.1``.  Chromium then withholds the portal's SameSite=Lax cookies on the IdP's POST to the ACS, exactly
as with the real MPass, and the login must still work (the request is matched server-side, not by cookie)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from browser_fixtures import CHROMIUM_ARGS, CHROMIUM, ROOT, _wait  # noqa: F401
from conftest import free_port

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

NATALIA = "2005001000028"


@pytest.fixture(scope="module")
def cross_site_stack(tmp_path_factory):
    instance = tmp_path_factory.mktemp("cross-site")
    ports = {name: free_port() for name in ("portal", "idp", "registry", "inbox", "smtp")}
    args = [sys.executable, "-m", "devstack", "--instance", str(instance), "--host-name", "localhost",
            "--idp-host-name", "127.0.0.1"]
    for name, port in ports.items():
        args += [f"--{name}-port", str(port)]
    log = open(instance / "stack.log", "w")
    process = subprocess.Popen(args, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    portal, idp = f"http://localhost:{ports['portal']}", f"http://127.0.0.1:{ports['idp']}"
    try:
        _wait(f"{portal}/healthz", process)
        _wait(f"{idp}/meta/saml", process)
        yield portal, idp
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_login_works_when_the_idp_is_another_site(cross_site_stack, browser):
    portal, idp = cross_site_stack
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    acs_cookies = []
    page.on("request", lambda r: acs_cookies.append(r.headers.get("cookie")) if r.url.endswith("/auth/acs") else None)
    page.goto(portal + "/")
    assert any(c["name"] == "esocial_session" for c in context.cookies(portal))  # the portal set its cookie
    page.click('nav a[href^="/auth/login"]')
    page.wait_for_url(re.compile(re.escape(idp) + r"/login/choose/"))
    page.click(f'button[name="idnp"][value="{NATALIA}"]')
    page.wait_for_url(re.compile(re.escape(portal) + r"/applications"))
    assert "Natalia Ceban" in page.locator("nav").inner_text()
    # The POST to the ACS came from another site: the browser sent no portal cookie with it.
    assert acs_cookies and not any(c and "esocial_session" in c for c in acs_cookies), acs_cookies
    context.close()


def test_a_forged_answer_from_the_other_site_is_refused(cross_site_stack, browser):
    portal, idp = cross_site_stack
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(portal + "/auth/login")
    page.wait_for_url(re.compile(re.escape(idp) + r"/login/choose/"))
    page.click("button.forged-button")
    page.wait_for_url(re.compile(re.escape(portal) + r"/auth/acs"))
    assert "You have not been logged in" in page.inner_text("main")
    context.close()
