"""A credential refused mid-session brings sign-in back over the page, keeping what was typed; sign-out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient
from tests.support.credentials import second_key


def test_a_revoked_key_returns_to_sign_in_keeping_the_form(
    page: Page, base_url: str, client: ApiClient
) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("API key").fill("crm_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This API key was not accepted")).to_be_visible()

    doomed = second_key(client)
    sign_in(page, base_url, doomed)
    page.get_by_role("button", name="New contact").click()
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Email").fill("grace@navy.example")
    key_id = client.get("/v1/api-keys").json()["items"]
    (doomed_key,) = [key for key in key_id if doomed.api_key and doomed.api_key.startswith(key["prefix"])]
    assert client.delete(f"/v1/api-keys/{doomed_key['id']}").status_code == 204

    page.get_by_role("button", name="Create contact").click()
    dialog = page.get_by_role("dialog", name="Your session has ended")
    expect(dialog).to_be_visible()
    assert client.api_key
    dialog.get_by_label("API key").fill(client.api_key)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("First name")).to_have_value("Grace")
    expect(page.get_by_label("Email")).to_have_value("grace@navy.example")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name="Grace", level=1)).to_be_visible()
    assert client.get("/v1/contacts", params={"q": "grace@navy"}).json()["items"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/sign-in")
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{base_url}/deals")
    expect(page).to_have_url(f"{base_url}/sign-in")
