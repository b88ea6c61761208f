"""The concurrency share's cost per request (crm_core.concurrency): table writes, counted with the table
replaced by a dict, well under the budget, near it, and when refusing."""

from __future__ import annotations

from collections import Counter

import pytest
from crm_core import concurrency


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    totals: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def add_busy_ms(tenant_id: str, window_start: int, busy_ms: int, expires_at: int) -> int:
        assert expires_at == window_start + 2 * concurrency.WINDOW_SECONDS
        calls["writes"] += 1
        totals[f"{tenant_id}/{window_start}"] += busy_ms
        return totals[f"{tenant_id}/{window_start}"]

    monkeypatch.setattr(concurrency.busy_repository, "add_busy_ms", add_busy_ms)
    monkeypatch.setattr(concurrency, "_windows", {})
    return calls


def test_one_write_per_ten_requests_well_under_the_share(table: Counter[str]) -> None:
    now = 1_000_000.0  # the start of a window
    for _ in range(100):
        assert concurrency.admit("t1", share=5, now=now) is None
        concurrency.record("t1", share=5, busy_seconds=0.05, now=now)  # 5 s of a 50 s budget
    assert table["writes"] == 100 // concurrency.SYNC_EVERY


def test_exact_near_the_budget_then_refused_until_the_window_turns(table: Counter[str]) -> None:
    now = 2_000_000.0
    share = 0.1  # 1,000 ms a window
    served = 0
    while concurrency.admit("t2", share, now=now) is None:
        concurrency.record("t2", share, busy_seconds=0.1, now=now)
        served += 1
        assert served <= 10
    assert served == 10  # exactly the budget: the last requests synced one by one
    assert table["writes"] <= served
    refusal = concurrency.admit("t2", share, now=now + 3)
    assert refusal is not None and refusal.retry_after == concurrency.WINDOW_SECONDS - 3
    problem = refusal.problem()
    assert (problem.status, problem.type_uri, problem.headers["Retry-After"]) == (
        429,
        "/problems/too-many-concurrent-requests",
        "7",
    )
    # Refusals re-read the table at most once a second per container, whatever their number.
    writes = table["writes"]
    for _ in range(50):
        assert concurrency.admit("t2", share, now=now + 3) is not None
    assert table["writes"] - writes <= 1
    # Another tenant is not affected; the next window starts afresh.
    assert concurrency.admit("t3", share, now=now + 3) is None
    assert concurrency.admit("t2", share, now=now + concurrency.WINDOW_SECONDS) is None
