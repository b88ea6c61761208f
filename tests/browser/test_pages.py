"""Every main page opens from the navigation with its records (or says plainly that there are none yet);
a task due is completed from Activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient


def test_main_pages_and_completing_a_task(page: Page, base_url: str, client: ApiClient) -> None:
    company = client.create("companies", {"name": "Globex", "domain": "globex.example", "industry": "Energy"})
    contact = client.create(
        "contacts", {"first_name": "Hank", "last_name": "Scorpio", "company_id": company["id"]}
    )
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    task = client.create(
        "activities",
        {"type": "task", "subject": "Send the proposal", "due_at": yesterday, "contact_id": contact["id"]},
    )
    navigation = page.get_by_role("navigation")
    sign_in(page, base_url, client)
    expect(page.get_by_role("table", name="Contacts")).to_contain_text("Globex")

    navigation.get_by_role("link", name="Companies").click()
    page.get_by_role("table", name="Companies").get_by_role("link", name="Globex").click()
    expect(page.get_by_role("heading", name="Globex", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Hank Scorpio")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("company created")

    navigation.get_by_role("link", name="Activities").click()
    overdue = page.get_by_role("region", name="Overdue (1)")
    expect(overdue).to_contain_text("Send the proposal")
    overdue.get_by_role("button", name="Complete Send the proposal").click()
    expect(page.get_by_role("region", name="Overdue (0)")).to_be_visible()
    assert client.get(f"/v1/activities/{task['id']}").json()["completed_at"]

    bell = page.get_by_role("button", name="Notifications, 0 unread")
    bell.click()
    expect(page.get_by_role("region", name="Notifications")).to_contain_text("No notifications.")
    bell.click()
    expect(page.get_by_role("region", name="Notifications")).to_have_count(0)

    navigation.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("region", name="Pipelines")).to_contain_text("Qualified")
    expect(page.get_by_role("region", name="Event targets")).to_contain_text("No event targets")

    navigation.get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", name="Tickets", level=1)).to_be_visible()
    expect(page.get_by_text("No tickets yet")).to_be_visible()

    navigation.get_by_role("link", name="Quotes").click()
    expect(page.get_by_role("heading", name="Quotes", level=1)).to_be_visible()
    expect(page.get_by_text("No quotes yet.")).to_be_visible()
