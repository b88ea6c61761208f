"""Requests per tenant per minute, by plan: the answer to "may this request run?" and the headers that
tell the caller where it stands (API.md section 2).

Counting every request in DynamoDB would cost a write per request, more than the request itself. So
each function container counts locally and adds its count to the tenant's window in the table (one
``UpdateItem ADD``, which answers the total from every container) every ``SYNC_EVERY`` requests, and at
every request once the tenant is within ``EXACT_ABOVE`` of its limit, where accuracy matters. A tenant
well under its limit therefore costs one write per ten requests per container, and the limit holds to
within ``SYNC_EVERY`` requests per container.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from crm_core.plans import LEGACY_NAMES, PLANS, base_quotas
from crm_core.repositories import tenant_repository

WINDOW_SECONDS = 60
SYNC_EVERY = 10
EXACT_ABOVE = 0.8
# Requests a minute by plan (crm_core/plans.py holds the plans; the names of before them included).
PLAN_LIMITS = {
    name: base_quotas(name).requests_per_minute for name in (*PLANS, *LEGACY_NAMES) if name != "custom"
}


def limit_for(plan: str, override: int | None) -> int:
    return int(override) if override else base_quotas(plan).requests_per_minute


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


@dataclass
class _Window:
    start: int
    counted: int = 0  # the table's total at the last sync
    unsynced: int = 0  # this container's requests since
    synced_at: float = 0.0


_windows: dict[str, _Window] = {}
_lock = threading.Lock()


def _sync(tenant_id: str, window: _Window) -> None:
    window.counted = tenant_repository.add_requests(
        tenant_id, window.start, window.unsynced, expires_at=window.start + 2 * WINDOW_SECONDS
    )
    window.unsynced = 0
    window.synced_at = time.monotonic()


def take(tenant_id: str, limit: int, now: float | None = None) -> Decision:
    """Count one request of the tenant's, unless it is over its limit for this minute."""
    now = time.time() if now is None else now
    start = int(now // WINDOW_SECONDS * WINDOW_SECONDS)
    reset = max(1, start + WINDOW_SECONDS - int(now))
    with _lock:
        window = _windows.get(tenant_id)
        if window is None or window.start != start:
            window = _windows[tenant_id] = _Window(start)
        if window.counted + window.unsynced + 1 > limit:
            # Ask the table again (the other containers may have counted less than assumed), but at most
            # once a second: a caller hammering at its limit must not cost a write per refusal.
            if time.monotonic() - window.synced_at >= 1.0:
                _sync(tenant_id, window)
            if window.counted + window.unsynced + 1 > limit:
                return Decision(False, limit, 0, reset)
        window.unsynced += 1
        if window.unsynced >= SYNC_EVERY or window.counted + window.unsynced >= limit * EXACT_ABOVE:
            _sync(tenant_id, window)
        used = window.counted + window.unsynced
        return Decision(True, limit, max(0, limit - used), reset)
