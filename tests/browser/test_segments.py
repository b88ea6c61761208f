"""The segment builder on the Campaigns page: conditions by property type (custom properties included), an
"or" group, the live member count, saving, and the members of a saved segment; axe finds nothing serious."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.support.client import ApiClient


def test_building_a_segment_with_a_live_count_and_reading_its_members(
    page: Page, base_url: str, client: ApiClient
) -> None:
    tier = {
        "name": "tier",
        "label": "Tier",
        "type": "enum",
        "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    }
    assert client.post("/v1/properties/contacts", tier).status_code == 201
    people = {
        "Ann Gold": {"lifecycle_stage": "lead", "custom": {"tier": "gold"}},
        "Bob Silver": {"lifecycle_stage": "lead", "custom": {"tier": "silver"}},
        "Cid Plain": {"lifecycle_stage": "lead"},
        "Dee Vip": {"lifecycle_stage": "customer", "tags": ["vip"]},
    }
    for name, fields in people.items():
        first, last = name.split()
        client.create("contacts", {"first_name": first, "last_name": last, **fields})

    sign_in(page, base_url, client, "/campaigns")
    expect(page.get_by_text("No segments yet.")).to_be_visible()
    page.get_by_role("button", name="New segment").click()
    builder = page.get_by_role("form", name="New segment")
    builder.get_by_label("Segment name").fill("Gold leads and VIPs")
    builder.get_by_label("Property (group 1, condition 1)").select_option("lifecycle_stage")
    builder.get_by_label("Value (group 1, condition 1)").select_option("lead")
    count = builder.get_by_test_id("segment-count")
    expect(count).to_have_text("3 contacts match now")

    builder.get_by_role("button", name="Add condition to group 1").click()
    builder.get_by_label("Property (group 1, condition 2)").select_option("custom.tier")
    builder.get_by_label("Value (group 1, condition 2)").select_option("gold")
    expect(count).to_have_text("1 contact matches now")

    builder.get_by_role("button", name='Add an "or" group').click()
    builder.get_by_label("Property (group 2, condition 1)").select_option("tags")
    expect(builder.get_by_label("Operator (group 2, condition 1)")).to_have_value("contains")
    builder.get_by_label("Value (group 2, condition 1)").fill("VIP")
    expect(count).to_have_text("2 contacts match now")
    expect(builder.get_by_role("link", name="Dee Vip")).to_be_visible()
    found = {"builder": serious_violations(page)}

    builder.get_by_role("button", name="Create segment").click()
    segments = page.get_by_role("table", name="Segments")
    expect(segments).to_contain_text("Gold leads and VIPs")
    page.get_by_role("button", name="Members of Gold leads and VIPs").click()
    members = page.get_by_role("table", name="Members of Gold leads and VIPs")
    expect(members.get_by_role("link")).to_have_text(["Ann Gold", "Dee Vip"])
    found["members"] = serious_violations(page)
    assert not any(found.values()), found

    (saved,) = client.get("/v1/segments").json()["items"]
    assert saved["filter"] == {
        "any": [
            {
                "all": [
                    {"property": "lifecycle_stage", "operator": "eq", "value": "lead"},
                    {"property": "custom.tier", "operator": "eq", "value": "gold"},
                ]
            },
            {"all": [{"property": "tags", "operator": "contains", "value": "VIP"}]},
        ]
    }
