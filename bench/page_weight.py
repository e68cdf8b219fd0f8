"""Bytes transferred on first load of every citizen page, and again with the browser's cache warm.

    .venv/bin/python -m bench.page_weight [--budget-kb 150]

Starts the embedded default (``devstack.Stack``: portal, development MPass, registry simulator, inbox) on
free ports in a temporary folder, logs a demo citizen in through MPass in headless Chromium, makes an
application, and then opens each citizen page in a *fresh* browser context (empty cache, the same login)
and records, through the DevTools protocol, every response's bytes on the wire (``encodedDataLength``:
headers and body as received).  The same page is then loaded a second time in that context, as on a
return visit: the fingerprinted CSS and JavaScript come from the cache without asking (one-year
``immutable`` cache), so only the page itself travels.

The embedded default serves without compression; a production proxy compresses text (gzip), so the table
also shows what the same responses weigh gzipped (``gzip KB``, computed here from the bodies).  The live
status stream of an application page (Server-Sent Events) is not part of the first load and is left out.

Prints one line per page and the totals; exits with status 1 if a page weighs more than the budget on
first load (uncompressed), so the figure can gate a release.  Nothing is asserted about time.
"""
from __future__ import annotations

import argparse
import gzip
import re
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CITIZEN = "2005001000017"  # Ion Rusu (demo): an application with a newborn, so every kind of step appears


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Load:
    bytes: int = 0
    gzip_bytes: int = 0
    requests: int = 0
    from_cache: int = 0
    kinds: dict = field(default_factory=dict)


def measure(context, url: str) -> Load:
    """Open ``url`` in a new page of ``context``; what went over the network until the page loaded."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    requests: dict[str, dict] = {}
    load = Load()

    def response(event):
        r = event["response"]
        requests.setdefault(event["requestId"], {}).update(
            mime=r.get("mimeType", ""), cached=r.get("fromDiskCache") or r.get("fromMemoryCache"))

    def finished(event):
        requests.setdefault(event["requestId"], {})["bytes"] = event["encodedDataLength"]

    def served_from_cache(event):
        requests.setdefault(event["requestId"], {})["cached"] = True

    cdp.on("Network.responseReceived", response)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.requestServedFromCache", served_from_cache)
    bodies = []
    page.on("response", lambda r: bodies.append(r))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    for info in requests.values():
        if info.get("mime") == "text/event-stream":
            continue
        if info.get("cached"):
            load.from_cache += 1
            continue
        if "bytes" in info:
            load.bytes += info["bytes"]
            load.requests += 1
            kind = info.get("mime", "?").split("/")[-1]
            load.kinds[kind] = load.kinds.get(kind, 0) + info["bytes"]
    for r in bodies:
        if r.headers.get("content-type", "").startswith("text/event-stream") or r.status in (301, 302, 303, 304):
            continue
        try:
            body = r.body()
        except Exception:  # noqa: BLE001 - a response served from the cache has no body to read here
            continue
        headers = sum(len(k) + len(v) + 4 for k, v in r.headers.items())
        load.gzip_bytes += headers + len(gzip.compress(body, 6))
    page.close()
    return load


def walk(page, portal: str, benefits: list[str]) -> list[str]:
    """Start an application for ``benefits`` and answer every step up to the check page; the steps' paths."""
    page.goto(portal + "/apply")
    for code in benefits:
        page.check(f'input[name="benefits"][value="{code}"]')
    page.click("main form button.primary")
    page.wait_for_url(re.compile(r"/steps/about_you$"))
    steps = []
    for _ in range(12):
        steps.append(page.url[len(portal):])
        if page.url.endswith("/steps/check"):
            return steps
        current = page.url
        for radio in page.locator('input[type="radio"][value="yes"]').all():
            radio.check()
        child = page.locator('input[type="radio"][name="child_idnp"]')
        if child.count():
            child.first.check()
        if page.locator('input[name="remittances"]').count():
            page.fill('input[name="remittances"]', "0")
        heating = page.locator('input[name="heating_source"][value="gas"]')
        if heating.count():
            heating.check()
        page.click("main form button.primary")
        page.wait_for_url(lambda url: url != current)
    raise RuntimeError("the form never reached the check page")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_weight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-kb", type=float, default=150.0)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.WARNING)
    from playwright.sync_api import sync_playwright

    from devstack.stack import Ports, Stack

    instance = Path(tempfile.mkdtemp(prefix="esocial-weight-"))
    ports = Ports(*(free_port() for _ in range(5)))
    stack = Stack(instance, ports).start()
    for noisy in ("werkzeug", "devstack", "esocial", "portal"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    portal = stack.url("portal")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            login_ctx = browser.new_context(locale="ro-RO")
            page = login_ctx.new_page()
            page.goto(portal + "/auth/login")
            page.click(f'button[name="idnp"][value="{CITIZEN}"]')
            page.wait_for_selector("nav form[action$='/auth/logout']")
            # A draft walked to its last step (every step page is measured), and a sent application.
            steps = walk(page, portal, ["social_aid", "birth_allowance"])
            walk(page, portal, ["cold_season_aid"])
            page.check('input[name="declaration"]')
            page.click('main form[action$="/submit"] button.primary')
            page.wait_for_url(re.compile(r"/receipt$"))
            ref = page.url.split("/")[-2]
            state = login_ctx.storage_state()

            pages = ["/", "/benefits", "/benefits/social_aid", "/status", "/apply", "/applications",
                     f"/applications/{ref}", f"/applications/{ref}/receipt", *steps, "/notifications", "/my-data",
                     "/my-data/access", "/account", "/account/notifications", "/representation/",
                     "/representation/mandates", "/representation/mandates/new", "/privacy/"]
            print(f"First load of every citizen page (empty cache, logged in as a demo citizen), "
                  f"budget {args.budget_kb:.0f} KB")
            print(f"{'page':58} {'first KB':>9} {'gzip KB':>8} {'req':>4} {'again KB':>9} {'cached':>6}")
            over, first_total, again_total = [], 0, 0
            for path in pages:
                ctx = browser.new_context(locale="ro-RO", storage_state=state)
                first = measure(ctx, portal + path)
                again = measure(ctx, portal + path)
                ctx.close()
                first_total += first.bytes
                again_total += again.bytes
                label = re.sub(r"/applications/[^/]+/steps", "/applications/<draft>/steps", path)
                label = re.sub(r"/applications/[A-Za-z0-9_-]{8,}", "/applications/<ref>", label)
                flag = "" if first.bytes <= args.budget_kb * 1024 else "  OVER BUDGET"
                if flag:
                    over.append(label)
                print(f"{label:58} {first.bytes / 1024:9.1f} {first.gzip_bytes / 1024:8.1f} {first.requests:4d} "
                      f"{again.bytes / 1024:9.1f} {again.from_cache:6d}{flag}")
            n = len(pages)
            print(f"{'average':58} {first_total / n / 1024:9.1f} {'':>8} {'':>4} {again_total / n / 1024:9.1f}")
            print(f"return visits transfer {again_total / first_total:.0%} of first loads "
                  f"(static files come from the cache, unrequested)")
            print("within budget" if not over else f"over budget: {', '.join(over)}")
            browser.close()
    finally:
        stack.stop()
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
