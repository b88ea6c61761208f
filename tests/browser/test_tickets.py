"""The service pages as an agent and an admin use them: an admin adds an SLA policy in Settings (its field
errors at the fields); a ticket opened in the page gets its due times, a public reply is its first response
(the SLA panel says met), an internal note stays marked as one, resolving it from the status select saves;
the queue filters "My tickets" and breached ones; the knowledge base's editor; no serious axe violation, and
the queue does not scroll sideways at phone width."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.support.client import ApiClient

Found = dict[str, object]


def add_policy(page: Page, base_url: str, client: ApiClient, found: Found) -> None:
    # An admin adds an SLA policy: no target at all is refused at the targets, nothing is made.
    sign_in(page, base_url, client, "/settings/sla-policies")
    expect(page.get_by_text("No SLA policies yet")).to_be_visible()
    page.get_by_role("button", name="New SLA policy").click()
    editor = page.get_by_role("region", name="New SLA policy")
    editor.get_by_label("Policy name").fill("Standard support")
    editor.get_by_label("Count business hours only").uncheck()
    editor.get_by_role("button", name="Create policy").click()
    expect(editor.get_by_role("alert").first).to_contain_text("priority")
    assert client.get("/v1/sla-policies").json()["items"] == []
    # A target of 0 minutes: the API's error stands at that input.
    first_response = editor.get_by_label("Normal: first response, minutes")
    first_response.fill("0")
    editor.get_by_label("Normal: resolution, minutes").fill("480")
    editor.get_by_role("button", name="Create policy").click()
    expect(first_response).to_have_attribute("aria-invalid", "true")
    first_response.fill("60")
    found["/settings/sla-policies (editor)"] = serious_violations(page)
    editor.get_by_role("button", name="Create policy").click()
    policy = page.get_by_role("article", name="Standard support")
    expect(policy.get_by_role("table", name="Targets of Standard support")).to_contain_text("1 h")
    expect(policy).to_contain_text("Round the clock")
    found["/settings/sla-policies"] = serious_violations(page)


def open_ticket(page: Page, base_url: str, found: Found) -> str:
    # A new ticket: the API's 422 shows next to the subject, then it is made and opens.
    page.goto(f"{base_url}/tickets")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    page.get_by_role("button", name="New ticket").click()
    form = page.get_by_role("region", name="New ticket")
    form.get_by_role("button", name="Create ticket").click()
    expect(form.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Subject").fill("The invoice total is wrong")
    form.get_by_label("Description").fill("Invoice 2025-014 counts the engines twice.")
    form.get_by_role("combobox", name="Contact").fill("Ada")
    form.get_by_role("listbox", name="Contact").get_by_role("option").first.click()
    form.get_by_label("Category").select_option("complaint")
    found["/tickets (new ticket)"] = serious_violations(page)
    form.get_by_role("button", name="Create ticket").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/tickets/[0-9A-Z]{{26}}$"))
    return page.url.rsplit("/", 1)[1]


def work_ticket(page: Page, contact: dict[str, str], found: Found) -> None:
    sla = page.get_by_role("region", name="SLA")
    expect(sla).to_contain_text(re.compile(r"First response\s*in (1 hour|60 minutes|59 minutes)"))
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_attribute(
        "href", f"/contacts/{contact['id']}"
    )
    expect(page.get_by_label("Status")).to_have_value("new")

    # A public reply is the first response: the ticket opens and the panel says it was met.
    page.get_by_label("Reply to the customer").fill("Sorry: a corrected invoice is on its way.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_test_id("public-reply")).to_contain_text("corrected invoice")
    expect(sla).to_contain_text(re.compile(r"First response\s*met"))
    expect(page.get_by_label("Status")).to_have_value("open")
    # An internal note, marked as one.
    page.get_by_role("radiogroup", name="Reply or note").get_by_text("Internal note").click()
    page.get_by_label("Internal note (only agents see it)").fill("Billing double-counted the engines.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("internal-note")).to_contain_text("double-counted")
    found["/tickets/{id}"] = serious_violations(page)


def test_a_ticket_from_sla_policy_to_resolution(page: Page, base_url: str, client: ApiClient) -> None:
    contact = client.create(
        "contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}
    )
    found: Found = {}
    add_policy(page, base_url, client, found)
    ticket_id = open_ticket(page, base_url, found)
    work_ticket(page, contact, found)

    # Someone else changes it meanwhile: resolving at the stale version is refused (412) and said, the page
    # shows the ticket as it is now, and resolving again saves.
    assert client.patch(f"/v1/tickets/{ticket_id}", {"category": "incident"}).status_code == 200
    page.get_by_label("Status").select_option("resolved")
    expect(page.get_by_role("alert")).to_contain_text("changed since the page loaded")
    expect(page.get_by_text("incident", exact=True)).to_be_visible()
    assert client.get(f"/v1/tickets/{ticket_id}").json()["status"] == "open"
    # Resolved from the status select: saved at the version shown.
    sla = page.get_by_role("region", name="SLA")
    page.get_by_label("Status").select_option("resolved")
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(sla).to_contain_text(re.compile(r"Resolution\s*met"))
    saved = client.get(f"/v1/tickets/{ticket_id}").json()
    assert saved["status"] == "resolved" and saved["first_responded_at"] and saved["resolved_at"]
    replies = client.get(f"/v1/tickets/{ticket_id}/replies").json()["items"]
    assert [(reply["public"], reply["author"]) for reply in replies] == [(True, "agent"), (False, "agent")]
    expect(page.get_by_test_id("timeline")).to_contain_text("resolved")

    # The queue: mine, by status; breached ones only (none here).
    page.goto(f"{base_url}/tickets?assignee=me")
    row = (
        page.get_by_role("table", name="Tickets")
        .get_by_role("row")
        .filter(has_text="The invoice total is wrong")
    )
    expect(row).to_contain_text("resolved")
    expect(row).to_contain_text("Ada Lovelace")
    found["/tickets"] = serious_violations(page)
    # The switch follows the URL: a click changes the URL, and the URL the switch.
    page.get_by_label("Breached only").click()
    expect(page.get_by_label("Breached only")).to_be_checked()
    expect(page.get_by_text("No ticket matches these filters.")).to_be_visible()
    expect(page).to_have_url(f"{base_url}/tickets?assignee=me&breached=true")

    # The knowledge base: an article written and published.
    page.goto(f"{base_url}/tickets/articles")
    page.get_by_role("button", name="New article").click()
    article = page.get_by_role("region", name="New article")
    article.get_by_label("Title").fill("Reading your invoice")
    article.get_by_label("Body").fill("# Your invoice\n\nEach line is one engine.")
    article.get_by_label("Status").select_option("published")
    article.get_by_role("button", name="Create article").click()
    expect(page.get_by_role("article", name="Reading your invoice")).to_contain_text("published")
    found["/tickets/articles"] = serious_violations(page)
    assert not any(found.values()), {path: v for path, v in found.items() if v}


def test_ticket_queue_soonest_due_first_at_phone_width(phone: Page, base_url: str, client: ApiClient) -> None:
    client.create(
        "sla-policies",
        {
            "name": "Round the clock",
            "targets": {
                "urgent": {"first_response_minutes": 30, "resolution_minutes": 240},
                "normal": {"first_response_minutes": 480, "resolution_minutes": 2400},
            },
        },
    )
    client.create("tickets", {"subject": "Later: a question about exports", "priority": "normal"})
    client.create("tickets", {"subject": "The line stopped: a long subject that wraps", "priority": "urgent"})
    sign_in(phone, base_url, client, "/tickets")
    rows = phone.get_by_test_id("ticket-row")
    expect(rows).to_have_count(2)
    # Created second, due first: the queue is in due order, not creation order.
    expect(rows.first).to_contain_text("The line stopped")
    expect(rows.first).to_contain_text(re.compile(r"in (30|29) minutes"))
    assert not scrolls_sideways(phone)
