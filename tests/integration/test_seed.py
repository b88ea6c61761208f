"""`crm seed` makes data a person can explore: several owners, deals won, lost and open, notes, and tasks
overdue, due today and due later, next to done ones."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_local.seed import TEAM, seed
from tests.support.client import ApiClient


def test_seed_makes_varied_data(client: ApiClient) -> None:
    now = datetime.now(UTC)
    counts = seed(client.base_url, str(client.api_key), 20, now=now)
    assert counts == {"users": len(TEAM), "companies": 2, "contacts": 20, "deals": 5, "activities": 10}

    deals = client.all_pages("/v1/deals", {"limit": 100})
    assert sorted(d["status"] for d in deals) == ["lost", "open", "open", "open", "won"]
    lost = next(d for d in deals if d["status"] == "lost")
    assert lost["lost_reason"] and lost["closed_at"]

    activities = client.all_pages("/v1/activities", {"limit": 100})
    assert {a["type"] for a in activities} == {"task", "note", "call", "meeting", "email"}
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S")
    open_tasks = [a for a in activities if a["type"] == "task" and a["completed_at"] is None]
    due = sorted(a["due_at"][:19] for a in open_tasks)
    assert due[0] < stamp, "no overdue task"
    assert any(d[:10] == stamp[:10] and d >= stamp[:16] for d in due), f"no task due later today: {due}"
    assert any(d[:10] > stamp[:10] for d in due), "no task due on a later day"
    overdue = client.all_pages(
        "/v1/activities", {"type": "task", "open": "true", "due_before": now.isoformat()}
    )
    assert overdue and all(a["completed_at"] is None for a in overdue)
    assert any(a["completed_at"] for a in activities), "nothing done yet"
    notes = [a for a in activities if a["type"] == "note"]
    assert notes and all(n["body"] and n["due_at"] is None for n in notes)

    owners = {r["owner_id"] for r in [*deals, *activities, *client.all_pages("/v1/contacts", {"limit": 100})]}
    assert len(owners) == len(TEAM) and client.user_id not in owners
