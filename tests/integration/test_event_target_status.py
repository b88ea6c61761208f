"""An event target's status tells a partner when events start flowing, and when they stop arriving."""

from __future__ import annotations

from typing import Any

from crm_local.runtime import LocalRuntime
from tests.integration.test_partner_buses import PartnerBus
from tests.integration.test_webhooks import Receiver, add_webhook
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def status_of(client: ApiClient, target_id: str) -> str:
    status: str = client.get(f"/v1/event-targets/{target_id}").json()["status"]
    return status


def test_once_an_eventbridge_target_is_active_the_very_next_event_reaches_the_partner(
    runtime: LocalRuntime, client: ApiClient
) -> None:
    partner = PartnerBus(f"status-{client.tenant_id.lower()}")
    created = client.post(
        "/v1/event-targets",
        {"type": "eventbridge", "event_bus_arn": partner.arn, "event_types": ["contact.created"]},
    )
    assert created.status_code == 201, created.text
    target = created.json()
    assert target["status"] == "pending"
    etag = client.get(f"/v1/event-targets/{target['id']}").headers["ETag"]
    assert eventually(lambda: status_of(client, target["id"]) == "active", timeout=20)

    contact = client.create("contacts", {"email": "first-after-active@example.com"})
    received = partner.collect(lambda got: len(got) >= 1)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in received] == [
        ("contact.created", contact["id"])
    ]
    # The status was written beside the record: the version read while pending still matches.
    changed = client.patch(
        f"/v1/event-targets/{target['id']}", {"description": "Partner X"}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    listed = client.get("/v1/event-targets").json()["items"]
    assert [t["status"] for t in listed if t["id"] == target["id"]] in (["pending"], ["active"])
    assert eventually(lambda: status_of(client, target["id"]) == "active", timeout=20)


def test_status_is_read_only(client: ApiClient) -> None:
    body: dict[str, Any] = {
        "type": "webhook",
        "url": "http://127.0.0.1:9/hook",
        "secret": "a-long-shared-secret-for-tests",
        "event_types": ["*"],
        "status": "active",
    }
    response = client.post("/v1/event-targets", body)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["status"]
    target = client.create("event-targets", {k: v for k, v in body.items() if k != "status"})
    response = client.patch(f"/v1/event-targets/{target['id']}", {"status": "active"})
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["status"]


def test_a_webhook_that_keeps_failing_is_failing_until_a_delivery_succeeds(client: ApiClient) -> None:
    receiver = Receiver()
    try:
        target = add_webhook(client, receiver.url, ["contact.created"])
        assert target["status"] == "pending"
        assert eventually(lambda: status_of(client, target["id"]) == "active")
        receiver.fail_next = 1000  # down
        client.create("contacts", {"email": "never-got-it@example.com"})
        assert eventually(lambda: status_of(client, target["id"]) == "failing", timeout=40)
        version = client.get(f"/v1/event-targets/{target['id']}").json()["version"]
        assert version == 1, "the status is not a change of the target"

        receiver.fail_next = 0  # back
        contact = client.create("contacts", {"email": "got-this-one@example.com"})
        assert eventually(lambda: status_of(client, target["id"]) == "active", timeout=20)
        assert [e["data"]["id"] for e in receiver.accepted] == [contact["id"]]
    finally:
        receiver.stop()
