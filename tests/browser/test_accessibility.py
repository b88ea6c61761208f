"""axe-core (from web/node_modules, installed by `make web`) finds no serious or critical violation on the
main pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:160] for n in v["nodes"]][:4]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_have_no_serious_violations(page: Page, base_url: str, client: ApiClient) -> None:
    assert AXE.exists(), f"{AXE} is missing: `make web` installs it"
    contact = client.create(
        "contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}
    )
    twin = client.create(
        "contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@byron.example"}
    )
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    deal = client.create("deals", {"name": "Engine", "pipeline_id": pipeline["id"], "amount": "100.00"})
    # A target no event reaches (no export is made): its delivery log stays empty and quiet.
    target = client.create(
        "event-targets",
        {
            "type": "webhook",
            "url": "http://127.0.0.1:9/hook",
            "secret": "a-long-enough-secret",
            "event_types": ["export.completed"],
        },
    )
    client.create("event-sources", {"source": "partner.acme", "description": "Acme's lead forms"})
    client.create(
        "sla-policies",
        {
            "name": "Standard support",
            "targets": {"normal": {"first_response_minutes": 60, "resolution_minutes": 480}},
        },
    )
    ticket = client.create("tickets", {"subject": "The invoice is wrong", "contact_id": contact["id"]})
    line = {"description": "Engine service", "quantity": "2", "unit_price": "99.95", "tax_rate": "0.2"}
    quote = client.create("quotes", {"deal_id": deal["id"], "currency": "EUR", "line_items": [line]})
    # A contract with an instalment past due and a payment: the plan shows each state, the payments a row.
    buyer = client.create("companies", {"name": "Engines Ltd"})
    plan = [{"due_date": "2026-01-01", "amount": "600"}, {"due_date": "2099-01-01", "amount": "400"}]
    contract = client.create(
        "contracts",
        {
            "company_id": buyer["id"],
            "value": "1000",
            "currency": "EUR",
            "start_date": "2026-01-01",
            "end_date": "2099-12-31",
            "payment_plan": plan,
            "status": "active",
        },
    )
    client.create("payments", {"contract_id": contract["id"], "amount": "100", "currency": "EUR"})
    # A property of the tenant's own: the contact's page shows it, and its form has an input for it.
    tier = {
        "name": "tier",
        "label": "Tier",
        "type": "multi_enum",
        "options": [{"value": "gold", "label": "Gold"}],
    }
    assert client.post("/v1/properties/contacts", tier).status_code == 201
    page.goto(f"{base_url}/sign-in")
    expect(page.get_by_label("API key")).to_be_visible()
    found = {"/sign-in": serious_violations(page)}
    sign_in(page, base_url, client)
    pages = {
        "/contacts": lambda: page.get_by_role("table", name="Contacts"),
        f"/contacts/{contact['id']}": lambda: page.get_by_test_id("timeline"),
        "/companies": lambda: page.get_by_role("link", name="Engines Ltd"),
        "/deals": lambda: page.get_by_test_id("deal-card"),
        f"/deals/{deal['id']}": lambda: page.get_by_test_id("timeline"),
        "/activities": lambda: page.get_by_role("region", name="Overdue (0)"),
        "/settings": lambda: page.get_by_role("region", name="Pipelines").get_by_text("Qualified"),
        "/settings/users": lambda: page.get_by_role("table", name="Users"),
        "/settings/teams": lambda: page.get_by_text("No teams yet"),
        "/settings/api-keys": lambda: page.get_by_role("table", name="API keys"),
        "/settings/pipelines": lambda: page.get_by_role("article", name=pipeline["name"]),
        "/settings/event-targets": lambda: page.get_by_role("table", name="Event targets"),
        f"/settings/event-targets/{target['id']}": lambda: page.get_by_text("Nothing delivered"),
        "/settings/event-sources": lambda: page.get_by_role("table", name="Event sources"),
        "/settings/audit": lambda: page.get_by_role("table", name="Audit events"),
        "/settings/properties": lambda: page.get_by_role("table", name="Properties of contacts"),
        "/settings/imports": lambda: page.get_by_text("No imports yet."),
        "/settings/exports": lambda: page.get_by_text("No exports yet."),
        "/tickets": lambda: page.get_by_role("table", name="Tickets"),
        f"/tickets/{ticket['id']}": lambda: page.get_by_test_id("timeline"),
        "/tickets/articles": lambda: page.get_by_text("No articles yet"),
        "/settings/sla-policies": lambda: page.get_by_role("article", name="Standard support"),
        "/campaigns": lambda: page.get_by_text("No campaigns yet."),
        "/campaigns?campaign=new": lambda: page.get_by_role("form", name="New campaign"),
        "/contacts?stage=lead&tag=vip": lambda: page.get_by_text("No contact matches these filters"),
        "/contacts/duplicates": lambda: page.get_by_test_id("duplicate-pair"),
        f"/contacts/merge?a={contact['id']}&b={twin['id']}": lambda: page.get_by_role(
            "form", name="Merge choices"
        ),
        "/companies/duplicates": lambda: page.get_by_text("No likely duplicates"),
        "/quotes": lambda: page.get_by_role("table", name="Quotes"),
        "/quotes/products": lambda: page.get_by_text("No products yet."),
        f"/quotes/{quote['id']}": lambda: page.get_by_role("region", name="Quote builder"),
        f"/companies/{buyer['id']}": lambda: page.get_by_test_id("receivables-row"),
        "/contracts": lambda: page.get_by_role("table", name="Contracts"),
        "/contracts/new": lambda: page.get_by_role("button", name="Create contract"),
        f"/contracts/{contract['id']}": lambda: page.get_by_test_id("payment-row"),
    }
    for path, loaded in pages.items():
        page.goto(f"{base_url}{path}")
        expect(loaded()).to_be_visible()
        found[path] = serious_violations(page)
    # What opens on a page: the bulk actions of selected rows, the new deal form (its type-ahead open).
    page.goto(f"{base_url}/contacts")
    page.get_by_role("checkbox", name="Select all loaded contacts").check()
    expect(page.get_by_role("region", name="Bulk actions")).to_be_visible()
    found["/contacts (bulk actions)"] = serious_violations(page)
    page.goto(f"{base_url}/contacts/{contact['id']}")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.get_by_role("group", name="Tier").get_by_role("checkbox", name="Gold")).to_be_visible()
    found["/contacts/{id} (edit, a property of the tenant's)"] = serious_violations(page)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("region", name="Privacy").get_by_role("button", name="Erase this person").click()
    expect(page.get_by_role("dialog", name="Erase this person?")).to_be_visible()
    found["/contacts/{id} (privacy, the erase dialog)"] = serious_violations(page)
    page.goto(f"{base_url}/settings/imports")
    page.get_by_role("button", name="New import").click()
    expect(page.get_by_label("CSV file")).to_be_visible()
    found["/settings/imports (new import)"] = serious_violations(page)
    page.goto(f"{base_url}/deals")
    page.get_by_role("button", name="New deal").click()
    page.get_by_role("combobox", name="Contact").fill("Ada")
    expect(page.get_by_role("listbox", name="Contact").get_by_role("option").first).to_be_visible()
    expect(page.get_by_test_id("board-chart")).to_be_visible()
    found["/deals (new deal, chart)"] = serious_violations(page)
    assert not any(found.values()), {path: v for path, v in found.items() if v}
