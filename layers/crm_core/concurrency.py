"""One tenant cannot starve the others: each tenant's share of the API functions' concurrency, by plan.

What a tenant takes from the others is function time: Lambda runs one request per execution environment,
so the environments a tenant keeps busy (its concurrency) are, on average over a window, the seconds its
requests took divided by the window's length (Little's law). Each tenant may use ``share`` busy seconds per
second, counted per ``WINDOW_SECONDS`` window; beyond it, its requests are refused with 429, ``Retry-After``
(the window's end) and the problem type ``/problems/too-many-concurrent-requests``, while every other
tenant's go on.

The share comes with the plan's request rate (``share_for``: the rate limit a second, each request taken as
``SECONDS_PER_REQUEST`` of function time, at least ``MIN_SHARE``): free 5 environments, team 25, business
about 167. A tenant within its rate limit whose requests are fast never meets it; one whose requests are
slow (reports, exports, large batches) meets it before it fills every function.

Why busy time rather than an in-flight counter (docs/decisions/0036): an exact counter is two conditional
writes per request (in, out), more than the request's own writes and about $1.25 a million requests; busy
time is counted as the rate limit counts requests (rate_limits.py): each container adds up locally and adds
its sum to the tenant's window in the table (one ``UpdateItem ADD``, answering the total from every
container) every ``SYNC_EVERY`` requests, and at every request once the tenant is within ``EXACT_ABOVE`` of
its budget. Cost: at most one write per ``SYNC_EVERY`` requests well under the budget, one per request near
it, and a refused request re-reads the total at most once a second per container. The guard limits what a
tenant uses over a window, not each instant: a burst may exceed the share until its time is counted (within
``SYNC_EVERY`` requests per container), and is then refused for the rest of the window.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from crm_core.errors import ProblemError
from crm_core.repositories import busy_repository

WINDOW_SECONDS = 10
SYNC_EVERY = 10
EXACT_ABOVE = 0.8
SECONDS_PER_REQUEST = 0.5
MIN_SHARE = 2.0


def share_for(rate_limit_per_minute: int) -> float:
    """A tenant's share of the functions (environments busy on average), from its plan's request rate."""
    return max(MIN_SHARE, rate_limit_per_minute / 60 * SECONDS_PER_REQUEST)


@dataclass(frozen=True)
class Refusal:
    share: float
    retry_after: int

    def problem(self) -> ProblemError:
        return ProblemError(
            429,
            "Too Many Concurrent Requests",
            f"The tenant's requests kept more than {self.share:g} functions busy on average over the last "
            f"{WINDOW_SECONDS} seconds, its plan's share; retry after {self.retry_after} s.",
            extra={"share": self.share, "window_seconds": WINDOW_SECONDS},
            headers={"Retry-After": str(self.retry_after)},
        )


@dataclass
class _Window:
    start: int
    counted_ms: int = 0  # the table's total at the last sync
    unsynced_ms: int = 0  # this container's busy time since
    unsynced_requests: int = 0
    synced_at: float = 0.0


_windows: dict[str, _Window] = {}
_lock = threading.Lock()


def _window(tenant_id: str, now: float) -> _Window:
    start = int(now // WINDOW_SECONDS * WINDOW_SECONDS)
    window = _windows.get(tenant_id)
    if window is None or window.start != start:
        window = _windows[tenant_id] = _Window(start)
    return window


def _sync(tenant_id: str, window: _Window) -> None:
    window.counted_ms = busy_repository.add_busy_ms(
        tenant_id, window.start, window.unsynced_ms, expires_at=window.start + 2 * WINDOW_SECONDS
    )
    window.unsynced_ms = 0
    window.unsynced_requests = 0
    window.synced_at = time.monotonic()


def _budget_ms(share: float) -> float:
    return share * WINDOW_SECONDS * 1000


def admit(tenant_id: str, share: float, now: float | None = None) -> Refusal | None:
    """None when the tenant's request may run; a ``Refusal`` when its busy time in this window is at its
    share's budget (as the table last said, asked again at most once a second)."""
    now = time.time() if now is None else now
    budget = _budget_ms(share)
    with _lock:
        window = _window(tenant_id, now)
        if window.counted_ms + window.unsynced_ms < budget:
            return None
        if time.monotonic() - window.synced_at >= 1.0:
            _sync(tenant_id, window)
        if window.counted_ms + window.unsynced_ms < budget:
            return None
        return Refusal(share, max(1, window.start + WINDOW_SECONDS - int(now)))


def record(tenant_id: str, share: float, busy_seconds: float, now: float | None = None) -> None:
    """Count a request's function time against the tenant's window (the one it ends in)."""
    now = time.time() if now is None else now
    with _lock:
        window = _window(tenant_id, now)
        window.unsynced_ms += max(0, round(busy_seconds * 1000))
        window.unsynced_requests += 1
        near = window.counted_ms + window.unsynced_ms >= _budget_ms(share) * EXACT_ABOVE
        if window.unsynced_requests >= SYNC_EVERY or near:
            _sync(tenant_id, window)
