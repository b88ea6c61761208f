"""Settings for the tenant's data, as an admin uses them: a property of its own defined in Settings →
Properties becomes an input of the contact form (the API's 422 for it shown at that input), is saved and shown
on the contact's page, and can be archived and restored (a rep reads the definitions: test_settings.py); a
CSV file uploaded in Settings → Imports straight to its presigned URL (another origin: the local bucket
carries the deployed bucket's CORS rule) is counted to completion, its rejected rows a link away; the
tenant's data exported in Settings → Exports to a zip a link away, and a person's data downloaded, then the
person erased, from their contact's page."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import requests
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.support.client import ApiClient


def test_admin_defines_a_property_that_contact_forms_and_pages_use(
    page: Page, base_url: str, client: ApiClient
) -> None:
    seats = client.post("/v1/properties/contacts", {"name": "seats", "label": "Seats", "type": "number"})
    assert seats.status_code == 201, seats.text
    sign_in(page, base_url, client, "/settings/properties")
    expect(page.get_by_role("table", name="Properties of contacts")).to_contain_text("Seats")
    define_a_required_tier(page, client)

    # The contact form has an input of each type; the API's 422 for each shows at its input.
    page.goto(f"{base_url}/contacts")
    page.get_by_role("button", name="New contact").click()
    contact_form = page.get_by_role("region", name="New contact")
    contact_form.get_by_label("First name").fill("Ada")
    contact_form.get_by_label("Email").fill("ada@acme.example")
    contact_form.get_by_label("Seats").fill("lots")
    contact_form.get_by_role("button", name="Create contact").click()
    expect(contact_form.get_by_label("Tier")).to_have_attribute("aria-invalid", "true")
    expect(contact_form.get_by_label("Seats")).to_have_attribute("aria-invalid", "true")
    expect(contact_form).to_contain_text("is required")
    assert client.get("/v1/contacts").json()["items"] == []
    contact_form.get_by_label("Tier").select_option("gold")
    expect(contact_form.get_by_label("Tier")).not_to_have_attribute("aria-invalid", "true")
    contact_form.get_by_label("Seats").fill("12")
    contact_form.get_by_role("button", name="Create contact").click()
    expect(page).to_have_url(re.compile(r"/contacts/[0-9A-Z]{26}$"))
    fields = page.locator("dl")
    expect(fields).to_contain_text("TierGold")
    expect(fields).to_contain_text("Seats12")
    (contact,) = client.get("/v1/contacts").json()["items"]
    assert contact["custom"] == {"tier": "gold", "seats": 12}

    # An edit sends only the value changed (the API merges it): the other stays.
    page.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_role("region", name="Edit contact").get_by_label("Tier").select_option("silver")
    page.get_by_role("button", name="Save changes").click()
    expect(fields).to_contain_text("TierSilver")
    assert client.get(f"/v1/contacts/{contact['id']}").json()["custom"] == {"tier": "silver", "seats": 12}

    # Archived, a property leaves the form; restored, it is back.
    page.goto(f"{base_url}/settings/properties")
    page.get_by_role("button", name="Archive Seats").click()
    page.get_by_role("dialog", name="Archive the property Seats?").get_by_role(
        "button", name="Archive property"
    ).click()
    expect(page.get_by_role("table", name="Properties of contacts")).not_to_contain_text("Seats")
    page.get_by_role("switch", name="Show archived").check()
    page.get_by_role("button", name="Restore Seats").click()
    page.get_by_role("dialog", name="Restore the property Seats?").get_by_role(
        "button", name="Restore property"
    ).click()
    expect(page.get_by_text("No archived properties.")).to_be_visible()
    assert client.get("/v1/properties/contacts/seats").json()["archived"] is False


def define_a_required_tier(page: Page, client: ApiClient) -> None:
    """Defines the enum property `tier` (Gold, Silver; required) in the form, after a name the API refuses."""
    page.get_by_role("button", name="New property").click()
    form = page.get_by_role("region", name="New property")
    form.get_by_label("Label").fill("Tier")
    form.get_by_label("Name").fill("Tier level")
    form.get_by_label("Type").select_option("enum")
    form.get_by_label("Options").fill("gold = Gold\nsilver")
    form.get_by_role("switch", name="Required").check()
    form.get_by_role("button", name="Create property").click()
    # The API's 422 on the name shows at the name, and nothing is defined.
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    assert [p["name"] for p in client.get("/v1/properties/contacts").json()["items"]] == ["seats"]
    assert not serious_violations(page)
    form.get_by_label("Name").fill("tier")
    form.get_by_role("button", name="Create property").click()
    tier_row = (
        page.get_by_role("table", name="Properties of contacts").get_by_role("row").filter(has_text="Tier")
    )
    expect(tier_row).to_contain_text("One of a list")
    expect(tier_row).to_contain_text("Gold, silver")
    # Edited at the listed version: the label and options change, the name and type stay.
    tier_row.get_by_role("button", name="Edit Tier").click()
    dialog = page.get_by_role("dialog", name="Edit Tier")
    expect(dialog.get_by_label("Options")).to_have_value("gold = Gold\nsilver")
    expect(dialog.get_by_label("Name")).to_have_count(0)
    dialog.get_by_label("Options").fill("gold = Gold\nsilver = Silver")
    dialog.get_by_role("button", name="Save").click()
    expect(tier_row).to_contain_text("Gold, Silver")
    (tier,) = [p for p in client.get("/v1/properties/contacts").json()["items"] if p["name"] == "tier"]
    assert (tier["type"], tier["required"], tier["options"]) == (
        "enum",
        True,
        [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    )


CSV = (
    "First Name;Last Name;Email Address\n"
    "Grace;Hopper;grace@navy.example\n"
    "Alan;Turing;not-an-email\n"
    "Ada;Again;ada@acme.example\n"
)


def test_admin_imports_a_csv_file_and_sees_it_counted(page: Page, base_url: str, client: ApiClient) -> None:
    client.create("contacts", {"first_name": "Ada", "email": "ada@acme.example"})
    sign_in(page, base_url, client, "/settings/imports")
    expect(page.get_by_text("No imports yet.")).to_be_visible()
    page.get_by_role("button", name="New import").click()
    form = page.get_by_role("region", name="New import")
    form.get_by_role("button", name="Upload and import").click()
    expect(form.get_by_label("CSV file")).to_have_attribute("aria-invalid", "true")
    assert client.get("/v1/imports").json()["items"] == []
    form.get_by_label("Records").select_option("contacts")
    form.get_by_label("A row matching a record").select_option("skip")
    form.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    # The storage unreachable once: the page says so, and trying again uploads into the same import.
    uploads = re.compile(r".*/uploads/.*\.csv\?.*")
    page.route(uploads, lambda route: route.abort())
    form.get_by_role("button", name="Upload and import").click()
    expect(form.get_by_role("alert")).to_contain_text("could not be uploaded")
    page.unroute(uploads)
    form.get_by_role("button", name="Upload and import").click()

    # The counters reach completed: one created, the known address skipped, the bad one failed.
    expect(form.get_by_role("status")).to_contain_text("Completed: 3 of 3 rows.", timeout=60_000)
    for counter, value in (("rows", 3), ("created", 1), ("skipped", 1), ("failed", 1), ("updated", 0)):
        expect(form.get_by_test_id(f"count-{counter}")).to_have_text(str(value))
    link = form.get_by_role("link", name=re.compile(r"Download the rejected rows \(1\)"))
    rejected = requests.get(link.get_attribute("href") or "", timeout=10)
    assert rejected.status_code == 200
    assert "not-an-email" in rejected.content.decode("utf-8-sig")
    assert "grace@navy.example" not in rejected.content.decode("utf-8-sig")
    assert not serious_violations(page)

    past = page.get_by_role("table", name="Past imports").get_by_role("row").filter(has_text="contacts")
    expect(past).to_contain_text("completed")
    expect(
        past.get_by_role("link", name=re.compile("Download the rejected rows of the import of"))
    ).to_be_visible()
    form.get_by_role("button", name="Done").click()
    (job,) = client.get("/v1/imports").json()["items"]
    assert (job["status"], job["created"], job["skipped"], job["failed"]) == ("completed", 1, 1, 1)
    emails = {contact["email"] for contact in client.get("/v1/contacts").json()["items"]}
    assert emails == {"ada@acme.example", "grace@navy.example"}
    # The page's PUT crossed origins under the bucket's own rule (as in AWS), not the endpoint's blanket CORS.
    upload_url = client.post("/v1/imports", {"object": "contacts"}).json()["upload_url"]
    preflight = requests.options(
        upload_url,
        headers={"Origin": base_url, "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert preflight.headers["Access-Control-Allow-Methods"] == "PUT, GET"


def scrub_pending(times: int) -> Callable[[Route], None]:
    """A route handler: the erase's first ``times`` answers as the API's, but saying the scrub is pending."""
    left = [times]

    def handle(route: Route) -> None:
        answer = route.fetch()
        if left[0] > 0:
            left[0] -= 1
            route.fulfill(response=answer, headers={**answer.headers, "scrub-status": "pending"})
        else:
            route.fulfill(response=answer)

    return handle


def test_admin_exports_the_data_and_erases_a_person(page: Page, base_url: str, client: ApiClient) -> None:
    ada = client.create(
        "contacts",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example", "phone": "+44 20 1"},
    )
    client.create("contacts", {"first_name": "Grace", "email": "grace@navy.example"})
    sign_in(page, base_url, client, "/settings/exports")
    expect(page.get_by_text("No exports yet.")).to_be_visible()
    new_export = page.get_by_role("region", name="Export all data")
    new_export.get_by_role("button", name="Export all data").click()

    # The progress reaches completed; the zip is a link away, with when the link expires.
    expect(new_export.get_by_role("status")).to_contain_text("Completed:", timeout=60_000)
    (job,) = client.get("/v1/exports").json()["items"]
    assert job["status"] == "completed" and sum(job["processed"].values()) == sum(job["objects"].values())
    expect(new_export.get_by_test_id("link-expires")).to_contain_text("Link expires")
    link = new_export.get_by_role("link", name=re.compile(r"^Download the export \("))
    answer = requests.get(link.get_attribute("href") or "", timeout=30)
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        contacts = [json.loads(line) for line in archive.read("contacts.jsonl").splitlines()]
    assert {contact["email"] for contact in contacts} == {"ada@acme.example", "grace@navy.example"}
    past = page.get_by_role("table", name="Past exports").get_by_role("row").filter(has_text="completed")
    expect(past.get_by_role("link", name=re.compile("^Download the export of"))).to_be_visible()
    assert not serious_violations(page)

    # The person's data is saved as a JSON file, before they are erased.
    page.goto(f"{base_url}/contacts/{ada['id']}")
    privacy = page.get_by_role("region", name="Privacy")
    with page.expect_download() as download:
        privacy.get_by_role("button", name="Download this person's data").click()
    assert download.value.suggested_filename == f"contact-{ada['id']}.json"
    person = json.loads(Path(download.value.path()).read_text())
    assert (person["contact"]["id"], person["contact"]["email"]) == (ada["id"], "ada@acme.example")

    # Erasing asks for the address (or ERASE) typed; a wrong one erases nothing.
    privacy.get_by_role("button", name="Erase this person").click()
    dialog = page.get_by_role("dialog", name="Erase this person?")
    confirm = dialog.get_by_label(re.compile("^Type ada@acme.example or the word ERASE"))
    confirm.fill("grace@navy.example")
    dialog.get_by_role("button", name="Erase this person").click()
    expect(confirm).to_have_attribute("aria-invalid", "true")
    assert client.get(f"/v1/contacts/{ada['id']}").json()["erased_at"] is None
    assert not serious_violations(page)
    # While the copies are being removed (Scrub-Status: pending; two answers made to say so, as a person
    # with a long history would), the dialog says so and counts its checks.
    page.route(f"**/v1/privacy/contacts/{ada['id']}/erase", scrub_pending(times=2))
    confirm.fill("ADA@acme.example")
    dialog.get_by_role("button", name="Erase this person").click()
    progress = dialog.get_by_role("status").filter(has_text="Removing copies")
    expect(progress).to_contain_text("checked 1 time")
    expect(progress).to_contain_text("checked 2 times")

    # The page shows the tombstone: when it was erased, no personal field, no edit.
    expect(page.get_by_test_id("erased")).to_contain_text("Erased on")
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("(erased)")
    for personal in ("ada@acme.example", "Lovelace", "+44 20 1"):
        expect(page.get_by_text(personal)).to_have_count(0)
    expect(page.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(privacy.get_by_role("button", name="Erase this person")).to_have_count(0)
    assert client.get(f"/v1/contacts/{ada['id']}").json()["erased_at"]
    # The list names it by what it is now.
    page.goto(f"{base_url}/contacts")
    expect(page.get_by_role("table", name="Contacts")).to_contain_text("(erased)")
    expect(page.get_by_role("table", name="Contacts")).not_to_contain_text("Lovelace")
