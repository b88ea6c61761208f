"""EventBridge targets: one rule on the crm bus per target, sending the tenant's chosen event types to the
partner's bus. Kept in step with the target by a consumer of its events, which reads the target's current
state, so repeated or reordered events converge."""

from __future__ import annotations

import json
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.definitions import EVENT_SOURCE, PARTNER_RULE_PREFIX
from crm_core.repositories import record_repository as repo
from crm_core.services.records import record_data

RETRY_ATTEMPTS = 8
MAX_EVENT_AGE_S = 7200


def rule_name(target_id: str) -> str:
    return f"{PARTNER_RULE_PREFIX}{target_id}"


def event_pattern(tenant_id: str, event_types: list[str]) -> dict[str, Any]:
    """The tenant's events of the chosen types: "x.*" is a prefix, "*" every type."""
    pattern: dict[str, Any] = {"source": [EVENT_SOURCE], "detail": {"tenant_id": [tenant_id]}}
    if "*" not in event_types:
        pattern["detail-type"] = [
            {"prefix": t[:-1]} if t.endswith(".*") else t for t in sorted(set(event_types))
        ]
    return pattern


def sync_rule(tenant_id: str, target_id: str) -> str:
    config = settings()
    events = aws.client("events")
    target = repo.get_record(tenant_id, "event_target", target_id, consistent=True)
    data = record_data(target) if target is not None else {}
    name = rule_name(target_id)
    if target is None or target.archived_at is not None or data.get("type") != "eventbridge":
        try:
            events.remove_targets(Rule=name, EventBusName=config.event_bus_name, Ids=["partner-bus"])
            events.delete_rule(Name=name, EventBusName=config.event_bus_name)
        except events.exceptions.ResourceNotFoundException:
            return "none"
        return "deleted"
    events.put_rule(
        Name=name,
        EventBusName=config.event_bus_name,
        EventPattern=json.dumps(event_pattern(tenant_id, list(data.get("event_types") or []))),
        Description=f"Tenant {tenant_id}: event target {target_id}",
    )
    events.put_targets(
        Rule=name,
        EventBusName=config.event_bus_name,
        Targets=[
            {
                "Id": "partner-bus",
                "Arn": str(data["event_bus_arn"]),
                "RoleArn": config.partner_bus_role_arn,
                "DeadLetterConfig": {"Arn": config.partner_deliveries_dlq_arn},
                "RetryPolicy": {
                    "MaximumRetryAttempts": RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S,
                },
            }
        ],
    )
    return "synced"
