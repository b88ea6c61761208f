"""EventBridge targets: a partner's bus receives the tenant's chosen events, once, and nothing else."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3

from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.waiting import eventually


class PartnerBus:
    """The partner's side: its own bus, and a rule on it that keeps what arrives in a queue."""

    def __init__(self, name: str) -> None:
        self.events, self.sqs = boto3.client("events"), boto3.client("sqs")
        self.arn: str = self.events.create_event_bus(Name=name)["EventBusArn"]
        self.queue = self.sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.events.put_rule(
            Name=f"{name}-all", EventBusName=name, EventPattern=json.dumps({"source": ["crm"]})
        )
        self.events.put_targets(
            Rule=f"{name}-all", EventBusName=name, Targets=[{"Id": "inbox", "Arn": queue_arn}]
        )
        self.received: list[dict[str, Any]] = []

    def collect(
        self, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
            if until(self.received):
                break
            time.sleep(0.2)
        return self.received


def rule_exists(target_id: str) -> bool:
    return bool(
        boto3.client("events").list_rules(EventBusName="crm", NamePrefix=f"crm-target-{target_id}")["Rules"]
    )


def test_a_partner_bus_receives_the_chosen_events_once(
    runtime: LocalRuntime, client: ApiClient, other: ApiClient
) -> None:
    partner = PartnerBus(f"partner-{client.tenant_id.lower()}")
    created = client.post(
        "/v1/event-targets",
        {"type": "eventbridge", "event_bus_arn": partner.arn, "event_types": ["contact.created", "deal.*"]},
    )
    assert created.status_code == 201, created.text
    target = created.json()
    assert eventually(lambda: rule_exists(target["id"])), "the target's rule was never made"

    contact = client.create("contacts", {"email": "partnered@example.com"})
    client.patch(f"/v1/contacts/{contact['id']}", {"title": "Not chosen"})
    deal = client.create("deals", {"name": "Partnered"})
    other.create("contacts", {"email": "rival@example.com"})
    partner.collect(lambda got: len(got) >= 2)
    time.sleep(1.5)
    partner.collect(lambda got: False, timeout=0.5)
    assert sorted((e["detail-type"], e["detail"]["data"]["id"]) for e in partner.received) == sorted(
        [("contact.created", contact["id"]), ("deal.created", deal["id"])]
    )
    assert {e["detail"]["tenant_id"] for e in partner.received} == {client.tenant_id}

    assert client.delete(f"/v1/event-targets/{target['id']}").status_code == 204
    assert eventually(lambda: not rule_exists(target["id"])), "the archived target's rule stayed"
    client.create("contacts", {"email": "after@example.com"})
    time.sleep(1.5)
    assert len(partner.collect(lambda got: False, timeout=0.5)) == 2


def test_a_target_needs_a_bus_arn(client: ApiClient) -> None:
    response = client.post("/v1/event-targets", {"type": "eventbridge", "event_types": ["*"]})
    assert response.status_code == 422
    response = client.post(
        "/v1/event-targets", {"type": "eventbridge", "event_bus_arn": "not-an-arn", "event_types": ["*"]}
    )
    assert response.status_code == 422 and "event_bus_arn" in [e["field"] for e in response.json()["errors"]]


def test_a_partner_bus_that_refuses_costs_only_its_own_delivery_and_redrives(
    runtime: LocalRuntime, client: ApiClient
) -> None:
    """As in EventBridge, a target that cannot take an event goes to the target's dead-letter queue; the
    publication succeeded, so the relay does not publish again and nobody else gets the event twice. Once
    the partner's bus exists, `crm dlq redrive crm-partner-deliveries` sends the event there, once."""
    from crm_core.definitions import PARTNER_DELIVERIES_QUEUE

    from crm_local import dlq
    from tests.e2e.test_events import BusTap

    def waiting() -> int:
        return next(r.messages for r in dlq.list_all(sqs) if r.queue == PARTNER_DELIVERIES_QUEUE.name)

    tap = BusTap(runtime, client.tenant_id)
    sqs = boto3.client("sqs")
    before = waiting()
    name = f"late-{client.tenant_id.lower()}"
    account = boto3.client("sts").get_caller_identity()["Account"]
    created = client.post(
        "/v1/event-targets",
        {
            "type": "eventbridge",
            "event_bus_arn": f"arn:aws:events:us-east-1:{account}:event-bus/{name}",
            "event_types": ["contact.*"],
        },
    )
    assert created.status_code == 201, created.text
    assert eventually(lambda: rule_exists(created.json()["id"])), "the target's rule was never made"
    assert runtime.relay is not None and runtime.relay.error is None

    contact = client.create("contacts", {"email": "nobody-home@example.com"})
    events = [e for e in tap.drain(expected=2, timeout=10) if e["detail-type"].startswith("contact.")]
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in events] == [
        ("contact.created", contact["id"])
    ]
    assert runtime.relay.error is None, runtime.relay.error
    assert eventually(lambda: waiting() == before + 1), (
        "the refused event never reached the dead-letter queue"
    )

    [letter] = [
        m for m in dlq.show(sqs, PARTNER_DELIVERIES_QUEUE.name, limit=50) if contact["id"] in m["body"]
    ]
    assert letter["target_arn"].endswith(f":event-bus/{name}") and letter["error_code"] == "NO_RESOURCE"
    time.sleep(5.5)  # show() looked at the messages; let them become visible again

    partner = PartnerBus(name)  # the partner sets its bus up at last
    replay = dlq.replay_partner_deliveries(sqs)
    assert (replay.replayed, replay.events, replay.kept) == (before + 1, before + 1, [])
    received = partner.collect(lambda got: len(got) >= 1)
    time.sleep(1)
    received = partner.collect(lambda got: False, timeout=0.5)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in received] == [
        ("contact.created", contact["id"])
    ]
    assert waiting() == 0
