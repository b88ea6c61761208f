"""Reads and writes of a person's erasure (services/privacy.py): whole partitions walked page by page, each
walk bounded, and items rewritten or deleted in ``BatchWriteItem`` calls. No Scan: every walk is a Query
of one partition (a record's timeline, an object's audit trail, a user's notifications, a target's
delivery log, the tenant's idempotency records or duplicate pairs)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.expressions.condition import Condition

from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import ErasureScrubItem, TableItem, UniqueMarker

PAGE = 100
# A walk reads at most this many pages of one partition (10,000 items): an erasure's calls are bounded
# whatever the person's history; what lies beyond is reported (``Walk.complete``), not silently skipped.
MAX_PAGES = 100


class Walk:
    """What a walk of one partition found, and whether it read the partition to its end."""

    def __init__(self) -> None:
        self.items: list[TableItem] = []
        self.raw: list[dict[str, Any]] = []
        self.complete = True


def items_of(
    hash_key: str,
    *,
    sk_prefix: str | None = None,
    filter_condition: Condition | None = None,
    max_pages: int = MAX_PAGES,
) -> Walk:
    """The items of a partition (those whose SK starts with ``sk_prefix``, and that match the filter)."""
    walk = Walk()
    start: dict[str, str] | None = None
    for _ in range(max_pages):
        items, start = repo.query_page(
            hash_key,
            range_condition=TableItem.SK.startswith(sk_prefix) if sk_prefix else None,
            filter_condition=filter_condition,
            limit=PAGE,
            start_key=start,
        )
        walk.items += items
        if start is None:
            return walk
    walk.complete = False
    return walk


def raw_items_holding(hash_key: str, needles: Iterable[str], *, max_pages: int = MAX_PAGES) -> Walk:
    """The items of a partition, as DynamoDB holds them, whose stored text contains one of ``needles``
    (compared without regard to case): for items no model declares whole (Powertools' idempotency
    records, which keep a response as JSON text)."""
    wanted = [needle.lower() for needle in needles if needle]
    walk = Walk()
    connection = TableItem._get_connection()
    start: dict[str, Any] | None = None
    for _ in range(max_pages):
        answer = connection.query(hash_key, limit=PAGE, exclusive_start_key=start)
        for raw in answer.get("Items", []):
            text = json.dumps(raw, ensure_ascii=False).lower()
            if any(needle in text for needle in wanted):
                walk.raw.append(raw)
        start = answer.get("LastEvaluatedKey")
        if not start:
            return walk
    walk.complete = False
    return walk


def rewrite(items: Iterable[TableItem]) -> None:
    """Items put again as they now are (not conditional: each is derived, its new form final)."""
    repo.write_batch(items, [])


def delete(item_keys: Iterable[tuple[str, str]]) -> None:
    repo.write_batch([], item_keys)


def release_markers(marker_pks: Iterable[str], owner_id: str) -> None:
    """The unique markers named that lead to ``owner_id`` deleted (one DeleteItem each, on that condition):
    a marker that leads elsewhere, or is gone, is left as it is."""
    for pk in marker_pks:
        try:
            UniqueMarker(pk, keys.UNIQUE_SK).delete(condition=UniqueMarker.record_id == owner_id)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise


SCRUB_TTL_S = 24 * 3600  # a scrub not completed by then (its consumer failing) leaves no words behind


def scrub_item(
    tenant_id: str, contact_id: str, needles: list[str], *, erased_at: str, now_s: int
) -> ErasureScrubItem:
    """The pending scrub of an erased contact's copies (not yet saved: written in the tombstone's
    transaction), with the words it looks for, expiring a day after."""
    return ErasureScrubItem(
        keys.erasure_scrub_pk(tenant_id, contact_id),
        keys.ERASURE_SCRUB_SK,
        contact_id=contact_id,
        needles=needles,
        erased_at=erased_at,
        expires_at=now_s + SCRUB_TTL_S,
    )


def pending_scrub(tenant_id: str, contact_id: str) -> ErasureScrubItem | None:
    """The erased contact's scrub not yet completed (one consistent GetItem); None once it has."""
    try:
        return ErasureScrubItem.get(
            keys.erasure_scrub_pk(tenant_id, contact_id), keys.ERASURE_SCRUB_SK, consistent_read=True
        )
    except DoesNotExist:
        return None


def scrub_completed(tenant_id: str, contact_id: str) -> None:
    delete([(keys.erasure_scrub_pk(tenant_id, contact_id), keys.ERASURE_SCRUB_SK)])
