"""DynamoDB access for the tenants' busy time: the function-seconds a tenant's requests took in one window,
summed from every function container (crm_core.concurrency). One item per tenant and window, expiring with
the TTL, shaped as the rate limit's windows are (``RateWindowItem``: a number added to, the total
answered)."""

from __future__ import annotations

from crm_core.repositories import keys
from crm_core.repositories.table import RateWindowItem


def add_busy_ms(tenant_id: str, window_start: int, busy_ms: int, expires_at: int) -> int:
    """One UpdateItem: add ``busy_ms`` to the tenant's window and answer the window's new total (ms)."""
    window = RateWindowItem(keys.busy_pk(tenant_id), str(window_start))
    window.update(
        actions=[
            RateWindowItem.requests.add(busy_ms),
            RateWindowItem.expires_at.set(expires_at),
            RateWindowItem.item_type.set(RateWindowItem),
        ]
    )
    return int(window.requests)
