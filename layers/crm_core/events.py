"""Domain events: the detail a change publishes. A record's change stores what its events need beside
the record (its envelope, ``RecordItem.change``); the relay builds them from the committed record."""

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
    event_id: str | None = None,
    occurred_at: str | None = None,
) -> dict[str, Any]:
    """The event's ``detail`` exactly as partners receive it (API.md section 4).

    ``sequence`` is the record's version after the change: consumers order a record's events by it.
    ``event_id`` and ``occurred_at`` are given when the event is built again from what the change stored
    (its envelope on the record): the same event, however often it is built.
    """
    detail: dict[str, Any] = {
        "id": event_id or new_id(),
        "type": event_type,
        "version": EVENT_SCHEMA_VERSION,
        "tenant_id": tenant_id,
        "occurred_at": occurred_at or utc_now(),
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
