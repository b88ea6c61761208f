"""DynamoDB access for event targets' status items (``#STATUS`` in the target's partition): each write is
one UpdateItem of its own attributes, never of the record."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import UpdateError

from crm_core.repositories import keys
from crm_core.repositories.table import EventTargetStatusItem, RecordItem, TableItem

STATUS_SK = "#STATUS"


def _item(tenant_id: str, target_id: str) -> EventTargetStatusItem:
    return EventTargetStatusItem(keys.record_pk(tenant_id, "event_target", target_id), STATUS_SK)


def read_many(tenant_id: str, target_ids: Iterable[str]) -> dict[str, EventTargetStatusItem]:
    """At most 100 ids: one BatchGetItem."""
    wanted = list(dict.fromkeys(target_ids))
    if not wanted:
        return {}
    found: dict[str, EventTargetStatusItem] = {}
    pks = {keys.record_pk(tenant_id, "event_target", target_id): target_id for target_id in wanted}
    for item in TableItem.batch_get([(pk, STATUS_SK) for pk in pks]):
        if isinstance(item, EventTargetStatusItem) and item.PK in pks:
            found[pks[item.PK]] = item
    return found


def read_with_target(
    tenant_id: str, target_id: str
) -> tuple[RecordItem | None, EventTargetStatusItem | None]:
    """The target's record and its status item: one Query of the partition's two items whose sort keys
    start with ``#`` (``#RECORD``, ``#STATUS``; its events and deliveries sort after them)."""
    response = TableItem._get_connection().query(
        keys.record_pk(tenant_id, "event_target", target_id),
        range_key_condition=TableItem.SK.startswith("#"),
        limit=2,
    )
    items = [TableItem.from_raw_data(raw) for raw in response.get("Items", [])]
    record = next(
        (i for i in items if isinstance(i, RecordItem) and i.tenant_id == tenant_id and i.id == target_id),
        None,
    )
    status = next((i for i in items if isinstance(i, EventTargetStatusItem)), None)
    return record, status


def mark_routed(tenant_id: str, target_id: str, version: int, at: str) -> bool:
    """The routing of the target's ``version`` is in place. A later version's, recorded already, stays
    (consumers may run late or twice): False then."""
    try:
        _item(tenant_id, target_id).update(
            actions=[
                EventTargetStatusItem.item_type.set(EventTargetStatusItem),
                EventTargetStatusItem.routed_version.set(version),
                EventTargetStatusItem.routed_at.set(at),
            ],
            condition=EventTargetStatusItem.routed_version.does_not_exist()
            | (EventTargetStatusItem.routed_version < version),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_failing(tenant_id: str, target_id: str, at: str, reason: str) -> None:
    """A delivery to the target was given up: failing since the first such, until a success."""
    _item(tenant_id, target_id).update(
        actions=[
            EventTargetStatusItem.item_type.set(EventTargetStatusItem),
            EventTargetStatusItem.failing_since.set(EventTargetStatusItem.failing_since | at),
            EventTargetStatusItem.last_failure_at.set(at),
            EventTargetStatusItem.failure.set(reason[:500]),
        ]
    )


def mark_recovered(tenant_id: str, target_id: str) -> None:
    """A delivery succeeded: no longer failing (written only when it was)."""
    try:
        _item(tenant_id, target_id).update(
            actions=[
                EventTargetStatusItem.failing_since.remove(),
                EventTargetStatusItem.last_failure_at.remove(),
                EventTargetStatusItem.failure.remove(),
            ],
            condition=EventTargetStatusItem.failing_since.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
