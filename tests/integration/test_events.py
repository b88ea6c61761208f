"""Every committed change reaches the `crm` bus once, as a rule sees it; a refused change never does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient


class BusTap:
    """A rule on the crm bus, for one tenant, delivering to an SQS queue: what a partner would set up."""

    def __init__(self, runtime: LocalRuntime, tenant_id: str) -> None:
        assert runtime.instance is not None
        resources = runtime.instance.resources
        self.sqs = boto3.client("sqs")
        events = boto3.client("events")
        name = f"tap-{tenant_id.lower()}"
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=name,
            EventBusName=resources["event_bus_name"],
            EventPattern=json.dumps({"source": ["crm"], "detail": {"tenant_id": [tenant_id]}}),
        )
        events.put_targets(
            Rule=name, EventBusName=resources["event_bus_name"], Targets=[{"Id": "queue", "Arn": queue_arn}]
        )

    def drain(self, expected: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Everything delivered until ``expected`` events arrived and a quiet second passed."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        quiet_until = None
        while time.monotonic() < deadline:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            for message in messages:
                event = json.loads(message["Body"])
                # Tenant creation's own events (its default pipeline, its admin and the admin's key) are not
                # what these tests watch.
                created_with_tenant = event["detail"].get("actor", {}).get("id") == "tenant-creation"
                if not event["detail-type"].startswith("pipeline.") and not created_with_tenant:
                    received.append(event)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if len(received) >= expected:
                quiet_until = quiet_until or time.monotonic() + 1.0
                if time.monotonic() >= quiet_until:
                    break
            time.sleep(0.1)
        return received


@pytest.fixture
def tap(runtime: LocalRuntime, client: ApiClient) -> Iterator[BusTap]:
    yield BusTap(runtime, client.tenant_id)


def test_each_change_is_published_once_with_its_detail(client: ApiClient, tap: BusTap) -> None:
    created = client.post("/v1/contacts", {"email": "ev@example.com", "first_name": "Eve"})
    contact = created.json()
    client.patch(f"/v1/contacts/{contact['id']}", {"title": "CFO"})
    client.delete(f"/v1/contacts/{contact['id']}")
    client.post(f"/v1/contacts/{contact['id']}/restore")
    company = client.create("companies", {"name": "Evented"})

    events = tap.drain(expected=5)
    assert [e["detail-type"] for e in events] == [
        "contact.created",
        "contact.updated",
        "contact.archived",
        "contact.restored",
        "company.created",
    ]
    assert len({e["detail"]["id"] for e in events}) == 5
    first = events[0]
    assert first["source"] == "crm"
    detail = first["detail"]
    assert set(detail) >= {
        "id",
        "type",
        "version",
        "tenant_id",
        "occurred_at",
        "actor",
        "correlation_id",
        "data",
        "changes",
    }
    assert detail["tenant_id"] == client.tenant_id
    assert detail["data"]["id"] == contact["id"] and detail["data"]["email"] == "ev@example.com"
    assert detail["correlation_id"] == created.headers["X-Request-Id"]
    assert detail["actor"]["id"] == client.user_id
    assert events[1]["detail"]["changes"] == {"title": {"from": None, "to": "CFO"}}
    assert [e["detail"]["sequence"] for e in events[:4]] == [1, 2, 3, 4]
    assert events[4]["detail"]["data"]["id"] == company["id"]


def test_refused_changes_publish_nothing(client: ApiClient, tap: BusTap) -> None:
    contact = client.create("contacts", {"email": "once@example.com"})
    assert client.post("/v1/contacts", {"email": "ONCE@example.com"}).status_code == 409
    assert (
        client.patch(f"/v1/contacts/{contact['id']}", {"title": "x"}, headers={"If-Match": '"7"'}).status_code
        == 412
    )
    assert client.post("/v1/contacts", {"email": "not-an-email"}).status_code == 422
    assert client.patch(f"/v1/contacts/{contact['id']}", {"title": "CFO"}).status_code == 200  # a real change
    events = tap.drain(expected=2)
    assert [e["detail-type"] for e in events] == ["contact.created", "contact.updated"]


def test_other_tenants_events_do_not_reach_this_tenants_rule(
    client: ApiClient, other: ApiClient, tap: BusTap
) -> None:
    other.create("contacts", {"email": "rival@example.com"})
    client.create("contacts", {"email": "mine@example.com"})
    events = tap.drain(expected=1)
    assert [e["detail"]["data"]["email"] for e in events] == ["mine@example.com"]


def test_idempotent_retry_publishes_one_event(client: ApiClient, tap: BusTap) -> None:
    headers = {"Idempotency-Key": "retry-1"}
    first = client.post("/v1/contacts", {"email": "retry@example.com"}, headers=headers)
    second = client.post("/v1/contacts", {"email": "retry@example.com"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    events = tap.drain(expected=1)
    assert [e["detail-type"] for e in events] == ["contact.created"]
