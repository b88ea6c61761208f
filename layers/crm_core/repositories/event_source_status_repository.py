"""DynamoDB access for partner event sources' status items (``#STATUS`` in the source's partition), kept as
event targets' are (``event_target_status_repository``): each write one UpdateItem of its own attributes,
never of the record."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import UpdateError

from crm_core.repositories import keys
from crm_core.repositories.event_target_status_repository import STATUS_SK
from crm_core.repositories.table import EventSourceStatusItem, TableItem

REASON_MAX = 500


def read_many(tenant_id: str, source_ids: Iterable[str]) -> dict[str, EventSourceStatusItem]:
    """At most 100 ids: one BatchGetItem."""
    pks = {keys.record_pk(tenant_id, "event_source", source_id): source_id for source_id in source_ids}
    if not pks:
        return {}
    found: dict[str, EventSourceStatusItem] = {}
    for item in TableItem.batch_get([(pk, STATUS_SK) for pk in pks]):
        if isinstance(item, EventSourceStatusItem) and item.PK in pks:
            found[pks[item.PK]] = item
    return found


def record_refusal(tenant_id: str, source_id: str, at: str, reason: str, event_id: str | None) -> bool:
    """One more refused event: ``refused_count`` up by one (``ADD``), its time and reason kept. The same
    event handed over again (SQS delivers at least once) is not counted again: False then."""
    item = EventSourceStatusItem(keys.record_pk(tenant_id, "event_source", source_id), STATUS_SK)
    condition = None
    if event_id:
        condition = EventSourceStatusItem.last_refused_event_id.does_not_exist() | (
            EventSourceStatusItem.last_refused_event_id != event_id
        )
    try:
        item.update(
            actions=[
                EventSourceStatusItem.item_type.set(EventSourceStatusItem),
                EventSourceStatusItem.refused_count.add(1),
                EventSourceStatusItem.last_refused_at.set(at),
                EventSourceStatusItem.last_refused_reason.set(reason[:REASON_MAX]),
                EventSourceStatusItem.last_refused_event_id.set(event_id or ""),
            ],
            condition=condition,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
