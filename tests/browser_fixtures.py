"""Browser test fixtures: the whole embedded stack in its own process, and headless Chromium.

The stack is started exactly as the README's run command starts it
(``python -m devstack``), on free ports and in a temporary instance folder.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conftest import free_port

CHROMIUM = os.environ.get("ESOCIAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningStack:
    portal: str
    idp: str
    registry: str
    inbox: str
    process: subprocess.Popen
    instance: Path | None = None  # the stack's instance folder (its SQLite database: esocial.db)

    def messages(self, to: str, kind: str = "email") -> list[dict]:
        response = requests.get(f"{self.inbox}/api/messages", params={"to": to, "kind": kind}, timeout=5)
        response.raise_for_status()
        return response.json()["messages"]

    def wait_for_message(self, to: str, kind: str = "email", count: int = 1, timeout: float = 15,
                         containing: str | None = None) -> list[dict]:
        """All messages to ``to`` once there are ``count`` of them (only those whose text holds ``containing``
        are counted when it is given: other notices may arrive in any order around the one awaited)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(to, kind)
            if len([m for m in found if containing is None or containing in m.get("text", "")]) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no {kind} to {to} within {timeout}s")


def _wait(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not shutil.which("xmlsec1"):
        pytest.fail("xmlsec1 is missing: run `make setup` (the development IdP signs with it)")
    instance = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("portal", "idp", "registry", "inbox", "smtp")}
    args = [sys.executable, "-m", "devstack", "--instance", str(instance)]
    for name, port in ports.items():
        args += [f"--{name}-port", str(port)]
    env = dict(os.environ)
    # The stack runs on its own SQLite file even when the suite runs against PostgreSQL.
    log = open(instance / "stack.log", "w")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = RunningStack(portal=f"http://localhost:{ports['portal']}", idp=f"http://localhost:{ports['idp']}",
                           registry=f"http://localhost:{ports['registry']}", inbox=f"http://localhost:{ports['inbox']}",
                           process=process, instance=instance)
    try:
        _wait(f"{running.portal}/healthz", process)
        _wait(f"{running.idp}/meta/saml", process)
        _wait(f"{running.inbox}/healthz", process)
        yield running
    except Exception:
        log.flush()
        print((instance / "stack.log").read_text()[-5000:])
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot():
    """Save a screenshot when ESOCIAL_SCREENSHOTS names a folder (how the README's pictures are made)."""
    folder = os.environ.get("ESOCIAL_SCREENSHOTS")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take


WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="session")
def assert_accessible():
    """Check a page as it is now with axe-core: no WCAG 2.1 A/AA violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page) -> None:
        violations = axe.run(page, options=WCAG).response.get("violations", [])
        assert not violations, page.url + "\n" + "\n".join(
            f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in violations)

    return check
