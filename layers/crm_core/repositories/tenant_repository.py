"""DynamoDB access for tenants, their users and the API keys issued before keys were records."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from crm_core import aws
from crm_core.config import settings
from crm_core.repositories import keys, record_repository
from crm_core.repositories.table import (
    ApiKeyItem,
    EmailMonth,
    RateWindowItem,
    RecordItem,
    TableItem,
    TenantItem,
)
from crm_core.stored_values import as_json_value

TENANT_SK = "#TENANT"


def active_user(tenant_id: str, user_id: str, *, consistent: bool = False) -> RecordItem | None:
    """The tenant's user record, unless deactivated (or archived). One GetItem."""
    item = record_repository.get_record(tenant_id, "user", user_id, consistent=consistent)
    return item if is_active_user(item, tenant_id) else None


def is_active_user(item: TableItem | None, tenant_id: str) -> bool:
    """A user record of this tenant, neither deactivated nor archived."""
    return (
        isinstance(item, RecordItem)
        and item.object_type == "user"
        and item.tenant_id == tenant_id
        and item.archived_at is None
        and as_json_value(item.data).get("active") is not False
    )


def get_api_key(tenant_id: str, key_hash: str) -> ApiKeyItem | None:
    try:
        item = TableItem.get(keys.tenant_pk(tenant_id), keys.api_key_sk(key_hash))
    except DoesNotExist:
        return None
    return item if isinstance(item, ApiKeyItem) and item.tenant_id == tenant_id else None


def get_tenant(tenant_id: str, *, consistent: bool = False) -> TenantItem | None:
    try:
        item = TableItem.get(keys.tenant_pk(tenant_id), TENANT_SK, consistent_read=consistent)
    except DoesNotExist:
        return None
    return item if isinstance(item, TenantItem) else None


def list_tenants(limit: int, after: str | None = None) -> tuple[list[TenantItem], str | None]:
    """Up to ``limit`` tenants in creation order, after the tenant id ``after``, and the id to go on after
    (None at the end): one Query of GSI1's tenant directory (``limit + 1`` items, to know there is more)."""
    items, _ = record_repository.query_page(
        keys.TENANTS_PK,
        index="GSI1",
        range_condition=TableItem.GSI1SK > after if after else None,  # noqa: SIM300 (an attribute)
        limit=limit + 1,
    )
    found = [item for item in items if isinstance(item, TenantItem)]
    page = found[:limit]
    return page, page[-1].id if len(found) > limit else None


def add_requests(tenant_id: str, window_start: int, count: int, expires_at: int) -> int:
    """One UpdateItem: add ``count`` to the tenant's window and answer the window's new total."""
    return add_to_window(keys.rate_window_pk(tenant_id), window_start, count, expires_at)


def add_to_window(partition_key: str, window_start: int, amount: int, expires_at: int) -> int:
    """One UpdateItem: add ``amount`` to the window item (``RateWindowItem``, expiring with the TTL) and
    answer its new total: the rate limit's requests, the concurrency share's busy time."""
    window = RateWindowItem(partition_key, str(window_start))
    window.update(
        actions=[
            RateWindowItem.requests.add(amount),
            RateWindowItem.expires_at.set(expires_at),
            RateWindowItem.item_type.set(RateWindowItem),
        ]
    )
    return int(window.requests)


def update_tenant(
    tenant_id: str, values: dict[str, Any], *, unless_status: str | None = None
) -> TenantItem | None:
    """Set (or, for None, remove) the tenant item's attributes ``values``: one conditional UpdateItem, on
    the item existing (and not having ``unless_status``). None when there is no such tenant (or it has
    that status)."""
    item = TenantItem(keys.tenant_pk(tenant_id), TENANT_SK)
    attributes = TenantItem.get_attributes()
    actions: list[Action] = [
        attributes[name].remove() if value is None else attributes[name].set(value)
        for name, value in values.items()
    ]
    condition = TenantItem.PK.exists()
    if unless_status is not None:
        condition &= TenantItem.status.does_not_exist() | (TenantItem.status != unless_status)
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return item


def tenant_keys(tenant_id: str, segment: int, segments: int) -> Iterator[list[dict[str, str]]]:
    """Pages of the keys (``PK``, ``SK``) of every item of the tenant, from one segment of a parallel Scan
    of the table: the operator's deletion and its check (docs/decisions/0028 says why a Scan). Never on a
    tenant's request."""
    client = aws.client("dynamodb")
    prefix = keys.tenant_pk(tenant_id)
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=settings().table_name,
        Segment=segment,
        TotalSegments=segments,
        ProjectionExpression="PK, SK",
        FilterExpression="PK = :tenant OR begins_with(PK, :under)",
        ExpressionAttributeValues={":tenant": {"S": prefix}, ":under": {"S": f"{prefix}#"}},
    ):
        yield [{"PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in page.get("Items", [])]


def tenant_keys_page(
    tenant_id: str, segment: int, segments: int, start: dict[str, Any] | None, limit: int | None = None
) -> tuple[list[dict[str, str]], dict[str, Any] | None]:
    """One page of ``tenant_keys``' Scan from ``start`` (None: the segment's beginning), and where the next
    begins (None: the segment is done): the asynchronous deletion's resumable walk (services/
    tenant_deletion.py). ``limit``: items evaluated at most (the page's 1 MB otherwise)."""
    client = aws.client("dynamodb")
    prefix = keys.tenant_pk(tenant_id)
    request: dict[str, Any] = {
        "TableName": settings().table_name,
        "Segment": segment,
        "TotalSegments": segments,
        "ProjectionExpression": "PK, SK",
        "FilterExpression": "PK = :tenant OR begins_with(PK, :under)",
        "ExpressionAttributeValues": {":tenant": {"S": prefix}, ":under": {"S": f"{prefix}#"}},
    }
    if start:
        request["ExclusiveStartKey"] = start
    if limit:
        request["Limit"] = limit
    page = client.scan(**request)
    found = [{"PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in page.get("Items", [])]
    return found, page.get("LastEvaluatedKey")


def delete_keys(found: list[dict[str, str]]) -> int:
    """Delete the items of ``found`` keys: BatchWriteItem calls of 25, unprocessed ones sent again."""
    client = aws.client("dynamodb")
    table = settings().table_name
    for start in range(0, len(found), 25):
        requests = [
            {"DeleteRequest": {"Key": {"PK": {"S": k["PK"]}, "SK": {"S": k["SK"]}}}}
            for k in found[start : start + 25]
        ]
        pending: dict[str, Any] = {table: requests}
        for attempt in range(8):
            left = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not left:
                break
            pending = left
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError("DynamoDB left deletes unprocessed after 8 tries")
    return len(found)


def emails_in_month(tenant_id: str, month: str) -> int:
    """The campaign emails the tenant was claimed to send in ``month`` (``YYYY-MM``): one GetItem."""
    try:
        item = TableItem.get(keys.email_month_pk(tenant_id, month), "#COUNT")
    except DoesNotExist:
        return 0
    return int(getattr(item, "emails", 0) or 0)


def email_month(tenant_id: str, month: str) -> EmailMonth:
    """The item counting the tenant's campaign emails of ``month``, to ``ADD`` to in a send's transaction."""
    return EmailMonth(keys.email_month_pk(tenant_id, month), "#COUNT")
