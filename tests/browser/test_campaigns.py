"""The Campaigns page: a campaign made in the editor (a 422 on an unknown template field shown at the body),
its live preview for a segment member (escaped), edited and sent from the page, its results moving as
moto's SES takes the emails; schedule and cancel with their confirmations, a 409 shown plainly; a viewer
sees no actions; axe finds nothing serious; nothing scrolls sideways at phone width."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.integration.test_campaigns import sent_to
from tests.support.client import ApiClient
from tests.support.waiting import eventually

SENDING = 60_000  # the local pipeline (bus, fan-out queue, sender, moto's SES) within a minute


def test_a_campaign_from_editor_to_results(
    page: Page, browser: Browser, base_url: str, client: ApiClient
) -> None:
    domain = f"w{client.tenant_id.lower()}.example"
    for n, consent in enumerate(["granted", "granted", "denied"]):
        client.create(
            "contacts",
            {
                "first_name": "<b>Bo</b>",
                "last_name": f"Nr{n}",
                "email": f"bo{n}@{domain}",
                "tags": ["spring"],
                "consent": {"email": consent},
            },
        )
    rule = {"property": "tags", "operator": "contains", "value": "spring"}
    segment = client.create("segments", {"name": "Spring list", "filter": {"any": [{"all": [rule]}]}})

    sign_in(page, base_url, client, "/campaigns")
    expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    create_in_the_editor(page, client, domain)

    # Created, it opens as a draft in its editor; edited there and saved at its version.
    (made,) = client.get("/v1/campaigns").json()["items"]
    expect(page).to_have_url(f"{base_url}/campaigns?campaign={made['id']}")
    article = page.get_by_role("article", name="Spring news")
    expect(article.get_by_test_id("campaign-status")).to_have_text("draft")
    editor = page.get_by_role("form", name="Edit Spring news")
    editor.get_by_label("Subject").fill("Spring is really here")
    expect(page.get_by_text("Save your changes first")).to_be_visible()
    expect(page.get_by_role("button", name="Send now")).to_be_disabled()
    found = {"editor": serious_violations(page)}
    editor.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("button", name="Send now")).to_be_enabled()
    saved = client.get(f"/v1/campaigns/{made['id']}").json()
    assert saved["subject"] == "Spring is really here" and saved["segment_id"] == segment["id"]
    assert saved["version"] == made["version"] + 1

    page.get_by_role("button", name="Send now").click()
    dialog = page.get_by_role("dialog", name="Send this campaign now?")
    found["send dialog"] = serious_violations(page)
    dialog.get_by_role("button", name="Send now").click()
    expect(article.get_by_test_id("campaign-status")).to_have_text("sent", timeout=SENDING)
    stats = page.get_by_test_id("campaign-stats")
    expect(stats.locator("[data-stat=sent]")).to_have_text("2", timeout=SENDING)
    expect(stats.locator("[data-stat=recipients]")).to_have_text("3")
    expect(page.get_by_text("1 member was not sent to")).to_be_visible()
    expect(page.get_by_test_id("campaign-funnel")).to_contain_text("sent")
    expect(page.get_by_role("button", name="Send now")).to_have_count(0)
    assert client.get(f"/v1/campaigns/{made['id']}/stats").json()["sent"] == 2
    assert eventually(lambda: len(sent_to(domain)) == 2)  # through moto's SES, to the consenting two
    found["results"] = serious_violations(page)
    moves_and_a_conflict(page, base_url, client, segment["id"], domain)
    list_at_phone_width(page, base_url, made["id"], found)
    viewer_sees_no_actions(browser, base_url, client)


def create_in_the_editor(page: Page, client: ApiClient, domain: str) -> None:
    """A 422 on an unknown field at the body (nothing made), then the live preview (escaped), then made."""
    page.get_by_role("button", name="New campaign").click()
    editor = page.get_by_role("form", name="New campaign")
    editor.get_by_label("Campaign name").fill("Spring news")
    editor.get_by_label("Segment").select_option(label="Spring list")
    editor.get_by_label("Subject").fill("Spring is here")
    editor.get_by_label("From").fill(f"News <news@{domain}>")
    body = editor.get_by_label("Body (HTML)")
    body.fill("<p>Hi {{ nickname }}</p>")
    expect(editor.get_by_text("Not a template field: nickname")).to_be_visible()
    editor.get_by_role("button", name="Create campaign").click()
    # The API's 422 names `body`: its message is shown at the body, and nothing was made.
    expect(body).to_have_accessible_description(re.compile(r"unknown field \{\{ nickname \}\}"))
    assert client.get("/v1/campaigns").json()["items"] == []

    body.fill('<p>Hello {{ first_name }}!</p><p><a href="https://acme.example/spring">Read</a></p>')
    preview = page.frame_locator('[data-testid="campaign-preview"]')
    # The segment's first member, escaped: the markup in the name is text, not a bold element.
    expect(preview.locator("body")).to_contain_text("Hello <b>Bo</b>!")
    expect(preview.locator("b")).to_have_count(0)
    editor.get_by_role("button", name="Create campaign").click()
    # Made once the page opens it by its id (the list is read only after that).
    expect(page).to_have_url(re.compile(r"campaign=[0-9A-Z]{26}"))


def moves_and_a_conflict(page: Page, base_url: str, client: ApiClient, segment_id: str, domain: str) -> None:
    """Schedule and cancel from the page, each confirmed; a send the API refuses (409) said plainly."""
    fields = {"segment_id": segment_id, "from": f"news@{domain}", "body": "<p>Hi {{ first_name }}</p>"}
    # Scheduled from the page for tomorrow, then cancelled there: each after its confirmation.
    later = client.create("campaigns", {"name": "Summer", "subject": "Summer", **fields})
    page.goto(f"{base_url}/campaigns?campaign={later['id']}")
    tomorrow = (datetime.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    page.get_by_label("Send at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule", exact=True).click()
    page.get_by_role("dialog", name="Schedule this campaign?").get_by_role("button", name="Schedule").click()
    summer = page.get_by_role("article", name="Summer")
    expect(summer.get_by_test_id("campaign-status")).to_have_text("scheduled")
    assert client.get(f"/v1/campaigns/{later['id']}").json()["status"] == "scheduled"
    page.get_by_role("button", name="Cancel campaign").click()
    cancel = page.get_by_role("dialog", name="Cancel this campaign?")
    cancel.get_by_role("button", name="Cancel campaign").click()
    expect(summer.get_by_test_id("campaign-status")).to_have_text("cancelled")
    assert client.get(f"/v1/campaigns/{later['id']}").json()["status"] == "cancelled"

    # Sent elsewhere while the page showed a draft: the page's send is a 409, said plainly, and it reloads.
    stale = client.create("campaigns", {"name": "Autumn", "subject": "Autumn", **fields})
    page.goto(f"{base_url}/campaigns?campaign={stale['id']}")
    expect(page.get_by_role("button", name="Send now")).to_be_enabled()
    assert client.post(f"/v1/campaigns/{stale['id']}/cancel").status_code == 200
    page.get_by_role("button", name="Send now").click()
    page.get_by_role("dialog", name="Send this campaign now?").get_by_role("button", name="Send now").click()
    expect(page.get_by_role("alert").filter(has_text="Not possible in its current state")).to_be_visible()
    autumn = page.get_by_role("article", name="Autumn")
    expect(autumn.get_by_test_id("campaign-status")).to_have_text("cancelled")

    # A draft saved part-way: its send's 422 names the missing fields, shown at them; nothing moved.
    bare = client.create("campaigns", {"name": "Bare", "segment_id": segment_id})
    page.goto(f"{base_url}/campaigns?campaign={bare['id']}")
    page.get_by_role("button", name="Send now").click()
    page.get_by_role("dialog", name="Send this campaign now?").get_by_role("button", name="Send now").click()
    needed = re.compile("is required to send the campaign")
    for field in ("Subject", "From", "Body (HTML)"):
        expect(page.get_by_label(field)).to_have_accessible_description(needed)
    assert client.get(f"/v1/campaigns/{bare['id']}").json()["status"] == "draft"


def list_at_phone_width(page: Page, base_url: str, sent_id: str, found: dict[str, Any]) -> None:
    # The list: status, segment, send time and sent count; at phone width nothing scrolls sideways.
    page.goto(f"{base_url}/campaigns")
    table = page.get_by_role("table", name="Campaigns")
    row = table.get_by_role("row").filter(has_text="Spring news")
    expect(row.get_by_test_id("campaign-status")).to_have_text("sent")
    expect(row).to_contain_text("Spring list")
    expect(row.get_by_role("cell").last).to_have_text("2")
    found["list"] = serious_violations(page)
    page.set_viewport_size(PHONE)
    expect(table.get_by_role("columnheader", name="Segment")).to_be_hidden()  # folded at phone width
    # Once the shell has folded its navigation (a transition after the resize).
    assert eventually(lambda: not scrolls_sideways(page), timeout=5)
    page.goto(f"{base_url}/campaigns?campaign={sent_id}")
    expect(page.get_by_test_id("campaign-funnel")).to_be_visible()
    assert not scrolls_sideways(page)
    assert not any(found.values()), {where: v for where, v in found.items() if v}


def viewer_sees_no_actions(browser: Browser, base_url: str, client: ApiClient) -> None:
    # A viewer reads campaigns and results, and is offered no action; an id that is not theirs is not found.
    viewer_key = client.create("api-keys", {"role": "viewer", "name": "read only"})["key"]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        reader = context.new_page()
        sign_in(reader, base_url, ApiClient(base_url, viewer_key), "/campaigns")
        expect(reader.get_by_role("table", name="Campaigns")).to_contain_text("Spring news")
        expect(reader.get_by_role("button", name="New campaign")).to_have_count(0)
        reader.get_by_role("link", name="Spring news").click()
        expect(reader.get_by_test_id("campaign-stats")).to_be_visible()
        for action in ("Send now", "Schedule", "Cancel campaign", "Delete"):
            expect(reader.get_by_role("button", name=action, exact=True)).to_have_count(0)
        reader.goto(f"{base_url}/campaigns?campaign=01ARZ3NDEKTSV4RRFFQ69G5FAV")
        expect(reader.get_by_role("alert")).to_contain_text("The campaign could not be loaded")
        reader.get_by_role("button", name="Back to campaigns").click()
        expect(reader.get_by_role("table", name="Campaigns")).to_be_visible()
    finally:
        context.close()


def test_a_birthday_campaign_from_the_editor(page: Page, base_url: str, client: ApiClient) -> None:
    """The editor's Trigger makes a birthday campaign (its segment optional, no schedule); activated after
    its confirmation, it is shown as active, and stopped from the page."""
    domain = f"y{client.tenant_id.lower()}.example"
    sign_in(page, base_url, client, "/campaigns")
    page.get_by_role("button", name="New campaign").click()
    editor = page.get_by_role("form", name="New campaign")
    editor.get_by_label("Campaign name").fill("Birthdays")
    editor.get_by_label("Trigger").select_option(label="Birthday (each contact on their birthday)")
    expect(editor.get_by_label("Segment")).to_have_accessible_description(re.compile("Optional"))
    editor.get_by_label("Subject").fill("Happy birthday")
    editor.get_by_label("From").fill(f"hello@{domain}")
    editor.get_by_label("Body (HTML)").fill("<p>Happy birthday, {{ first_name }}!</p>")
    editor.get_by_role("button", name="Create campaign").click()
    expect(page).to_have_url(re.compile(r"campaign=[0-9A-Z]{26}"))
    (made,) = client.get("/v1/campaigns").json()["items"]
    assert made["trigger"] == "birthday" and made["segment_id"] is None

    article = page.get_by_role("article", name="Birthdays")
    expect(page.get_by_role("button", name="Schedule", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Activate").click()
    dialog = page.get_by_role("dialog", name="Activate this birthday campaign?")
    dialog.get_by_role("button", name="Activate").click()
    expect(article.get_by_test_id("campaign-status")).to_have_text("active")
    expect(page.get_by_text(re.compile("Active since .*greets contacts on their birthday"))).to_be_visible()
    assert client.get(f"/v1/campaigns/{made['id']}").json()["status"] == "sending"
    page.get_by_role("button", name="Stop (cancel campaign)").click()
    page.get_by_role("dialog", name="Cancel this campaign?").get_by_role(
        "button", name="Cancel campaign"
    ).click()
    expect(article.get_by_test_id("campaign-status")).to_have_text("cancelled")
