"""Sign in with an API key, create a contact through the form, find it with Search, log a note on it."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient


def test_create_a_contact_and_find_it_with_search(page: Page, base_url: str, client: ApiClient) -> None:
    surname = f"Quintero{secrets.token_hex(3)}"
    client.create("contacts", {"first_name": "Other", "last_name": "Person", "email": "other@acme.example"})
    sign_in(page, base_url, client)
    me = client.get("/v1/me").json()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text(me["tenant"]["name"])
    expect(page.get_by_role("link", name="Other Person")).to_be_visible()

    page.get_by_role("button", name="New contact").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill(surname)
    email = page.get_by_label("Email")
    email.fill("ada-at-example")
    page.get_by_role("button", name="Create contact").click()
    # The API's problem details, next to the field they name; nothing was created.
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("is not a valid email address")).to_be_visible()
    assert client.get("/v1/contacts", params={"q": surname}).json()["items"] == []

    email.fill(f"ada@{surname.lower()}.example")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name=f"Ada {surname}", level=1)).to_be_visible()
    (saved,) = client.get("/v1/contacts", params={"q": surname}).json()["items"]
    assert saved["email"] == f"ada@{surname.lower()}.example"
    expect(page).to_have_url(f"{base_url}/contacts/{saved['id']}")

    # A quick note on the contact shows on its timeline.
    page.get_by_label("Subject").fill("Met at the fair")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Met at the fair")

    page.get_by_role("navigation").get_by_role("link", name="Contacts").click()
    page.get_by_label("Search").fill(surname[:9])
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("link", name=f"Ada {surname}")).to_be_visible()
    expect(table.get_by_role("link", name="Other Person")).to_have_count(0)


def test_load_more_and_edit_at_the_version_read(page: Page, base_url: str, client: ApiClient) -> None:
    inputs = [
        {"first_name": f"Bulk{n:02d}", "last_name": "Row", "email": f"bulk{n}@acme.example"}
        for n in range(30)
    ]
    created = client.post("/v1/contacts/batch/create", {"inputs": inputs}).json()["results"]
    assert [result["status"] for result in created] == [201] * 30
    sign_in(page, base_url, client)
    rows = page.get_by_role("table", name="Contacts").locator("tbody tr")
    expect(rows).to_have_count(25)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(30)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    contact_id = created[0]["id"]
    page.goto(f"{base_url}/contacts/{contact_id}")
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Job title").fill("Buyer")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Buyer")).to_be_visible()
    saved = client.get(f"/v1/contacts/{contact_id}").json()
    assert saved["title"] == "Buyer"

    # Changed elsewhere while the form is open: the save is refused (412) and says so; nothing is lost.
    page.get_by_role("button", name="Edit").click()
    client.patch(f"/v1/contacts/{contact_id}", {"phone": "+1 555 0100"})
    page.get_by_label("Job title").fill("Head of buying")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("changed since you opened it")
    expect(page.get_by_label("Job title")).to_have_value("Head of buying")
    assert client.get(f"/v1/contacts/{contact_id}").json()["title"] == "Buyer"
    # Resolved: the current version under the user's change; saving keeps both changes.
    page.get_by_role("button", name="Load the current version").click()
    expect(page.get_by_label("Phone")).to_have_value("+1 555 0100")
    expect(page.get_by_label("Job title")).to_have_value("Head of buying")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Head of buying")).to_be_visible()
    final = client.get(f"/v1/contacts/{contact_id}").json()
    assert (final["title"], final["phone"]) == ("Head of buying", "+1 555 0100")


def test_filter_contacts_and_companies_by_custom_properties(
    page: Page, base_url: str, client: ApiClient
) -> None:
    """The filter panel offers the tenant's properties with an input fitting each type (an enum's options in a
    select, a number's box); the filter is kept in the URL as the API names it, so a reload keeps it."""
    tier = {"name": "tier", "label": "Tier", "type": "enum", "options": [{"value": "gold", "label": "Gold"}]}
    tier["options"].append({"value": "silver", "label": "Silver"})
    for body in (tier, {"name": "seats", "label": "Seats", "type": "number"}):
        assert client.post("/v1/properties/contacts", body).status_code == 201
    assert client.post("/v1/properties/companies", {**tier, "options": tier["options"]}).status_code == 201
    client.create("contacts", {"first_name": "Goldie", "custom": {"tier": "gold", "seats": 3}})
    client.create("contacts", {"first_name": "Silvia", "custom": {"tier": "silver", "seats": 5}})
    client.create("companies", {"name": "Aurum", "custom": {"tier": "gold"}})
    client.create("companies", {"name": "Argent", "custom": {"tier": "silver"}})
    sign_in(page, base_url, client)
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("link", name="Silvia")).to_be_visible()

    filters = page.get_by_role("search", name="Filter contacts")
    filters.get_by_label("Filter by property").select_option(label="Tier")
    filters.get_by_label("Tier", exact=True).select_option(label="Gold")
    expect(table.get_by_role("link", name="Silvia")).to_have_count(0)
    expect(table.get_by_role("link", name="Goldie")).to_be_visible()
    expect(page).to_have_url(f"{base_url}/contacts?custom.tier=gold")
    page.reload()
    expect(filters.get_by_label("Tier", exact=True)).to_have_value("gold")
    expect(table.get_by_role("link", name="Silvia")).to_have_count(0)
    # A number's box; two property filters together narrow to none.
    filters.get_by_label("Filter by property").select_option(label="Seats")
    filters.get_by_role("spinbutton", name="Seats").fill("5")
    expect(page.get_by_text("No contact matches these filters.")).to_be_visible()
    filters.get_by_role("button", name="Remove the Tier filter").click()
    expect(table.get_by_role("link", name="Silvia")).to_be_visible()
    expect(table.get_by_role("link", name="Goldie")).to_have_count(0)

    page.goto(f"{base_url}/companies?custom.tier=silver")
    companies = page.get_by_role("table", name="Companies")
    expect(companies.get_by_role("link", name="Argent")).to_be_visible()
    expect(companies.get_by_role("link", name="Aurum")).to_have_count(0)
    expect(
        page.get_by_role("search", name="Filter companies").get_by_label("Tier", exact=True)
    ).to_have_value("silver")
