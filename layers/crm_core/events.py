"""Domain events: the detail a change publishes, built when the change is made and committed with it."""

from __future__ import annotations

from typing import Any

from crm_core.ids import new_id, utc_now

EVENT_SCHEMA_VERSION = "1"
EVENT_SK_PREFIX = "EVT#"


def build_event(
    *,
    event_type: str,
    tenant_id: str,
    actor: dict[str, Any],
    correlation_id: str | None,
    data: dict[str, Any],
    changes: dict[str, Any] | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """The event's ``detail`` exactly as partners receive it (API.md section 4).

    ``sequence`` is the record's version after the change: consumers order a record's events by it.
    """
    detail: dict[str, Any] = {
        "id": new_id(),
        "type": event_type,
        "version": EVENT_SCHEMA_VERSION,
        "tenant_id": tenant_id,
        "occurred_at": utc_now(),
        "actor": actor,
        "correlation_id": correlation_id,
        "data": data,
        "changes": changes or {},
    }
    if sequence is not None:
        detail["sequence"] = sequence
    return detail


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: {"from": old, "to": new}}`` for every field whose value differs."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes[key] = {"from": before.get(key), "to": after.get(key)}
    return changes
