"""From the table's stream to the bus: which stream records are outbox events, and what to publish.

The same code runs in AWS (behind the stream's consumer) and in the local runtime's relay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from crm_core.config import settings
from crm_core.definitions import EVENT_SOURCE
from crm_core.repositories.table import EventItem, TableItem
from crm_core.stored_values import as_json_value

MAX_ENTRIES_PER_CALL = 10


def event_entries(stream_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents entries for the outbox items inserted in these stream records, in stream order."""
    entries: list[dict[str, Any]] = []
    for record in stream_records:
        if record.get("eventName") != "INSERT":
            continue
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if (image.get("type") or {}).get("S") != "event":
            continue
        item = TableItem.from_raw_data(image)
        if not isinstance(item, EventItem):
            continue
        detail = as_json_value(item.detail)
        entries.append(
            {
                "Source": EVENT_SOURCE,
                "DetailType": detail["type"],
                "Detail": json.dumps(detail, separators=(",", ":"), default=str),
                "EventBusName": settings().event_bus_name,
                "Time": datetime.fromisoformat(detail["occurred_at"].replace("Z", "+00:00")),
            }
        )
    return entries


def publish(entries: list[dict[str, Any]], events_client: Any) -> None:
    """PutEvents in calls of ten; an entry the bus refused is retried, and a second refusal raises so the
    stream hands the records again (consumers deduplicate on the event id)."""
    for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
        batch = entries[start : start + MAX_ENTRIES_PER_CALL]
        for _attempt in range(3):
            response = events_client.put_events(Entries=batch)
            if not response.get("FailedEntryCount"):
                break
            batch = [
                entry
                for entry, result in zip(batch, response["Entries"], strict=True)
                if result.get("ErrorCode")
            ]
        else:
            raise RuntimeError(f"the bus refused {len(batch)} events")
