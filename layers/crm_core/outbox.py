"""From the table's stream to the bus: which stream records carry events, and what to publish.

A record's change carries its events' envelope (``RecordItem.change``, docs/decisions/0008): the stream
record of the committed record holds everything its events are built from, so no change commits without
its events and no event goes out for a change that did not commit. An event of something that happened to
a record without changing it (a reminder falling due) is an ``event`` item of its own.

The relay also writes what a change's request did not live to write after its commit (derived.py): its
side entries and timeline entries.

The same code runs in AWS (behind the EventBridge Pipe on the stream) and in the local runtime's relay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crm_core.config import settings
from crm_core.definitions import EVENT_SOURCE
from crm_core.repositories.table import EventItem, RecordItem, TableItem
from crm_core.stored_values import as_json_value

if TYPE_CHECKING:
    from crm_core.services.records.spec import ObjectSpec

MAX_ENTRIES_PER_CALL = 10
# How long after its commit a change's request is given to write what follows from it, before the relay
# writes it instead (derived.py): a few DynamoDB calls' time, with room to spare. The relay waits it out
# in line (the stream's order holds), so it is kept short: a request slower than this costs a needless
# repair (idempotent writes), not a lost one.
REQUEST_GRACE_S = 0.3

_Key = tuple[str, str]
_Change = tuple["RecordItem | None", "RecordItem"]


def _images(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    dynamodb = record.get("dynamodb") or {}
    return dynamodb.get("NewImage") or {}, dynamodb.get("OldImage")


def record_change(record: dict[str, Any]) -> tuple[RecordItem | None, RecordItem] | None:
    """The committed change of a record this stream record is, as (before, after), when it has events:
    its envelope is of its new version, and the version moved (a refresh of its search tokens rewrites
    the record and keeps both)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    new_image, old_image = _images(record)
    if (new_image.get("type") or {}).get("S") != "record" or "change" not in new_image:
        return None
    new = TableItem.from_raw_data(new_image)
    old = TableItem.from_raw_data(old_image) if old_image else None
    if not isinstance(new, RecordItem):
        return None
    before = old if isinstance(old, RecordItem) else None
    from crm_core.services.records.items import publishes

    if not publishes(new, before.version if before is not None else None):
        return None
    return before, new


def carries_events(record: dict[str, Any]) -> bool:
    """Whether this stream record carries events to publish."""
    return _event_item(record) is not None or record_change(record) is not None


def _event_item(record: dict[str, Any]) -> EventItem | None:
    new_image, _ = _images(record)
    if record.get("eventName") != "INSERT" or (new_image.get("type") or {}).get("S") != "event":
        return None
    item = TableItem.from_raw_data(new_image)
    return item if isinstance(item, EventItem) else None


def spec_of(object_type: str) -> ObjectSpec:
    from crm_core.record_types import record_type

    return record_type(object_type).record_service().spec


def event_details(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The events a stream record carries, exactly as published."""
    event = _event_item(record)
    if event is not None:
        return [as_json_value(event.detail)]
    change = record_change(record)
    if change is None:
        return []
    from crm_core.services.records.items import events_of

    _, new = change
    return events_of(spec_of(new.object_type), new)


def event_entries(stream_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents entries for the events of these stream records, in stream order."""
    entries: list[dict[str, Any]] = []
    for record in stream_records:
        for detail in event_details(record):
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


def repair_derived(stream_records: Iterable[dict[str, Any]]) -> int:
    """For each record change whose request did not write its own timeline entry (it writes that last,
    after the rest: derived.py), what follows from it written now; the number of changes repaired. One
    strongly consistent BatchGetItem looks for those entries (and one more for those of changes made less
    than ``REQUEST_GRACE_S`` ago, after waiting out the rest of it)."""
    from crm_core.repositories import record_repository as repo
    from crm_core.services.records import derived

    changes = [change for change in map(record_change, stream_records) if change is not None]
    wanted: dict[_Key, _Change] = {}
    for before, after in changes:
        key = derived.last_entry_key(spec_of(after.object_type), after)
        if key is not None:
            wanted[key] = (before, after)
    if not wanted:
        return 0
    missing = _without(wanted, repo.existing_keys(wanted))
    # The stream can bring a change before its request has written what follows it (a few ms after its
    # commit): one that young gets a moment more before it is taken for a request that died.
    wait = REQUEST_GRACE_S - min((_age_s(after) for _, after in missing.values()), default=REQUEST_GRACE_S)
    if wait > 0:
        time.sleep(wait)
        missing = _without(missing, repo.existing_keys(missing))
    for before, after in missing.values():
        derived.repair(spec_of(after.object_type), before, after)
    return len(missing)


def _without(changes: dict[_Key, _Change], present: set[_Key]) -> dict[_Key, _Change]:
    return {key: change for key, change in changes.items() if key not in present}


def _age_s(item: RecordItem) -> float:
    """How long ago the record's last change was made (its envelope's time)."""
    change = as_json_value(item.change) if item.change is not None else {}
    occurred = datetime.fromisoformat(str(change.get("occurred_at")).replace("Z", "+00:00"))
    return (datetime.now(UTC) - occurred).total_seconds()


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
