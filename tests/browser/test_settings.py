"""Settings as an admin uses it, through the public API: a user invited and given a key that works until it
is revoked; a webhook target made in the page whose delivery log shows what reached the partner; a rep
reads the settings without the admin's actions, and no settings page scrolls sideways at phone width;
an event source archived and restored; the API's refusals (a pipeline holding deals, the last admin)."""

from __future__ import annotations

import re

import requests
from crm_core.auth import Role
from crm_core.models import sla_policy
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.integration.test_webhooks import SECRET, Receiver, receiver  # noqa: F401  (a fixture)
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.waiting import eventually

ADMIN_ACTIONS = re.compile(
    "^(Invite|New|Edit|Change|Rename|Delete|Deactivate|Reactivate|Revoke|Archive|Restore|Event types)"
)


def me(base_url: str, key: str) -> requests.Response:
    return requests.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_admin_invites_a_user_and_issues_a_key_that_works_until_revoked(
    page: Page, base_url: str, client: ApiClient
) -> None:
    admin_email = client.get("/v1/me").json()["user"]["email"]
    sign_in(page, base_url, client, "/settings/users")
    page.get_by_role("button", name="Invite user").click()
    invite = page.get_by_role("region", name="Invite a user")
    invite.get_by_label("Email").fill(admin_email)
    invite.get_by_label("Name").fill("Grace Hopper")
    invite.get_by_label("Role").select_option("rep")
    invite.get_by_role("button", name="Invite user").click()
    # The API's 409 on a taken email shows next to the field, and nothing is created.
    expect(invite.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert not serious_violations(page)
    invite.get_by_label("Email").fill("grace@acme.example")
    invite.get_by_role("button", name="Invite user").click()

    users = page.get_by_role("table", name="Users")
    grace = users.get_by_role("row").filter(has_text="grace@acme.example")
    expect(grace).to_contain_text("rep")
    expect(grace).to_contain_text("active")
    page.get_by_role("link", name="Create an API key for Grace Hopper").click()

    new_key = page.get_by_role("region", name="New API key")
    expect(new_key.get_by_label("Acts as")).to_have_value(re.compile(r"^[0-9A-Z]{26}$"))
    new_key.get_by_label("Key name").fill("Grace's laptop")
    new_key.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog", name="Your new API key")
    expect(dialog).to_contain_text("shown only this once")
    expect(dialog.get_by_role("button", name="Copy key")).to_be_visible()
    assert not serious_violations(page)
    key = dialog.get_by_label("New API key").input_value()
    answer = me(base_url, key)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["user"]["email"], answer.json()["role"]) == ("grace@acme.example", "rep")
    dialog.get_by_role("button", name="I have stored the key").click()
    expect(dialog).to_have_count(0)

    keys = page.get_by_role("table", name="API keys")
    row = keys.get_by_role("row").filter(has_text="Grace's laptop")
    expect(row).to_contain_text("Grace Hopper")
    expect(row).to_contain_text(key[:8])  # the prefix, never the secret
    row.get_by_role("button", name="Revoke Grace's laptop").click()
    page.get_by_role("dialog", name="Revoke Grace's laptop?").get_by_role("button", name="Revoke key").click()
    expect(row).to_have_count(0)
    assert me(base_url, key).status_code == 401


def test_a_webhook_made_in_the_page_shows_its_deliveries(
    page: Page,
    base_url: str,
    client: ApiClient,
    receiver: Receiver,  # noqa: F811
) -> None:
    sign_in(page, base_url, client, "/settings/event-targets")
    page.get_by_role("button", name="New event target").click()
    form = page.get_by_role("region", name="New event target")
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_label("Signing secret").fill(SECRET)
    form.get_by_label("Event types").fill("contact.created, Contacts!")
    form.get_by_role("button", name="Create target").click()
    # The API names the bad pattern (event_types[1]); the field that holds them all shows it.
    expect(form.get_by_text(re.compile("Contacts!: "))).to_be_visible()
    form.get_by_label("Event types").fill("contact.created")
    form.get_by_role("button", name="Create target").click()

    row = page.get_by_role("table", name="Event targets").get_by_role("row").filter(has_text=receiver.url)
    # Pending until its routing is in place: its badge (the status's meaning beside it names "active" too).
    expect(row.get_by_text("active", exact=True)).to_be_visible(timeout=20_000)
    contact = client.create("contacts", {"email": "hooked@acme.example"})
    row.get_by_role("link", name=f"Delivery log of {receiver.url}").click()

    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    deliveries = page.get_by_role("table", name="Deliveries")
    expect(deliveries).to_contain_text("contact.created", timeout=20_000)
    expect(deliveries).to_contain_text("succeeded")
    assert [event["data"]["id"] for event in receiver.accepted] == [contact["id"]]

    deliveries.get_by_role("button", name=re.compile("^Redeliver contact.created")).click()
    expect(page.get_by_text("Redelivery queued")).to_be_visible()
    assert not serious_violations(page)
    assert eventually(lambda: len(receiver.accepted) == 2)
    assert receiver.accepted[1]["id"] == receiver.accepted[0]["id"]

    page.get_by_label("Outcome").select_option("gave_up")
    expect(page.get_by_text("No delivery matches these filters.")).to_be_visible()


def test_a_rep_reads_settings_without_the_admins_actions_at_phone_width(
    phone: Page, base_url: str, client: ApiClient
) -> None:
    team = client.create("teams", {"name": "Field sales"})
    rep = user_client(client, Role.REP, name="Rita Rep", team_id=team["id"])
    client.create(
        "event-targets",
        {
            "type": "webhook",
            "url": "http://127.0.0.1:9/a-rather-long-path/of-the-partners-endpoint/for-crm-events/receiver",
            "secret": "a-long-enough-secret",
            "event_types": ["export.completed"],
        },
    )
    client.create("event-sources", {"source": "partner.acme", "account_id": "123456789012"})
    tier = {"name": "tier", "label": "Tier", "type": "enum", "options": [{"value": "gold", "label": "Gold"}]}
    assert client.post("/v1/properties/contacts", tier).status_code == 201
    client.create("sla-policies", sla_policy.EXAMPLE)
    sign_in(phone, base_url, rep, "/settings/users")
    sections = phone.get_by_role("navigation", name="Settings sections")
    expect(sections.get_by_role("link", name="Pipelines")).to_be_visible()
    expect(sections.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(sections.get_by_role("link", name="Imports")).to_have_count(0)
    expect(sections.get_by_role("link", name="Exports")).to_have_count(0)
    for path, loaded in (
        ("/settings/users", phone.get_by_role("table", name="Users").get_by_text("Rita Rep")),
        ("/settings/teams", phone.get_by_role("table", name="Teams").get_by_text("Field sales")),
        ("/settings/api-keys", phone.get_by_role("table", name="API keys")),
        ("/settings/pipelines", phone.get_by_role("article").first),
        ("/settings/properties", phone.get_by_role("table", name="Properties of contacts")),
        ("/settings/event-targets", phone.get_by_role("table", name="Event targets")),
        ("/settings/event-sources", phone.get_by_role("table", name="Event sources")),
        ("/settings/sla-policies", phone.get_by_role("article", name=sla_policy.EXAMPLE["name"])),
    ):
        phone.goto(f"{base_url}{path}")
        expect(loaded).to_be_visible()
        expect(phone.get_by_text(re.compile("Only an admin can change"))).to_be_visible()
        expect(phone.get_by_role("button", name=ADMIN_ACTIONS)).to_have_count(0)
        assert not scrolls_sideways(phone), path

    # The audit log is an admin's: opened by its address, the page shows the API's refusal.
    phone.goto(f"{base_url}/settings/audit")
    refused = phone.get_by_role("alert")
    expect(refused).to_contain_text("The audit log could not be loaded")
    expect(refused).to_contain_text("Only an admin can read the audit trail")
    assert not serious_violations(phone)

    # A person's export and erasure are an admin's: a rep's contact page has no Privacy section.
    contact = client.create(
        "contacts", {"first_name": "Pat", "email": "pat@acme.example", "owner_id": rep.user_id}
    )
    phone.goto(f"{base_url}/contacts/{contact['id']}")
    expect(phone.get_by_test_id("timeline")).to_be_visible()
    # /v1/me has answered (the role is known) before the section's absence is asserted.
    expect(phone.get_by_test_id("signed-in-as")).to_contain_text("(rep)")
    expect(phone.get_by_role("region", name="Privacy")).to_have_count(0)
    expect(phone.get_by_role("button", name=re.compile("Erase|Download this person"))).to_have_count(0)


def test_admin_edits_a_pipelines_stages(page: Page, base_url: str, client: ApiClient) -> None:
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    stages = {stage["name"]: stage for stage in pipeline["stages"]}
    client.create(
        "deals",
        {"name": "Held", "pipeline_id": pipeline["id"], "stage_id": stages["Qualified"]["id"]},
    )
    sign_in(page, base_url, client, "/settings/pipelines")
    edit = page.get_by_role("button", name=f"Edit {pipeline['name']}")
    editor = page.get_by_role("region", name=f"Edit {pipeline['name']}")

    # A stage that holds a deal cannot go: the API's 409 shows on the stages, nothing changes.
    edit.click()
    editor.get_by_role("button", name="Remove Qualified").click()
    editor.get_by_role("button", name="Save pipeline").click()
    expect(editor.get_by_role("alert")).to_contain_text("still hold deals")
    editor.get_by_role("button", name="Cancel").click()

    edit.click()
    editor.get_by_role("button", name="Add stage").click()
    count = len(pipeline["stages"]) + 1
    editor.get_by_label(f"Stage {count} name").fill("Legal review")
    editor.get_by_label("Probability of Legal review in percent").fill("90")
    editor.get_by_role("button", name="Move Legal review up").click()
    editor.get_by_role("button", name="Save pipeline").click()
    expect(page.get_by_role("article", name=pipeline["name"])).to_contain_text("Legal review · 90%")

    saved = client.get(f"/v1/pipelines/{pipeline['id']}").json()["stages"]
    assert [stage["name"] for stage in saved] == [
        *[stage["name"] for stage in pipeline["stages"][:-1]],
        "Legal review",
        pipeline["stages"][-1]["name"],
    ]
    assert saved[-2]["probability"] == 0.9
    assert [stage["id"] for stage in saved if stage["name"] != "Legal review"] == [
        stage["id"] for stage in pipeline["stages"]
    ]


def confirm(page: Page, action: str, confirm_label: str) -> Locator:
    """Clicks a row's action and confirms it in its dialog; answers the dialog's alert (the API's refusal)."""
    page.get_by_role("button", name=action).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name=confirm_label, exact=True).click()
    return dialog.get_by_role("alert")


def test_admin_archives_and_restores_settings(page: Page, base_url: str, client: ApiClient) -> None:
    sign_in(page, base_url, client, "/settings/event-sources")
    page.get_by_role("button", name="New event source").click()
    form = page.get_by_role("region", name="New event source")
    form.get_by_label("Source").fill("Acme Leads")
    form.get_by_label("AWS account").fill("123456789012")
    form.get_by_label("Description").fill("Acme's lead forms")
    form.get_by_role("button", name="Register source").click()
    # The API's 422 names the source; it shows next to that field, and nothing is registered.
    expect(form.get_by_label("Source")).to_have_attribute("aria-invalid", "true")
    assert client.get("/v1/event-sources").json()["items"] == []
    form.get_by_label("Source").fill("partner.acme-leads")
    form.get_by_role("button", name="Register source").click()

    sources = page.get_by_role("table", name="Event sources")
    row = sources.get_by_role("row").filter(has_text="partner.acme-leads")
    expect(row).to_contain_text("123456789012")
    expect(row).to_contain_text("Acme's lead forms")
    (registered,) = client.get("/v1/event-sources").json()["items"]
    assert (registered["source"], registered["account_id"]) == ("partner.acme-leads", "123456789012")

    row.get_by_role("button", name="Change partner.acme-leads").click()
    change = page.get_by_role("dialog", name="Change partner.acme-leads")
    change.get_by_label("AWS account").fill("")  # this CRM's own account
    change.get_by_label("Description").fill("Acme's lead and ticket forms")
    change.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Acme's lead and ticket forms")
    expect(row).to_contain_text("This CRM's own")
    changed = client.get(f"/v1/event-sources/{registered['id']}").json()
    assert (changed["account_id"], changed["version"]) == (None, registered["version"] + 1)

    row.get_by_role("button", name="Archive partner.acme-leads").click()
    page.get_by_role("dialog", name="Archive partner.acme-leads?").get_by_role(
        "button", name="Archive source"
    ).click()
    expect(page.get_by_text("No event sources: no partner can send the CRM events yet.")).to_be_visible()
    page.get_by_role("switch", name="Show archived").check()
    archived = page.get_by_role("table", name="Archived event sources")
    archived.get_by_role("button", name="Restore partner.acme-leads").click()
    page.get_by_role("dialog", name="Restore partner.acme-leads?").get_by_role(
        "button", name="Restore source"
    ).click()
    expect(page.get_by_text("No archived event sources.")).to_be_visible()
    page.get_by_role("switch", name="Show archived").uncheck()
    expect(row).to_be_visible()
    assert client.get(f"/v1/event-sources/{registered['id']}").json()["archived"] is False

    # A pipeline that holds an open deal stays: the API's 409 shows in the dialog.
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    client.create("deals", {"name": "Held", "pipeline_id": pipeline["id"]})
    page.goto(f"{base_url}/settings/pipelines")
    refusal = confirm(page, f"Archive {pipeline['name']}", "Archive pipeline")
    expect(refusal).to_contain_text("still holds open deals")
    assert client.get(f"/v1/pipelines/{pipeline['id']}").json()["archived"] is False

    # The tenant's last active admin cannot deactivate itself: the API's 409 shows too.
    admin = client.get("/v1/me").json()["user"]
    page.goto(f"{base_url}/settings/users")
    refusal = confirm(page, f"Deactivate {admin['name'] or admin['email']}", "Deactivate")
    expect(refusal).to_contain_text("last active admin")
