"""The record pages' actions in one journey: a company created through its form, a contact archived from its
page and restored, a deal opened from the board and renamed at its version (a stale save shown and redone),
a task edited and deleted; each read back through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient


def create_a_company(page: Page, client: ApiClient) -> None:
    # On the Companies page, a new company: a domain already taken is shown at its field, then the company
    # joins the list.
    page.get_by_role("button", name="New company").click()
    form = page.get_by_role("region", name="New company")
    form.get_by_label("Name").fill("Chotchkie's")
    form.get_by_label("Domain").fill("initech.example")
    form.get_by_role("button", name="Create company").click()
    expect(form.get_by_label("Domain")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_role("link", name="Open the company with this domain")).to_be_visible()
    form.get_by_label("Domain").fill("chotchkies.example")
    form.get_by_label("Employees").fill("40")
    form.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("region", name="New company")).to_have_count(0)
    companies = page.get_by_role("table", name="Companies")
    expect(companies.get_by_role("link", name="Chotchkie's")).to_be_visible()
    (created,) = client.get("/v1/companies", params={"q": "Chotchk"}).json()["items"]
    assert (created["domain"], created["employees"]) == ("chotchkies.example", 40)


def archive_and_restore_a_contact(
    page: Page, base_url: str, client: ApiClient, contact: dict[str, Any]
) -> None:
    # A contact archived from its page (after a confirmation), then restored.
    page.goto(f"{base_url}/contacts/{contact['id']}")
    page.get_by_role("button", name="Archive", exact=True).click()
    page.get_by_role("group", name="Archive this contact?").get_by_role("button", name="Yes, archive").click()
    expect(page.get_by_test_id("archived")).to_contain_text("This contact is archived.")
    assert client.get(f"/v1/contacts/{contact['id']}").status_code == 404
    assert client.get(f"/v1/contacts/{contact['id']}", params={"archived": "true"}).json()["archived"]
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("archived")).to_have_count(0)
    expect(page.get_by_role("button", name="Archive", exact=True)).to_be_visible()
    assert client.get(f"/v1/contacts/{contact['id']}").json()["archived"] is False


def rename_a_deal_opened_from_the_board(
    page: Page, base_url: str, client: ApiClient, deal: dict[str, Any]
) -> None:
    # A deal opened from the board and renamed; someone else's change meanwhile is shown, then saved over.
    page.goto(f"{base_url}/deals")
    page.get_by_role("link", name="Open Stapler order").click()
    expect(page).to_have_url(f"{base_url}/deals/{deal['id']}")
    expect(page.get_by_role("heading", name="Stapler order", level=1)).to_be_visible()
    page.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_role("region", name="Edit deal")
    edit.get_by_label("Name").fill("Red stapler order")
    client.patch(f"/v1/deals/{deal['id']}", {"amount": "95.00"})
    edit.get_by_role("button", name="Save changes").click()
    expect(edit.get_by_role("alert")).to_contain_text("changed since you opened it")
    assert client.get(f"/v1/deals/{deal['id']}").json()["name"] == "Stapler order"
    edit.get_by_role("button", name="Load the current version").click()
    expect(edit.get_by_label("Amount")).to_have_value("95.00")
    expect(edit.get_by_label("Name")).to_have_value("Red stapler order")
    edit.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Red stapler order", level=1)).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("deal updated: Red stapler order")
    saved = client.get(f"/v1/deals/{deal['id']}").json()
    assert (saved["name"], saved["amount"]) == ("Red stapler order", "95.00")


def edit_and_delete_a_task(page: Page, base_url: str, client: ApiClient, task: dict[str, Any]) -> None:
    # A task renamed and moved to tonight, then deleted after a confirmation.
    page.goto(f"{base_url}/activities")
    overdue = page.get_by_role("region", name=re.compile(r"^Overdue"))
    overdue.get_by_role("button", name="Edit Call Milton").click()
    edit_task = page.get_by_role("form", name="Edit Call Milton")
    edit_task.get_by_label("Subject").fill("Call Milton about the stapler")
    tonight = datetime.now().replace(hour=23, minute=59, second=0, microsecond=0)
    edit_task.get_by_label("Due").fill(tonight.strftime("%Y-%m-%dT%H:%M"))
    edit_task.get_by_role("button", name="Save").click()
    today = page.get_by_role("region", name=re.compile(r"^Due today"))
    expect(today.get_by_test_id("task")).to_contain_text("Call Milton about the stapler")
    changed = client.get(f"/v1/activities/{task['id']}").json()
    assert changed["subject"] == "Call Milton about the stapler"
    assert datetime.fromisoformat(changed["due_at"]) == tonight.astimezone(UTC)
    today.get_by_role("button", name="Delete Call Milton about the stapler").click()
    page.get_by_role("group", name="Delete Call Milton about the stapler?").get_by_role(
        "button", name="Yes, delete"
    ).click()
    expect(page.get_by_test_id("task")).to_have_count(0)
    assert client.get(f"/v1/activities/{task['id']}").status_code == 404


def test_create_archive_restore_and_edit_from_the_record_pages(
    page: Page, base_url: str, client: ApiClient
) -> None:
    client.create("companies", {"name": "Initech", "domain": "initech.example"})
    contact = client.create("contacts", {"first_name": "Milton", "last_name": "Waddams"})
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    deal = client.create("deals", {"name": "Stapler order", "pipeline_id": pipeline["id"], "amount": "90"})
    task = client.create(
        "activities",
        {
            "type": "task",
            "subject": "Call Milton",
            "due_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "contact_id": contact["id"],
        },
    )

    sign_in(page, base_url, client, "/companies")
    create_a_company(page, client)
    archive_and_restore_a_contact(page, base_url, client, contact)
    rename_a_deal_opened_from_the_board(page, base_url, client, deal)
    edit_and_delete_a_task(page, base_url, client, task)
