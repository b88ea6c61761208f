"""DynamoDB access for tenants, their users and the API keys issued before keys were records."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from crm_core.repositories import keys, record_repository
from crm_core.repositories.table import ApiKeyItem, RateWindowItem, RecordItem, TableItem, TenantItem
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


def get_tenant(tenant_id: str) -> TenantItem | None:
    try:
        item = TableItem.get(keys.tenant_pk(tenant_id), TENANT_SK)
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
    window = RateWindowItem(f"{keys.tenant_pk(tenant_id)}#ratelimit", str(window_start))
    window.update(
        actions=[
            RateWindowItem.requests.add(count),
            RateWindowItem.expires_at.set(expires_at),
            RateWindowItem.item_type.set(RateWindowItem),
        ]
    )
    return int(window.requests)
