"""A suspended tenant's background work waits, held and not lost (services/paused_work.py, docs/decisions/
0034): a scheduled campaign does not send, a webhook is not delivered, a reminder does not notify while it is
suspended; resumed, each happens once. The other tenant's work goes on meanwhile."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crm_core.ids import new_id, utc_now
from crm_core.repositories import keys
from crm_core.repositories.table import UniqueMarker
from crm_core.services import tenant_lifecycle, webhooks

from tests.integration.test_campaigns import BODY, contacts, finished, segment_of, sent_to
from tests.integration.test_reminders import notifications
from tests.integration.test_webhooks import Receiver, add_webhook
from tests.support.client import ApiClient
from tests.support.waiting import eventually


@pytest.fixture
def hook() -> Any:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def _deal_created(tenant_id: str) -> dict[str, Any]:
    """A ``deal.created`` event as the bus hands it to the webhook fan-out."""
    return {
        "detail": {
            "id": new_id(),
            "type": "deal.created",
            "tenant_id": tenant_id,
            "occurred_at": utc_now(),
            "data": {"id": new_id(), "name": "Held deal"},
        }
    }


def _reminder_sent(tenant_id: str, activity: dict[str, Any]) -> bool:
    pk = keys.reminder_sent_pk(tenant_id, activity["id"], activity["remind_at"])
    return UniqueMarker.count(pk, UniqueMarker.SK == keys.UNIQUE_SK, consistent_read=True) > 0


def test_a_suspended_tenants_campaigns_webhooks_and_reminders_wait_until_it_is_resumed(
    client: ApiClient, other: ApiClient, hook: Receiver
) -> None:
    tenant_id = client.tenant_id
    domain = f"held{tenant_id.lower()}.example"
    contacts(client, domain, ["granted", "granted"], "held")
    add_webhook(client, hook.url, ["deal.created"])
    add_webhook(other, hook.url, ["deal.created"])
    due = datetime.now(UTC) + timedelta(seconds=4)
    segment_id = segment_of(client, "held")
    campaign = client.create(
        "campaigns",
        {"name": "Held", "segment_id": segment_id, "subject": "News", "from": f"news@{domain}", "body": BODY},
    )
    scheduled = client.post(f"/v1/campaigns/{campaign['id']}/schedule", {"send_at": due.isoformat()})
    assert scheduled.status_code == 200, scheduled.text
    task = client.create("activities", {"type": "task", "subject": "Call back", "remind_at": due.isoformat()})

    tenant_lifecycle.suspend(tenant_id)
    webhooks.fan_out(_deal_created(tenant_id))  # queued for delivery while suspended
    webhooks.fan_out(_deal_created(other.tenant_id))
    # The other tenant's delivery goes out; this one's, its campaign and its reminder wait past their time.
    assert eventually(lambda: [e for e in hook.accepted if e["tenant_id"] == other.tenant_id])
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 3)
    assert [e for e in hook.accepted if e["tenant_id"] == tenant_id] == []
    assert sent_to(domain) == []
    assert not _reminder_sent(tenant_id, task)

    tenant_lifecycle.resume(tenant_id)
    done = finished(client, campaign["id"])
    assert done["status"] == "sent"
    assert eventually(lambda: len(sent_to(domain)) == 2)
    assert eventually(lambda: [e for e in hook.accepted if e["tenant_id"] == tenant_id])
    arrived = eventually(lambda: notifications(client))
    assert [n["title"] for n in arrived] == ["Reminder: Call back"]
    time.sleep(1.5)  # nothing comes twice: each held message ran once when its tenant was back
    assert len([e for e in hook.accepted if e["tenant_id"] == tenant_id]) == 1
    assert len(sent_to(domain)) == 2 and len(notifications(client)) == 1
