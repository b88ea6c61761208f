"""The quote pages as a sales rep's admin uses them: a product made in the catalogue page (its taken SKU at
the field); a quote made on a deal's page opens in the builder, a line without a price is refused at its
price, the totals shown are the server's exact ones, the PDF previews; the list finds the quote; accepted,
it becomes a contract from its page (a term ending before it starts refused at its field); no serious
axe violation, and the list does not scroll sideways at phone width."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.integration.test_products_quotes import page_token_of
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
    table = page.get_by_role("table", name="Products")
    expect(table).to_contain_text("0.125 EUR")
    found["/quotes/products"] = serious_violations(page)

    # Edited (its price), deactivated, and another archived after a confirmation.
    page.get_by_role("button", name="Edit Gear").click()
    edit = page.get_by_role("region", name="Edit Gear")
    edit.get_by_label("Unit price").fill("0.25")
    edit.get_by_role("button", name="Save product").click()
    expect(table).to_contain_text("0.25 EUR")
    gear = table.get_by_test_id("product-row").filter(has_text="GEAR-7")
    gear.get_by_role("button", name="Deactivate Gear").click()
    expect(gear).to_contain_text("inactive")
    table.get_by_role("button", name="Archive Gear").click()
    gear.get_by_role("button", name="Keep").click()
    (saved,) = [p for p in client.all_pages("/v1/products") if p["sku"] == "GEAR-7"]
    assert (saved["prices"], saved["active"]) == ([{"currency": "EUR", "unit_price": "0.25"}], False)
    table.get_by_role("button", name="Archive Gear").click()
    gear.get_by_role("button", name="Archive GEAR-7").click()
    expect(gear).to_have_count(0)
    assert client.get(f"/v1/products/{saved['id']}").status_code == 404


def contract_from_accepted(
    page: Page, base_url: str, client: ApiClient, anonymous: ApiClient, quote: dict[str, Any], found: Found
) -> None:
    # Accepted on its public page, it becomes a contract over the term asked, which opens.
    quote_id = quote["id"]
    assert anonymous.post(f"/q/{page_token_of(client.tenant_id, quote_id)}/accept").status_code == 200
    page.goto(f"{base_url}/quotes/{quote_id}")
    page.get_by_role("button", name="Create contract").click()
    form = page.get_by_role("region", name="New contract from this quote")
    form.get_by_label("Start date").fill("2027-02-01")
    form.get_by_label("End date").fill("2027-01-31")
    form.get_by_role("button", name="Create the contract").click()
    expect(form.get_by_label("End date")).to_have_attribute("aria-invalid", "true")  # the API's 422
    form.get_by_label("End date").fill("2028-01-31")
    found["/quotes/{id} (contract)"] = serious_violations(page)
    form.get_by_role("button", name="Create the contract").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/contracts/[0-9A-Z]{{26}}$"))
    contract = client.get(f"/v1/contracts/{page.url.rsplit('/', 1)[-1]}").json()
    taken = (contract["quote_id"], contract["value"], contract["currency"])
    assert taken == (quote_id, quote["total"], "EUR")
    assert (contract["start_date"], contract["end_date"], contract["deal_id"]) == (
        "2027-02-01",
        "2028-01-31",
        quote["deal_id"],
    )
    assert len(client.all_pages("/v1/contracts")) == 1  # the refused one made nothing


def test_a_quote_from_product_to_pdf(
    page: Page, base_url: str, client: ApiClient, anonymous: ApiClient
) -> None:
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

    contract_from_accepted(page, base_url, client, anonymous, saved, found)
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
