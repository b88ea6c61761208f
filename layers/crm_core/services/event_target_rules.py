"""Event targets' routing on the crm bus, kept in step with each target by a consumer of its events, which
reads the target's current state, so repeated or reordered events converge.

An EventBridge target has a rule of its own, sending the tenant's chosen event types to the partner's bus. A
tenant's webhooks share one rule, put with its first webhook target, that brings its events to the webhook
fan-out (which matches each against the targets' types): a tenant with no webhook target costs the fan-out
nothing (docs/decisions/0038)."""

from __future__ import annotations

import json
import time
from typing import Any, NotRequired, TypedDict

from crm_core import aws
from crm_core.config import settings
from crm_core.definitions import EVENT_SOURCE, PARTNER_RULE_PREFIX, WEBHOOK_RULE_PREFIX
from crm_core.ids import utc_now
from crm_core.repositories import event_target_status_repository as status_repository
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem, TableItem
from crm_core.services.records import record_data

RETRY_ATTEMPTS = 8
MAX_EVENT_AGE_S = 7200


def rule_name(target_id: str) -> str:
    return f"{PARTNER_RULE_PREFIX}{target_id}"


def webhook_rule_name(tenant_id: str) -> str:
    return f"{WEBHOOK_RULE_PREFIX}{tenant_id}"


# An EventBridge event pattern (JSON): the values an event's field may have, or a {"prefix": ...} matcher.
EventPattern = TypedDict(
    "EventPattern",
    {
        "source": list[str],
        "detail": dict[str, list[str]],
        "detail-type": NotRequired[list[str | dict[str, str]]],
    },
)


def event_pattern(tenant_id: str, event_types: list[str]) -> EventPattern:
    """The tenant's events of the chosen types: "x.*" is a prefix, "*" every type."""
    pattern: EventPattern = {"source": [EVENT_SOURCE], "detail": {"tenant_id": [tenant_id]}}
    if "*" not in event_types:
        pattern["detail-type"] = [
            {"prefix": t[:-1]} if t.endswith(".*") else t for t in sorted(set(event_types))
        ]
    return pattern


def sync_rule(tenant_id: str, target_id: str) -> str:
    """Make the target's routing match its current state, then record which version of it is routed (its
    ``status`` turns ``active``): an EventBridge target's rule and target put on the crm bus; a webhook's,
    once the tenant's webhook rule is in place and the fan-out's index (GSI1, eventually consistent) shows
    this version, since the fan-out finds the tenant's webhooks there. An archived or deleted target's rule
    is removed; the tenant's webhook rule stays when its last webhook goes (two targets changing at once
    could otherwise remove it under a new one: the fan-out then finds no target, at the price of a queue
    message an event), and goes with the tenant."""
    config = settings()
    events = aws.client("events")
    target = repo.get_record(tenant_id, "event_target", target_id, consistent=True)
    data = record_data(target) if target is not None else {}
    name = rule_name(target_id)
    if target is None or target.archived_at is not None or data.get("type") != "eventbridge":
        try:
            events.remove_targets(Rule=name, EventBusName=config.event_bus_name, Ids=["partner-bus"])
            events.delete_rule(Name=name, EventBusName=config.event_bus_name)
            outcome = "deleted"
        except events.exceptions.ResourceNotFoundException:
            outcome = "none"
        if target is not None and target.archived_at is None and data.get("type") == "webhook":
            put_webhook_rule(tenant_id)
            _wait_for_fan_out_index(target)
            status_repository.mark_routed(tenant_id, target_id, int(target.version), utc_now())
            return "routed"
        return outcome
    _put_rule(
        name,
        event_pattern(tenant_id, list(data.get("event_types") or [])),
        f"Tenant {tenant_id}: event target {target_id}",
        {
            "Id": "partner-bus",
            "Arn": str(data["event_bus_arn"]),
            "RoleArn": config.partner_bus_role_arn,
            "DeadLetterConfig": {"Arn": config.partner_deliveries_dlq_arn},
        },
    )
    status_repository.mark_routed(tenant_id, target_id, int(target.version), utc_now())
    return "synced"


def put_webhook_rule(tenant_id: str, queue_arns: tuple[str, str] | None = None) -> None:
    """The tenant's events to the webhook fan-out's queue (those EventBridge cannot deliver, after its
    retries, to the queue's dead-letter queue, as the bus's own rules do). Idempotent: put again as it is.
    ``queue_arns``: the queue's and its dead-letter queue's, when this process is not told them (a
    migration run by the operator)."""
    config = settings()
    queue_arn, dead_letter_arn = queue_arns or (
        config.webhook_events_queue_arn,
        config.webhook_events_dlq_arn,
    )
    _put_rule(
        webhook_rule_name(tenant_id),
        event_pattern(tenant_id, ["*"]),
        f"Tenant {tenant_id}: its events to the webhook fan-out",
        {"Id": "webhook-fan-out", "Arn": queue_arn, "DeadLetterConfig": {"Arn": dead_letter_arn}},
    )


def _put_rule(name: str, pattern: EventPattern, description: str, target: dict[str, Any]) -> None:
    """A rule on the crm bus with its one target, retried as the bus's own rules are (then its dead-letter
    queue); put again as it is, it changes nothing."""
    config = settings()
    events = aws.client("events")
    events.put_rule(
        Name=name,
        EventBusName=config.event_bus_name,
        EventPattern=json.dumps(pattern),
        Description=description,
    )
    retried = {
        "RetryPolicy": {"MaximumRetryAttempts": RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S}
    }
    events.put_targets(Rule=name, EventBusName=config.event_bus_name, Targets=[{**target, **retried}])


INDEX_CHECKS = 10
INDEX_CHECK_EVERY_S = 0.5


class IndexBehind(Exception):
    """The fan-out's index does not show the target's current version yet: the message is tried again."""


def _wait_for_fan_out_index(target: RecordItem) -> None:
    """Until the tenant's active targets as the fan-out queries them (one Query a check) hold this version
    of the target: the index is usually seconds behind at most."""
    for check in range(INDEX_CHECKS):
        items, _ = repo.query_page(
            keys.list_pk(target.tenant_id, "event_target", "active"),
            index="GSI1",
            range_condition=TableItem.GSI1SK.startswith(target.id),  # ids are of one length
            limit=1,
        )
        if any(isinstance(i, RecordItem) and int(i.version) >= int(target.version) for i in items):
            return
        if check < INDEX_CHECKS - 1:
            time.sleep(INDEX_CHECK_EVERY_S)
    raise IndexBehind(f"event target {target.id} version {target.version} is not in the index yet")
