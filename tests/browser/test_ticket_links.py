"""The ticket view's knowledge base links and the Tickets sections of a contact and a company, as an agent
uses them: an article found by its title's prefix is linked with one click and unlinked again (the API
holds what the page shows), the contact's and the company's pages list the ticket, and no serious axe
violation on them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.support.client import ApiClient


def test_kb_links_and_the_tickets_of_a_contact_and_a_company(
    page: Page, base_url: str, client: ApiClient
) -> None:
    article = client.create(
        "kb-articles", {"title": "Resetting the engine", "body": "# Reset", "status": "published"}
    )
    client.create("kb-articles", {"title": "Billing questions", "body": "# Bills"})
    company = client.create("companies", {"name": "Analytical Engines"})
    contact = client.create(
        "contacts", {"first_name": "Ada", "email": "ada@engines.example", "company_id": company["id"]}
    )
    ticket = client.create(
        "tickets", {"subject": "The engine stalls", "contact_id": contact["id"], "company_id": company["id"]}
    )
    found: dict[str, object] = {}

    sign_in(page, base_url, client, f"/tickets/{ticket['id']}")
    section = page.get_by_role("region", name="Knowledge base")
    expect(section.get_by_text("No articles linked.")).to_be_visible()
    section.get_by_label("Find an article").fill("Reset")
    results = section.get_by_role("list", name="Articles found")
    expect(results).to_contain_text("Resetting the engine")
    expect(results).not_to_contain_text("Billing questions")  # a prefix of the title, not any word
    results.get_by_role("button", name="Link Resetting the engine").click()
    linked = section.get_by_role("list", name="Linked articles")
    expect(linked.get_by_role("link", name="Resetting the engine")).to_be_visible()
    assert client.get(f"/v1/tickets/{ticket['id']}").json()["article_ids"] == [article["id"]]
    found["/tickets/{id}"] = serious_violations(page)
    linked.get_by_role("button", name="Unlink Resetting the engine").click()
    expect(section.get_by_text("No articles linked.")).to_be_visible()
    assert client.get(f"/v1/tickets/{ticket['id']}").json()["article_ids"] == []

    for path in (f"/contacts/{contact['id']}", f"/companies/{company['id']}"):
        page.goto(f"{base_url}{path}")
        tickets = page.get_by_role("region", name="Tickets")
        expect(tickets.get_by_role("link", name="The engine stalls")).to_be_visible()
        found[path] = serious_violations(page)
    page.get_by_role("region", name="Tickets").get_by_role("link", name="The engine stalls").click()
    expect(page).to_have_url(f"{base_url}/tickets/{ticket['id']}")
    assert not any(found.values()), {path: v for path, v in found.items() if v}
