"""At phone width nothing scrolls sideways and the navigation folds behind a button named "Menu"."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient


def scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


def test_phone_width(phone: Page, base_url: str, client: ApiClient) -> None:
    client.create(
        "contacts",
        {
            "first_name": "Maximiliana",
            "last_name": "Wolfeschlegelsteinhausen",
            "email": "maximiliana.wolfeschlegelsteinhausen@a-rather-long-domain.example",
        },
    )
    sign_in(phone, base_url, client)
    expect(phone.get_by_role("link", name="Maximiliana Wolfeschlegelsteinhausen")).to_be_visible()
    assert not scrolls_sideways(phone)

    deals_link = phone.get_by_role("navigation").get_by_role("link", name="Deals")
    expect(deals_link).not_to_be_in_viewport()
    menu = phone.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for name in (
        "Contacts",
        "Companies",
        "Deals",
        "Activities",
        "Tickets",
        "Quotes",
        "Campaigns",
        "Reports",
        "Settings",
    ):
        expect(phone.get_by_role("navigation").get_by_role("link", name=name)).to_be_in_viewport()
    deals_link.click()
    expect(phone.get_by_role("heading", name="Deals", level=1)).to_be_visible()
    expect(phone.get_by_test_id("stage-column").first).to_be_visible()
    expect(deals_link).not_to_be_in_viewport()
    assert not scrolls_sideways(phone)

    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("navigation").get_by_role("link", name="Tickets").click()
    expect(phone.get_by_text("No tickets yet")).to_be_visible()
    assert not scrolls_sideways(phone)
