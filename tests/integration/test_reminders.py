"""Reminders end to end on the local runtime: activity events reach the scheduler consumer through the bus
and its queue, the schedule fires into the reminders queue, and the worker notifies the owner once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from crm_core.definitions import CONSUMERS, REMINDERS_QUEUE

from crm_local.gateway import LambdaContext
from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def schedule_of(runtime: LocalRuntime, activity_id: str) -> dict[str, Any] | None:
    assert runtime.instance is not None
    scheduler = boto3.client("scheduler")
    try:
        schedule: dict[str, Any] = scheduler.get_schedule(
            Name=f"reminder-{activity_id}", GroupName=runtime.instance.resources["schedule_group"]
        )
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return schedule


def notifications(client: ApiClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/notifications").json()["items"]
    return items


def test_a_reminder_fires_once_and_notifies_the_owner(client: ApiClient, other: ApiClient) -> None:
    contact = client.create("contacts", {"email": "remind@example.com"})
    task = client.create(
        "activities",
        {"type": "task", "subject": "Call back", "contact_id": contact["id"], "remind_at": soon(3)},
    )
    arrived = eventually(lambda: notifications(client))
    assert [n["title"] for n in arrived] == ["Reminder: Call back"]
    assert arrived[0]["created_at"] >= task["remind_at"]  # never early
    assert arrived[0]["record"] == {"type": "activity", "id": task["id"]} and arrived[0]["read_at"] is None
    timeline = [e["type"] for e in client.get(f"/v1/activities/{task['id']}/timeline").json()["items"]]
    assert timeline == ["activity.reminder_due", "activity.created"]
    contact_timeline = client.get(f"/v1/contacts/{contact['id']}/timeline").json()["items"]
    assert contact_timeline[0]["type"] == "activity.reminder_due"
    assert contact_timeline[0]["actor"] == {"type": "system", "id": "reminders"}
    assert contact_timeline[0]["record"] == {"type": "activity", "id": task["id"], "title": "Call back"}
    assert other.get("/v1/notifications").json()["items"] == []

    read = client.post(f"/v1/notifications/{arrived[0]['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert client.get("/v1/notifications", params={"unread": "true"}).json()["items"] == []
    assert other.post(f"/v1/notifications/{arrived[0]['id']}/read").status_code == 404


def test_a_duplicated_delivery_notifies_once(runtime: LocalRuntime, client: ApiClient) -> None:
    remind_at = soon(3600)
    task = client.create("activities", {"type": "task", "subject": "Once", "remind_at": remind_at})
    stored = client.get(f"/v1/activities/{task['id']}").json()["remind_at"]
    worker = next(c for c in CONSUMERS if c.queue == REMINDERS_QUEUE)
    module, _, name = worker.function.handler.rpartition(".")
    handler = getattr(__import__(module, fromlist=[name]), name)
    body = json.dumps({"tenant_id": client.tenant_id, "activity_id": task["id"], "remind_at": stored})
    message = {
        "messageId": "m-1",
        "receiptHandle": "r",
        "body": body,
        "attributes": {},
        "eventSource": "aws:sqs",
    }
    for delivery in range(2):  # the same message, delivered twice
        response = handler(
            {"Records": [{**message, "messageId": f"m-{delivery}"}]}, LambdaContext("reminders", "x")
        )
        assert response == {"batchItemFailures": []}
    assert len(notifications(client)) == 1
    types = [e["type"] for e in client.get(f"/v1/activities/{task['id']}/timeline").json()["items"]]
    assert types.count("activity.reminder_due") == 1


def test_the_schedule_follows_the_activity(runtime: LocalRuntime, client: ApiClient) -> None:
    task = client.create("activities", {"type": "task", "subject": "Later", "remind_at": soon(3600)})
    created = eventually(lambda: schedule_of(runtime, task["id"]))
    assert created and created["ScheduleExpression"].startswith("at(")
    assert json.loads(created["Target"]["Input"])["activity_id"] == task["id"]

    moved_to = soon(7200)
    client.patch(f"/v1/activities/{task['id']}", {"remind_at": moved_to})
    moved = eventually(
        lambda: (
            (s := schedule_of(runtime, task["id"]))
            and json.loads(s["Target"]["Input"])["remind_at"]
            != json.loads(created["Target"]["Input"])["remind_at"]
            and s
        )
    )
    assert moved, "the schedule did not move with remind_at"

    client.post(f"/v1/activities/{task['id']}/complete")
    assert eventually(lambda: schedule_of(runtime, task["id"]) is None)

    other_task = client.create("activities", {"type": "task", "subject": "Drop", "remind_at": soon(3600)})
    assert eventually(lambda: schedule_of(runtime, other_task["id"]))
    client.patch(f"/v1/activities/{other_task['id']}", {"remind_at": None})
    assert eventually(lambda: schedule_of(runtime, other_task["id"]) is None)


def test_a_reminder_moved_before_it_fires_is_dropped(client: ApiClient) -> None:
    task = client.create("activities", {"type": "task", "subject": "Moved", "remind_at": soon(2)})
    client.post(f"/v1/activities/{task['id']}/complete")
    time.sleep(4)
    assert notifications(client) == []


def test_a_new_owner_is_notified_of_the_assignment(base_url: str, client: ApiClient) -> None:
    from crm_core.auth import Role
    from crm_core.services.tenants import create_user, issue_api_key

    rep_id = create_user(client.tenant_id, f"rep-{client.tenant_id.lower()}@example.com", Role.REP)
    rep = ApiClient(base_url, issue_api_key(client.tenant_id, rep_id, Role.REP), client.tenant_id, rep_id)
    deal = client.create("deals", {"name": "Handover"})
    client.patch(f"/v1/deals/{deal['id']}", {"owner_id": rep_id})
    contact = client.create("contacts", {"email": "given@example.com", "owner_id": rep_id})
    mine = notifications(rep)
    assert [(n["kind"], n["record"]) for n in mine] == [
        ("assignment", {"type": "contact", "id": contact["id"]}),
        ("assignment", {"type": "deal", "id": deal["id"]}),
    ]
    assert mine[1]["title"] == "Assigned to you: Handover"
    # Taking a record yourself notifies nobody; the rep can now change what it owns.
    assert rep.patch(f"/v1/deals/{deal['id']}", {"amount": "10"}).status_code == 200
    assert notifications(client) == []


def test_a_reminder_whose_events_come_late_fires_late_not_never(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog (or a redrive) can bring an activity's events to the schedule keeper after its reminder's
    time: it fires then, once, instead of being dropped. A reminder already past when it was written does
    not fire."""
    from functions.reminder_scheduler import handler as scheduler_function

    sync = scheduler_function.sync_schedule
    mine: list[str] = []

    def late(tenant_id: str, activity_id: str) -> str:
        if tenant_id == client.tenant_id:
            time.sleep(2.5)  # the events were late: the reminder's time has passed
            mine.append(activity_id)
        return sync(tenant_id, activity_id)

    monkeypatch.setattr(scheduler_function, "sync_schedule", late)
    task = client.create("activities", {"type": "task", "subject": "Late but sent", "remind_at": soon(1)})
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    client.create("activities", {"type": "task", "subject": "Set in the past", "remind_at": past})

    arrived = eventually(lambda: notifications(client))
    assert [n["title"] for n in arrived] == ["Reminder: Late but sent"]
    assert eventually(lambda: len(mine) >= 2), "the schedule keeper never saw both activities"
    time.sleep(1.5)
    assert [n["title"] for n in notifications(client)] == ["Reminder: Late but sent"]
    timeline = [e["type"] for e in client.get(f"/v1/activities/{task['id']}/timeline").json()["items"]]
    assert timeline == ["activity.reminder_due", "activity.created"]
