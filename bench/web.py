"""``python -m bench.web``: the web app in Chromium against the local CRM (after ``make web``). Prints the
JavaScript the first page loads (gzip; goal <= 150 KB), and the time from navigation to an interactive
contact list in a tenant with 10,000 contacts (goal <= 1 s) and to a board of 500 open deals (goal <= 1.5 s).

"Interactive" is the first row (or deal card) on screen, rendered by the app from the API's answer: the
page's own ``performance.now()`` at the DOM change that added it (a MutationObserver in the page: a
Playwright wait polls, and would add up to half a second), counted from the navigation's start. The median
of the runs.
The JavaScript counted is every script the contacts page loaded, those loaded after its first render too.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
from urllib.parse import urlparse

import requests

from bench.api import Api, new_tenant_api
from bench.endpoints import load_dataset

CONTACT_ROW = "table tbody tr"
# A card that can be dragged: the board is drawn before its drag and drop has loaded.
DEAL_CARD = "[data-dnd=ready] [data-testid=deal-card]"
# In every page, before its scripts: when each selector first matches, by the page's clock.
FIRST_SEEN = (
    "window.__firstSeen = {};"
    "new MutationObserver(() => {"
    f"  for (const s of {json.dumps([CONTACT_ROW, DEAL_CARD])})"
    "    if (!(s in window.__firstSeen) && document.querySelector(s))"
    "      window.__firstSeen[s] = performance.now();"
    "}).observe(document, {childList: true, subtree: true});"
)
GOALS = {"first-page JavaScript (KB gzip)": 150.0, "contacts list (ms)": 1000.0, "deals board (ms)": 1500.0}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts of the tenant (default 10000)")
    parser.add_argument("--deals", type=int, default=500, help="open deals of the tenant (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="navigations measured per page (default 5)")
    parser.add_argument(
        "--url",
        help="measure a running CRM (`crm dev --data DIR`) instead of starting one; with --api-key. Its "
        "data outlives the run, so a large tenant is loaded once (--load-only) and measured when the "
        "machine is idle",
    )
    parser.add_argument("--api-key", help="with --url: the key of the tenant to measure (or to load)")
    parser.add_argument(
        "--load-only", action="store_true", help="with --url: load the contacts and deals, measure nothing"
    )
    args = parser.parse_args(argv)
    if bool(args.url) != bool(args.api_key) or (args.load_only and not args.url):
        parser.error("--url and --api-key go together; --load-only needs them")
    return args


def _load(api: Api, contacts: int, deals: int) -> None:
    print(f"loading {contacts} contacts and {deals} deals ...", flush=True)
    dataset = load_dataset("web", api, contacts, max(2, min(100, contacts // 100)), deals, resume=True)
    print(f"loaded in {dataset.load_seconds:.0f} s", flush=True)


def _measure(api: Api, runs: int) -> dict[str, float]:
    """Signs in with the API key, then times the contact list and the board in Chromium."""
    from playwright.sync_api import sync_playwright

    from crm_local.pages import WEB_DIST
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP

    base = api.base_url
    results: dict[str, float] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=DESKTOP)
        page.add_init_script(FIRST_SEEN)
        page.goto(f"{base}/sign-in")
        page.get_by_label("API key").fill(api.api_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/contacts")

        def interactive(path: str, selector: str) -> float:
            times = []
            for _ in range(runs):
                page.goto(f"{base}{path}")
                page.locator(selector).first.wait_for()
                times.append(float(page.evaluate(f"window.__firstSeen[{json.dumps(selector)}]")))
            return statistics.median(times)

        results["contacts list (ms)"] = interactive("/contacts", CONTACT_ROW)
        scripts = page.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.js'))"
        )
        results["first-page JavaScript (KB gzip)"] = (
            sum(
                len(gzip.compress((WEB_DIST / urlparse(url).path.lstrip("/")).read_bytes(), 9))
                for url in scripts
            )
            / 1024
        )
        results["deals board (ms)"] = interactive("/deals", DEAL_CARD)
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from crm_local.pages import WEB_DIST
    from crm_local.runtime import LocalRuntime
    from tests.browser.conftest import CHROMIUM

    if not (WEB_DIST / "index.html").is_file():
        print("web/dist is not built: run `make web` first", file=sys.stderr)
        return 1
    if args.url:
        me = requests.get(
            f"{args.url}/v1/me", headers={"Authorization": f"Bearer {args.api_key}"}, timeout=30
        ).json()
        api = Api(args.url, args.api_key, me["tenant"]["id"], me["user"]["id"])
        if args.load_only:
            _load(api, args.contacts, args.deals)
            return 0
        results = _measure(api, args.runs)
    else:
        os.chdir(tempfile.mkdtemp(prefix="crm-web-bench-"))  # the runtime's files stay out of the work tree
        runtime = LocalRuntime(port=0, state_file=None)
        runtime.start()
        # The relay publishes the bulk load's events in the same process, taking the CPU (and the GIL) the
        # gateway needs; a user's page never waits for it, so it is stopped, as `make bench` stops it.
        runtime.relay.stop()
        try:
            api = new_tenant_api(runtime.api_url, "Web bench")
            _load(api, args.contacts, args.deals)
            results = _measure(api, args.runs)
        finally:
            runtime.stop()
    print(f"\nweb app in {CHROMIUM}: the tenant's contacts and deals as loaded, median of {args.runs} runs")
    over = False
    for name, value in results.items():
        goal = GOALS[name]
        over = over or value > goal
        print(f"  {name:<34} {value:>8.1f}   goal <= {goal:g}{'   OVER' if value > goal else ''}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
