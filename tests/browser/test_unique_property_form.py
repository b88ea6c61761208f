"""Settings → Properties' Unique switch (decision 0012, "Unique"), and the 409 of a value another record has,
shown at its custom input in the contact form with a link to that contact."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient


def test_a_unique_property_is_chosen_at_creation_and_a_taken_value_shown_at_its_input(
    page: Page, base_url: str, client: ApiClient
) -> None:
    sign_in(page, base_url, client, "/settings/properties")
    page.get_by_role("button", name="New property").click()
    form = page.get_by_role("region", name="New property")
    form.get_by_label("Label").fill("Member number")
    form.get_by_label("Name").fill("member_no")
    form.get_by_role("switch", name="Unique").check()
    form.get_by_role("button", name="Create property").click()
    row = (
        page.get_by_role("table", name="Properties of contacts").get_by_role("row").filter(has_text="Member")
    )
    expect(row).to_contain_text("Text · unique")
    (made,) = client.get("/v1/properties/contacts").json()["items"]
    assert made["unique"] is True, made
    holder = client.create("contacts", {"email": "holder@acme.example", "custom": {made["name"]: "M-7"}})

    # A value another contact has: the 409 at its input (not at the email), a link to that contact.
    page.goto(f"{base_url}/contacts")
    page.get_by_role("button", name="New contact").click()
    contact_form = page.get_by_role("region", name="New contact")
    contact_form.get_by_label("Email").fill("second@acme.example")
    contact_form.get_by_label("Member number").fill("m-7")
    contact_form.get_by_role("button", name="Create contact").click()
    expect(contact_form.get_by_label("Member number")).to_have_attribute("aria-invalid", "true")
    expect(contact_form.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")
    link = contact_form.get_by_role("link", name="Open the contact with this value")
    expect(link).to_have_attribute("href", f"/contacts/{holder['id']}")

    # Turned off in its dialog; the switch is gone then (it cannot be turned on again).
    page.goto(f"{base_url}/settings/properties")
    row.get_by_role("button", name="Edit Member number").click()
    dialog = page.get_by_role("dialog", name="Edit Member number")
    dialog.get_by_role("switch", name="Unique").uncheck()
    dialog.get_by_role("button", name="Save").click()
    expect(row).not_to_contain_text("unique")
    assert client.get(f"/v1/properties/contacts/{made['name']}").json()["unique"] is False
