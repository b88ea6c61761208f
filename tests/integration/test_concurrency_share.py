"""One tenant cannot starve the others (crm_core.concurrency): a tenant whose requests keep more functions
busy than its plan's share gets 429 ``/problems/too-many-concurrent-requests`` with ``Retry-After`` until the
window turns, while another tenant's requests, at the same time and on the same functions, go on."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from crm_core import concurrency

from tests.conftest import new_tenant_client
from tests.support.client import ApiClient

# The busy tenant is told apart by its rate limit (high enough never to be the rate limit's 429).
BUSY_RATE = 123_456
BUSY_SHARE = 0.05  # 200 ms of function time per window (of WINDOW_SECONDS, shortened for the test)
WINDOW_SECONDS = 4
# One route per API function: the local runtime serves each function one request at a time, as Lambda
# serves each environment, so concurrent requests of one tenant are requests to different functions.
PATHS = ("/v1/contacts", "/v1/deals", "/v1/users", "/v1/tickets", "/v1/products", "/v1/campaigns")


@pytest.fixture
def small_share(monkeypatch: pytest.MonkeyPatch) -> None:
    share_for = concurrency.share_for
    monkeypatch.setattr(concurrency, "WINDOW_SECONDS", WINDOW_SECONDS)
    monkeypatch.setattr(
        concurrency, "share_for", lambda rate: BUSY_SHARE if rate == BUSY_RATE else share_for(rate)
    )


def _hammer(tenant: ApiClient, stop: threading.Event) -> list[requests.Response]:
    """Concurrent GETs of the tenant's, one thread per function, until ``stop`` (or 20 s)."""
    deadline = time.monotonic() + 20

    def loop(path: str) -> list[requests.Response]:
        client = ApiClient(tenant.base_url, tenant.api_key, tenant.tenant_id)
        seen = []
        while not stop.is_set() and time.monotonic() < deadline:
            seen.append(client.get(path, params={"limit": 1}))
            if seen[-1].status_code == 429:
                stop.set()
        return seen

    with ThreadPoolExecutor(len(PATHS)) as pool:
        return [r for seen in pool.map(loop, PATHS) for r in seen]


def test_beyond_its_share_a_tenant_gets_429_and_another_does_not(
    base_url: str, client: ApiClient, small_share: None
) -> None:
    busy = new_tenant_client(base_url, "Greedy", rate_limit_per_minute=BUSY_RATE)
    stop = threading.Event()
    others: list[int] = []

    def other_tenant() -> None:  # the other tenant, at the same time, on the same functions
        while not stop.is_set():
            others.extend(client.get(path, params={"limit": 1}).status_code for path in PATHS)

    neighbour = threading.Thread(target=other_tenant)
    neighbour.start()
    try:
        answers = _hammer(busy, stop)
    finally:
        stop.set()
        neighbour.join()

    statuses = Counter(r.status_code for r in answers)
    assert statuses[429] >= 1, statuses
    assert set(statuses) <= {200, 429}, statuses
    assert others and set(others) == {200}, Counter(others)

    refused = next(r for r in answers if r.status_code == 429)
    problem: dict[str, Any] = refused.json()
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"] == "/problems/too-many-concurrent-requests"
    assert problem["status"] == 429
    assert problem["share"] == BUSY_SHARE
    assert 1 <= int(refused.headers["Retry-After"]) <= concurrency.WINDOW_SECONDS
    assert "RateLimit-Remaining" in refused.headers  # the rate limit's headers, as on every answer

    # A refused write changes nothing; once the window turns, the tenant is served again (the loop's
    # first POST may already be refused: the window's time was used by the hammering).
    late = busy.post("/v1/contacts", {"email": "late@example.com"})
    deadline = time.monotonic() + 3 * concurrency.WINDOW_SECONDS
    while late.status_code == 429 and time.monotonic() < deadline:
        assert 1 <= int(late.headers["Retry-After"]) <= concurrency.WINDOW_SECONDS
        time.sleep(min(float(late.headers["Retry-After"]), 1.0))
        late = busy.post("/v1/contacts", {"email": "late@example.com"})
    # 201, not 409: none of the refused POSTs made the contact (its email is unique per tenant).
    assert late.status_code == 201, late.text


def test_the_share_costs_a_write_per_ten_requests(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over HTTP, well under its share: one UpdateItem per ``SYNC_EVERY`` requests, no read."""
    writes = 0
    add_busy_ms = concurrency.busy_repository.add_busy_ms

    def counted(tenant_id: str, *args: Any, **kwargs: Any) -> int:
        nonlocal writes
        writes += tenant_id == client.tenant_id
        return add_busy_ms(tenant_id, *args, **kwargs)

    monkeypatch.setattr(concurrency.busy_repository, "add_busy_ms", counted)
    requests_made = 60
    started = time.time()
    for n in range(requests_made):
        assert client.get("/v1/contacts" if n % 2 else "/v1/deals", params={"limit": 1}).status_code == 200
    # Each window turning mid-run starts its count afresh (the ended window's last requests are not sent).
    turns = int(time.time() // concurrency.WINDOW_SECONDS - started // concurrency.WINDOW_SECONDS)
    expected = requests_made // concurrency.SYNC_EVERY
    assert expected - turns <= writes <= expected
