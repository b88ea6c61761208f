"""Screenshots of the web app's main pages at desktop and phone width, for the README:
``.venv/bin/python -m tests.browser.screenshots`` (after ``make web``) writes docs/screenshots/; with page
names (``... screenshots deal settings-event-sources``), only those pages'.

A local runtime of its own (in a temporary folder), a tenant filled by ``crm seed``'s code, Chromium by path.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {
    "contacts": ("/contacts", lambda page: page.get_by_role("table", name="Contacts")),
    "contacts-filtered": ("/contacts?stage=lead", lambda page: page.get_by_role("table", name="Contacts")),
    "contact": (None, lambda page: page.get_by_test_id("timeline")),
    "duplicates": ("/contacts/duplicates", lambda page: page.get_by_test_id("duplicate-pair").first),
    "merge": (None, lambda page: page.get_by_role("form", name="Merge choices")),
    "deals": ("/deals", lambda page: page.get_by_test_id("deal-card").first),
    "deal": (None, lambda page: page.get_by_test_id("timeline")),
    "activities": ("/activities", lambda page: page.get_by_role("heading", name="Due today", exact=False)),
    "companies": ("/companies", lambda page: page.get_by_role("table", name="Companies")),
    "settings": ("/settings", lambda page: page.get_by_role("region", name="Pipelines")),
    "settings-users": ("/settings/users", lambda page: page.get_by_role("table", name="Users")),
    "settings-api-keys": ("/settings/api-keys", lambda page: page.get_by_role("table", name="API keys")),
    "settings-pipelines": ("/settings/pipelines", lambda page: page.get_by_role("article").first),
    "settings-event-sources": (
        "/settings/event-sources",
        lambda page: page.get_by_role("table", name="Event sources"),
    ),
    "settings-event-targets": (
        "/settings/event-targets",
        lambda page: page.get_by_role("table", name="Event targets"),
    ),
    "settings-audit": ("/settings/audit", lambda page: page.get_by_role("table", name="Audit events")),
    "settings-properties": (
        "/settings/properties",
        lambda page: page.get_by_role("table", name="Properties of contacts"),
    ),
    "settings-imports": ("/settings/imports", lambda page: page.get_by_role("table", name="Past imports")),
    "tickets": ("/tickets", lambda page: page.get_by_role("table", name="Tickets")),
    "ticket": (None, lambda page: page.get_by_test_id("public-reply").first),
    "settings-sla-policies": ("/settings/sla-policies", lambda page: page.get_by_role("article").first),
    "campaigns": ("/campaigns", lambda page: page.get_by_role("table", name="Campaigns")),
    "campaign": (None, lambda page: page.get_by_test_id("campaign-funnel")),
    "campaign-editor": (None, lambda page: page.get_by_test_id("campaign-preview")),
}
# The campaign pages open from the list by the names add_campaigns gives them.
CAMPAIGN_LINKS = {"campaign": "Spring newsletter", "campaign-editor": "Summer launch"}


def shoot(page: Page, api: str, api_key: str, width: str, names: list[str]) -> None:
    page.goto(f"{api}/sign-in")
    if "sign-in" in names:
        page.screenshot(path=OUT / f"sign-in-{width}.png")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{api}/contacts")
    for name, (path, loaded) in PAGES.items():
        if name not in names:
            continue
        if name == "contact":  # the first contact of the list
            page.goto(f"{api}/contacts")
            page.get_by_role("table", name="Contacts").get_by_role("link").first.click()
        elif name == "deal":  # the first deal of the board
            page.goto(f"{api}/deals")
            page.get_by_test_id("board").get_by_role("link", name="Open").first.click()
        elif name == "ticket":  # the first ticket of the queue
            page.goto(f"{api}/tickets")
            page.get_by_role("table", name="Tickets").get_by_role("link").first.click()
        elif name == "merge":  # the first pair of duplicates
            page.goto(f"{api}/contacts/duplicates")
            page.get_by_role("link", name="Compare and merge").first.click()
        elif name in CAMPAIGN_LINKS:
            page.goto(f"{api}/campaigns")
            page.get_by_role("link", name=CAMPAIGN_LINKS[name]).click()
        else:
            page.goto(f"{api}{path}")
        expect(loaded(page)).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / f"{name}-{width}.png")


def add_event_target(api: str, api_key: str) -> None:
    """A partner's webhook for the settings pages to show (no export is made: nothing is sent to it)."""
    from tests.support.client import ApiClient

    made = ApiClient(api, api_key).post(
        "/v1/event-targets",
        {
            "type": "webhook",
            "url": "http://127.0.0.1:9/partner/crm-events",
            "secret": "a-long-enough-secret",
            "event_types": ["export.completed"],
            "description": "Partner ERP",
        },
    )
    assert made.status_code == 201, made.text


def add_event_source(api: str, api_key: str) -> None:
    """A partner allowed to send the CRM events, for the event sources page to show."""
    from tests.support.client import ApiClient

    made = ApiClient(api, api_key).post(
        "/v1/event-sources",
        {"source": "partner.webforms", "account_id": "123456789012", "description": "Website lead forms"},
    )
    assert made.status_code == 201, made.text


def add_properties_and_an_import(api: str, api_key: str) -> None:
    """Two properties of contacts, and an import of a few rows (one refused) run to completion."""
    import requests

    from tests.support.client import ApiClient
    from tests.support.waiting import eventually

    client = ApiClient(api, api_key)
    for definition in (
        {
            "name": "tier",
            "label": "Tier",
            "type": "enum",
            "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
        },
        {"name": "seats", "label": "Seats", "type": "number", "description": "Licensed seats"},
    ):
        made = client.post("/v1/properties/contacts", definition)
        assert made.status_code == 201, made.text
    job = client.post("/v1/imports", {"object": "contacts", "on_duplicate": "update"}).json()
    rows = "First Name,Last Name,Email\nKatherine,Johnson,katherine@nasa.example\nAlan,Turing,not-an-email\n"
    assert requests.put(job["upload_url"], data=rows.encode(), timeout=10).status_code == 200
    status = lambda: client.get(f"/v1/imports/{job['id']}").json()["status"]  # noqa: E731
    assert eventually(lambda: status() == "completed", timeout=60)


def add_duplicates(api: str, api_key: str) -> None:
    """A pair the duplicates page finds (the same phone), for its screenshot and the merge view's."""
    from tests.support.client import ApiClient

    client = ApiClient(api, api_key)
    client.create(
        "contacts",
        {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example", "phone": "+1 555 0199"},
    )
    client.create(
        "contacts",
        {
            "first_name": "Amazing",
            "last_name": "Grace",
            "email": "amazing@cobol.example",
            "phone": "+1 555 0199",
            "title": "Computer scientist",
            "lifecycle_stage": "customer",
        },
    )


def add_tickets(api: str, api_key: str) -> None:
    """An SLA policy and a few tickets with due times, each answered, for the queue and the ticket's page."""
    from crm_core.models import sla_policy

    from tests.support.client import ApiClient

    client = ApiClient(api, api_key)
    client.create("sla-policies", sla_policy.EXAMPLE)  # office hours in Berlin, targets per priority
    contacts = client.get("/v1/contacts", params={"limit": 3}).json()["items"]
    subjects = [
        ("The invoice total is wrong", "urgent", "complaint"),
        ("How do I export my data?", "normal", "question"),
        ("The robot arm stops mid-cycle", "high", "incident"),
    ]
    for (subject, priority, category), contact in zip(subjects, contacts, strict=False):
        ticket = client.create(
            "tickets",
            {"subject": subject, "priority": priority, "category": category, "contact_id": contact["id"]},
        )
        answered = client.post(
            f"/v1/tickets/{ticket['id']}/replies", {"body": "Thanks: we are looking into it.", "public": True}
        )
        assert answered.status_code == 201, answered.text


def add_campaigns(api: str, api_key: str) -> None:
    """A segment of newsletter readers, a campaign sent to them (a few opened and clicked it, through moto's
    SES and the tracking links), and a draft to edit."""
    import re
    from urllib.parse import urlparse

    import requests

    from tests.integration.test_campaigns import html_of, sent_to
    from tests.support.client import ApiClient
    from tests.support.waiting import eventually

    client = ApiClient(api, api_key)
    domain = "readers.example"
    people = [
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
        ("Grace", "Hopper"),
        ("Edsger", "Dijkstra"),
        ("Barbara", "Liskov"),
    ]
    for first, last in people:
        client.create(
            "contacts",
            {
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}@{domain}",
                "tags": ["newsletter"],
                "consent": {"email": "granted" if first != "Edsger" else "denied"},
            },
        )
    rule = {"property": "tags", "operator": "contains", "value": "newsletter"}
    segment = client.create("segments", {"name": "Newsletter readers", "filter": {"any": [{"all": [rule]}]}})
    body = (
        "<h2>Spring at Acme Robotics</h2><p>Hello {{ first_name }},</p>"
        "<p>Our new arm lifts twice as much.</p>"
        '<p><a href="https://acme.example/spring">See it move</a></p>'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    )
    fields = {"segment_id": segment["id"], "from": f"Acme Robotics <news@{domain}>", "body": body}
    spring = client.create("campaigns", {"name": "Spring newsletter", "subject": "Spring news", **fields})
    assert client.post(f"/v1/campaigns/{spring['id']}/send").status_code == 200
    assert eventually(
        lambda: client.get(f"/v1/campaigns/{spring['id']}").json()["status"] == "sent", timeout=60
    )
    assert eventually(lambda: len(sent_to(domain)) == 4, timeout=30)

    def local(url: str) -> str:
        return api + urlparse(url).path + (f"?{urlparse(url).query}" if urlparse(url).query else "")

    for n, message in enumerate(sent_to(domain)[:3]):
        page = html_of(message)
        opened = re.search(r'<img src="([^"]+/open)"', page)
        clicked = re.search(r'href="([^"]+/click\?u=[^"]+)"', page)
        assert opened and clicked
        requests.get(local(opened.group(1)), timeout=10)
        if n < 2:
            requests.get(local(clicked.group(1).replace("&amp;", "&")), allow_redirects=False, timeout=10)
    client.create("campaigns", {"name": "Summer launch", "subject": "Summer is coming", **fields})


def main(names: list[str]) -> None:
    from crm_core.services.tenants import create_tenant

    from crm_local.runtime import LocalRuntime
    from crm_local.seed import seed

    unknown = set(names) - {"sign-in", *PAGES}
    if unknown:
        raise SystemExit(f"no such page: {', '.join(sorted(unknown))} (pages: sign-in, {', '.join(PAGES)})")
    names = names or ["sign-in", *PAGES]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # .crm/ and anything else the runtime writes stay out of the work tree
        runtime = LocalRuntime(port=0, state_file=None)
        runtime.start()
        try:
            tenant = create_tenant("Acme Robotics")
            seed(runtime.api_url, tenant.api_key, 60)
            add_event_target(runtime.api_url, tenant.api_key)
            add_event_source(runtime.api_url, tenant.api_key)
            add_duplicates(runtime.api_url, tenant.api_key)
            add_properties_and_an_import(runtime.api_url, tenant.api_key)
            add_tickets(runtime.api_url, tenant.api_key)
            add_campaigns(runtime.api_url, tenant.api_key)
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    context = browser.new_context(viewport=viewport, locale="en-US")
                    shoot(context.new_page(), runtime.api_url, tenant.api_key, width, names)
                    context.close()
                browser.close()
        finally:
            runtime.stop()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
