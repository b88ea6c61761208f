"""Contacts at work: filters carried by the URL, a bulk tag through the batch endpoint (a failed row shown),
two duplicates merged with a value chosen from each (a stale version shown and redone), a deal created
through the form landing in its column. The filters and the merge run at phone width."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_phone import scrolls_sideways
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def test_filter_by_lifecycle_stage_and_tag_the_url_keeps(
    phone: Page, base_url: str, client: ApiClient
) -> None:
    for first, stage, tags in (
        ("Lena", "lead", ["vip"]),
        ("Carl", "customer", ["vip"]),
        ("Lars", "lead", []),
    ):
        client.create(
            "contacts", {"first_name": first, "last_name": "Filter", "lifecycle_stage": stage, "tags": tags}
        )
    sign_in(phone, base_url, client)
    table = phone.get_by_role("table", name="Contacts")
    expect(table.locator("tbody tr")).to_have_count(3)

    filters = phone.get_by_role("search", name="Filter contacts")
    filters.get_by_label("Lifecycle stage").select_option("lead")
    expect(phone).to_have_url(re.compile(r"[?&]stage=lead"))
    expect(table.get_by_role("link", name="Carl Filter")).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(2)

    filters.get_by_label("Tag", exact=True).fill("vip")
    expect(phone).to_have_url(re.compile(r"[?&]tag=vip"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.get_by_role("link", name="Lena Filter")).to_be_visible()

    # The filtered list is a link: a reload (or the link sent to a colleague) shows the same list.
    phone.reload()
    expect(filters.get_by_label("Lifecycle stage")).to_have_value("lead")
    expect(filters.get_by_label("Tag", exact=True)).to_have_value("vip")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.get_by_role("link", name="Lena Filter")).to_be_visible()

    assert not scrolls_sideways(phone), "the filters widen the page at phone width"
    phone.get_by_role("button", name="Clear filters").click()
    expect(table.locator("tbody tr")).to_have_count(3)


def test_bulk_add_a_tag_shows_the_row_it_failed_on(page: Page, base_url: str, client: ApiClient) -> None:
    plain = [
        client.create("contacts", {"first_name": name, "last_name": "Bulk"}) for name in ("Ann", "Ben", "Cid")
    ]
    full = client.create(
        "contacts", {"first_name": "Dora", "last_name": "Bulk", "tags": [f"t{n}" for n in range(10)]}
    )
    untouched = client.create("contacts", {"first_name": "Eve", "last_name": "Bulk"})
    sign_in(page, base_url, client)
    for name in ("Ann", "Ben", "Cid", "Dora"):
        page.get_by_role("checkbox", name=f"Select {name} Bulk").check()
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk.get_by_test_id("selected-count")).to_have_text("4 selected")

    bulk.get_by_label("Tag to add or remove").fill("q4-push")
    bulk.get_by_role("button", name="Add tag").click()

    outcome = bulk.get_by_test_id("bulk-outcome")
    expect(outcome).to_contain_text("3 contacts done, 1 failed")
    # The batch's per-item problem, named by the row; that row stays selected to try again.
    expect(outcome).to_contain_text("Dora Bulk: ")
    expect(bulk.get_by_test_id("selected-count")).to_have_text("1 selected")
    expect(page.get_by_role("checkbox", name="Select Dora Bulk")).to_be_checked()
    for contact in plain:
        assert "q4-push" in client.get(f"/v1/contacts/{contact['id']}").json()["tags"]
    assert "q4-push" not in client.get(f"/v1/contacts/{full['id']}").json()["tags"]
    assert not client.get(f"/v1/contacts/{untouched['id']}").json().get("tags")
    # The list shows the tags it was given.
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Ann Bulk"))
    expect(row).to_contain_text("q4-push")


def test_merge_two_duplicates_choosing_values_from_each(
    phone: Page, base_url: str, client: ApiClient
) -> None:
    number = "+1 555 0199"
    keep = client.create(
        "contacts",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@navy.example",
            "phone": number,
            "title": "Rear Admiral",
        },
    )
    lose = client.create(
        "contacts",
        {
            "first_name": "Amazing",
            "last_name": "Grace",
            "email": "amazing@cobol.example",
            "phone": number,
            "title": "Computer scientist",
            "lifecycle_stage": "customer",
        },
    )
    assert eventually(lambda: client.get("/v1/contacts/duplicates").json()["items"]), (
        "no duplicate pair found"
    )
    sign_in(phone, base_url, client, "/contacts/duplicates")
    pair = phone.get_by_test_id("duplicate-pair")
    expect(pair).to_contain_text("Same phone")
    pair.get_by_role("link", name=re.compile("Compare and merge")).click()

    choices = phone.get_by_role("form", name="Merge choices")
    choices.get_by_label("Keep Grace Hopper").check()
    choices.get_by_label("Job title: Computer scientist").check()
    # Someone changes the survivor meanwhile: the merge stops, says so, and shows it anew.
    client.patch(f"/v1/contacts/{keep['id']}", {"source": "Trade fair"})
    phone.get_by_role("button", name="Merge into Grace Hopper").click()
    expect(phone.get_by_role("alert")).to_contain_text("nothing was merged")
    assert client.get(f"/v1/contacts/{lose['id']}").status_code == 200
    assert client.get(f"/v1/contacts/{keep['id']}").json()["title"] == "Rear Admiral"
    expect(choices.get_by_label("Job title: Computer scientist")).to_be_checked()
    assert not scrolls_sideways(phone), "the merge view widens the page at phone width"

    phone.get_by_role("button", name="Merge into Grace Hopper").click()
    expect(phone).to_have_url(f"{base_url}/contacts/{keep['id']}")
    expect(phone.get_by_test_id("merged")).to_be_visible()
    survivor = client.get(f"/v1/contacts/{keep['id']}").json()
    assert survivor["title"] == "Computer scientist"  # chosen from the other
    assert survivor["lifecycle_stage"] == "customer"  # only the other had one
    assert survivor["email"] == "grace@navy.example"  # the survivor's own
    assert survivor["source"] == "Trade fair"  # the change made meanwhile is kept
    assert client.get(f"/v1/contacts/{lose['id']}").status_code == 404
    archived = client.get(f"/v1/contacts/{lose['id']}", params={"archived": "true"}).json()
    assert archived["merged_into"] == keep["id"]
    # A link to the one merged away leads on to the survivor.
    phone.goto(f"{base_url}/contacts/{lose['id']}")
    notice = phone.get_by_test_id("archived")
    expect(notice).to_contain_text("merged into")
    notice.get_by_role("link").click()
    expect(phone).to_have_url(f"{base_url}/contacts/{keep['id']}")


def test_a_deal_created_through_the_form_lands_in_its_column(
    page: Page, base_url: str, client: ApiClient
) -> None:
    company = client.create("companies", {"name": "Globex", "domain": "globex.example"})
    contact = client.create("contacts", {"first_name": "Hank", "last_name": "Scorpio"})
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    second = [stage for stage in pipeline["stages"] if stage["kind"] == "open"][1]
    sign_in(page, base_url, client, "/deals")
    page.get_by_role("button", name="New deal").click()
    form = page.get_by_role("region", name="New deal")

    # The API's problem names the field; the form shows it there.
    form.get_by_role("button", name="Create deal").click()
    expect(form.get_by_role("textbox", name="Name", exact=True)).to_have_attribute("aria-invalid", "true")

    form.get_by_role("textbox", name="Name", exact=True).fill("Globex rollout")
    form.get_by_label("Amount").fill("4200")
    form.get_by_label("Stage").select_option(label=second["name"])
    form.get_by_role("combobox", name="Company").fill("Glob")
    page.get_by_role("option", name=re.compile("^Globex")).click()
    form.get_by_role("combobox", name="Contact").fill("Hank")
    page.get_by_role("option", name=re.compile("^Hank Scorpio")).click()
    form.get_by_label("Close date").fill("2027-03-31")
    form.get_by_role("button", name="Create deal").click()

    column = page.get_by_role("region", name=second["name"])
    expect(column.get_by_test_id("deal-card").filter(has_text="Globex rollout")).to_be_visible()
    expect(page.get_by_role("region", name="New deal")).to_have_count(0)
    (deal,) = client.get("/v1/deals", params={"stage_id": second["id"]}).json()["items"]
    assert (deal["name"], Decimal(deal["amount"]), deal["currency"]) == (
        "Globex rollout",
        4200,
        pipeline["currency"],
    )
    assert (deal["company_id"], deal["contact_ids"], deal["close_date"]) == (
        company["id"],
        [contact["id"]],
        "2027-03-31",
    )
    # The board's chart: the stage's open amount in the user's locale (en-US here).
    chart = page.get_by_test_id("board-chart")
    expect(chart).to_contain_text(f"{second['name']}")
    expect(chart).to_contain_text("€4,200.00 · 1 deal")
