"""The quote pages as a sales rep's admin uses them: a product made in the catalogue page (its taken SKU at
the field); a quote made on a deal's page opens in the builder, a line without a price is refused at its
price, the totals shown are the server's exact ones, the PDF previews; the list finds the quote; no serious
axe violation, and the list does not scroll sideways at phone width."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.support.client import ApiClient

Found = dict[str, object]


def add_product(page: Page, base_url: str, client: ApiClient, found: Found) -> None:
    # The catalogue: a taken SKU is refused at its field; a new product is listed.
    sign_in(page, base_url, client, "/quotes/products")
    expect(page.get_by_role("table", name="Products")).to_contain_text("ENG-1")
    page.get_by_role("button", name="New product").click()
    form = page.get_by_role("region", name="New product")
    form.get_by_label("SKU").fill("eng-1")
    form.get_by_role("textbox", name="Name", exact=True).fill("Gear")
    form.get_by_role("button", name="Create product").click()
    expect(form.get_by_label("SKU")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("SKU").fill("GEAR-7")
    form.get_by_label("Unit price").fill("0.125")
    form.get_by_label("Tax rate").fill("0.2")
    found["/quotes/products (new)"] = serious_violations(page)
    form.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("table", name="Products")).to_contain_text("0.125 EUR")
    found["/quotes/products"] = serious_violations(page)


def test_a_quote_from_product_to_pdf(page: Page, base_url: str, client: ApiClient) -> None:
    found: Found = {}
    price = [{"currency": "EUR", "unit_price": "1250"}]
    client.create("products", {"sku": "ENG-1", "name": "Engine", "prices": price})
    contact = client.create("contacts", {"email": "ada@engines.example", "first_name": "Ada"})
    deal = client.create("deals", {"name": "Engines", "currency": "EUR", "contact_ids": [contact["id"]]})
    add_product(page, base_url, client, found)

    # A quote on the deal opens in the builder.
    page.goto(f"{base_url}/deals/{deal['id']}")
    page.get_by_role("region", name="Quotes").get_by_role("button", name="New quote").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/quotes/[0-9A-Z]{{26}}$"))
    quote_id = page.url.rsplit("/", 1)[-1]
    builder = page.get_by_role("region", name="Quote builder")
    builder.get_by_role("button", name="Add line").click()
    builder.get_by_label("Line 1 product").select_option(label="ENG-1 · Engine")
    builder.get_by_label("Line 1 quantity").fill("3")
    builder.get_by_label("Line 1 discount").fill("0.1")
    builder.get_by_role("button", name="Add line").click()
    builder.get_by_label("Line 2 description").fill("Installation")
    builder.get_by_role("button", name="Save and total").click()
    expect(builder.get_by_label("Line 2 unit price")).to_have_attribute("aria-invalid", "true")
    builder.get_by_label("Line 2 unit price").fill("99.995")
    builder.get_by_label("Line 2 tax rate").fill("0.2")
    found["/quotes/{id} (builder)"] = serious_violations(page)
    builder.get_by_role("button", name="Save and total").click()
    # 3 x 1250 - 10% = 3375.00; 99.995 -> 100.00 (half to even), tax 20.00: 3495.00
    expect(page.get_by_test_id("quote-total")).to_have_text("3495.00 EUR")
    saved = client.get(f"/v1/quotes/{quote_id}").json()
    assert (saved["total"], saved["tax_total"], saved["contact_id"]) == ("3495.00", "20.00", contact["id"])

    page.get_by_role("button", name="Preview PDF").click()
    expect(page.get_by_title(f"PDF of quote {saved['number']}")).to_be_visible(
        timeout=30_000
    )  # fpdf is imported by the first PDF
    page.get_by_role("button", name="Send to the contact").click()
    expect(page.get_by_role("status").filter(has_text="emailed")).to_be_visible()
    expect(page.get_by_role("region", name="Quote builder")).to_have_count(0)  # only a draft is edited
    found["/quotes/{id}"] = serious_violations(page)

    page.goto(f"{base_url}/quotes")
    expect(page.get_by_test_id("quote-row")).to_contain_text(saved["number"])
    expect(page.get_by_test_id("quote-row")).to_contain_text("sent")
    found["/quotes"] = serious_violations(page)
    assert not any(found.values()), {path: v for path, v in found.items() if v}


def test_quotes_at_phone_width(phone: Page, base_url: str, client: ApiClient) -> None:
    deal = client.create("deals", {"name": "Engines"})
    client.create(
        "quotes",
        {
            "deal_id": deal["id"],
            "currency": "JPY",
            "title": "A long title for a quote that has to wrap on a phone",
            "line_items": [{"description": "Gears", "quantity": "3", "unit_price": "0.5"}],
        },
    )
    sign_in(phone, base_url, client, "/quotes")
    expect(phone.get_by_test_id("quote-row")).to_contain_text("2 JPY")
    assert not scrolls_sideways(phone)
