"""DynamoDB access for tenants, their users and API keys (all in the tenant's own partition)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from crm_core.repositories import keys, record_repository
from crm_core.repositories.table import ApiKeyItem, RateWindowItem, TableItem, TenantItem, UserItem

TENANT_SK = "#TENANT"


def get_user(tenant_id: str, user_id: str) -> UserItem | None:
    try:
        item = TableItem.get(keys.tenant_pk(tenant_id), keys.user_sk(user_id))
    except DoesNotExist:
        return None
    return item if isinstance(item, UserItem) and item.tenant_id == tenant_id else None


def active_user(tenant_id: str, user_id: str) -> UserItem | None:
    user = get_user(tenant_id, user_id)
    return user if user is not None and user.active else None


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
