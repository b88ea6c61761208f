"""Migration 0038 against a tenant whose webhook target was made while one rule brought every event to the
fan-out: after the deployment that removed that rule it has no rule of its own, and its webhook hears
nothing until the migration puts it; a second run puts nothing."""

from __future__ import annotations

from typing import Any

import boto3
from crm_core.config import settings
from crm_core.migrations import run
from crm_core.migrations.migration_0038 import MIGRATION, WEBHOOK_TARGET
from crm_core.services.event_target_rules import webhook_rule_name

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.integration.test_migration_0008 import WHOLE_PAGE
from tests.integration.test_webhooks import Receiver, add_webhook
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def _migrate(tenant: str) -> Any:
    dynamodb = boto3.client("dynamodb", region_name=settings().region)
    return run(dynamodb, settings().table_name, MIGRATION, segments=2, tenant=tenant, page_size=WHOLE_PAGE)


def test_a_tenant_with_a_webhook_from_before_gets_its_rule(runtime: LocalRuntime, client: ApiClient) -> None:
    receiver = Receiver()
    try:
        _check(client, receiver, BusTap(runtime, client.tenant_id))
    finally:
        receiver.stop()


def _check(client: ApiClient, receiver: Receiver, tap: BusTap) -> None:
    events = boto3.client("events")
    bus, name = settings().event_bus_name, webhook_rule_name(client.tenant_id)
    add_webhook(client, receiver.url, ["contact.created"])
    archived = add_webhook(client, receiver.url, ["contact.created"])
    assert client.delete(f"/v1/event-targets/{archived['id']}").status_code == 204
    # As a stack deployed before decision 0038 has it: the target, and no rule of its tenant.
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["webhook-fan-out"])
    events.delete_rule(Name=name, EventBusName=bus)
    unheard = client.create("contacts", {"email": "unheard@example.com"})
    # The relay is asynchronous: the event must have passed the bus before the migration puts the rule back,
    # or the rule would hear it.
    seen: list[dict[str, Any]] = []

    def passed_the_bus() -> bool:
        seen.extend(tap.drain(1, timeout=1.0))
        return any(event["detail"].get("data", {}).get("id") == unheard["id"] for event in seen)

    assert eventually(passed_the_bus)

    done = _migrate(client.tenant_id)
    assert (done.scanned[WEBHOOK_TARGET], done.rewritten[WEBHOOK_TARGET]) == (1, 1)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "ENABLED"
    heard = client.create("contacts", {"email": "heard@example.com"})
    assert eventually(lambda: receiver.accepted)
    assert [e["data"]["id"] for e in receiver.accepted] == [heard["id"]]

    again = _migrate(client.tenant_id)
    assert (again.scanned[WEBHOOK_TARGET], again.rewritten[WEBHOOK_TARGET]) == (1, 0)
