"""Rate limits per tenant (API.md section 2): 429 with Retry-After past the limit, RateLimit headers on
every answer, and one tenant's traffic never limits another's."""

from __future__ import annotations

import time

from crm_core.rate_limits import PLAN_LIMITS, SYNC_EVERY, WINDOW_SECONDS
from crm_core.services.tenants import create_tenant

from tests.support.client import ApiClient


def limited_client(base_url: str, per_minute: int) -> ApiClient:
    tenant = create_tenant("Busy", rate_limit_per_minute=per_minute)
    return ApiClient(base_url, tenant.api_key, tenant.tenant_id, tenant.user_id)


def test_every_answer_carries_the_headers(client: ApiClient) -> None:
    for response in (client.get("/v1/contacts"), client.post("/v1/contacts", {"email": "bad"})):
        assert response.headers["RateLimit-Limit"] == str(PLAN_LIMITS["business"])  # the fixture's plan
        assert 0 <= int(response.headers["RateLimit-Remaining"]) < PLAN_LIMITS["business"]
        assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60


def start_of_a_fresh_window(needed_s: float = 20.0) -> None:
    """Wait for the next minute when less than ``needed_s`` of this one is left, so that what a test
    counts falls in one window (the windows turn on the minute: rate_limits.WINDOW_SECONDS)."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < needed_s:
        time.sleep(left + 0.05)


def test_past_the_limit_is_429_until_the_window_turns(base_url: str, other: ApiClient) -> None:
    busy = limited_client(base_url, 25)
    start_of_a_fresh_window()
    remaining = []
    for _ in range(25):
        response = busy.get("/v1/contacts")
        assert response.status_code == 200, response.text
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == list(range(24, -1, -1))
    refused = busy.post("/v1/contacts", {"email": "late@example.com"})
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    # Refused requests change nothing, and another tenant is not limited by this one.
    assert other.get("/v1/contacts").status_code == 200
    assert other.post("/v1/contacts", {"email": "late@example.com"}).status_code == 201


def test_counts_are_shared_through_the_table(base_url: str) -> None:
    """The count lives in the table, not only in one container: a second client of the same tenant (a
    different credential, so a different authorizer answer) sees the first one's requests."""
    from crm_core.auth import Role
    from crm_core.services.tenants import issue_api_key

    first = limited_client(base_url, 1000)
    second = ApiClient(base_url, issue_api_key(first.tenant_id, first.user_id, Role.ADMIN))
    start_of_a_fresh_window()
    for _ in range(SYNC_EVERY * 2):
        first.get("/v1/contacts")
    remaining = int(second.get("/v1/contacts").headers["RateLimit-Remaining"])
    assert remaining <= 1000 - SYNC_EVERY * 2 - 1 + SYNC_EVERY  # synced at least every SYNC_EVERY requests
