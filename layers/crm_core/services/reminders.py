"""Reminders: one EventBridge Scheduler at() schedule per activity reminder, kept in step with the
activity, and the owner's notification and ``activity.reminder_due`` event when it falls due (once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from crm_core import aws
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.ids import new_id, utc_now
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import NotificationItem, RecordItem, UniqueMarker
from crm_core.repositories.transaction import WriteConflict
from crm_core.services.activities import ACTIVITIES
from crm_core.services.records import RequestContext, record_data


def schedule_name(activity_id: str) -> str:
    return f"reminder-{activity_id}"


def _wanted_at(activity: RecordItem | None) -> str | None:
    """When the activity's reminder should fire, or None: no reminder, done, archived or already past."""
    if activity is None or activity.archived_at is not None:
        return None
    data = record_data(activity)
    remind_at = data.get("remind_at")
    if not remind_at or data.get("completed_at") or remind_at <= utc_now():
        return None
    return str(remind_at)


def sync_schedule(tenant_id: str, activity_id: str) -> str:
    """Make the activity's schedule match what the activity holds now, whatever event brought us here
    (so repeated or reordered events converge). Answers what it did."""
    config = settings()
    scheduler = aws.client("scheduler")
    activity = repo.get_record(tenant_id, "activity", activity_id, consistent=True)
    remind_at = _wanted_at(activity)
    name = schedule_name(activity_id)
    if remind_at is None:
        try:
            scheduler.delete_schedule(Name=name, GroupName=config.schedule_group)
        except scheduler.exceptions.ResourceNotFoundException:
            return "none"
        return "deleted"
    at = datetime.fromisoformat(remind_at.replace("Z", "+00:00")).astimezone(UTC)
    if at.microsecond:  # at() takes whole seconds: round up, so a reminder is never early
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    request = {
        "Name": name,
        "GroupName": config.schedule_group,
        "ScheduleExpression": f"at({at:%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {
            "Arn": config.reminders_queue_arn,
            "RoleArn": config.scheduler_role_arn,
            "Input": json.dumps({"tenant_id": tenant_id, "activity_id": activity_id, "remind_at": remind_at}),
        },
    }
    try:
        scheduler.update_schedule(**request)
        return "updated"
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**request)
        return "created"


def fire(tenant_id: str, activity_id: str, remind_at: str) -> str:
    """The owner's notification and the ``activity.reminder_due`` event, in one transaction guarded by a
    marker for this reminder: a second delivery of the same message finds the marker and does nothing.
    A reminder that no longer stands (moved, cleared, completed, archived) is dropped."""
    activity = repo.get_record(tenant_id, "activity", activity_id, consistent=True)
    if activity is None or activity.archived_at is not None:
        return "stale"
    data = record_data(activity)
    if data.get("remind_at") != remind_at or data.get("completed_at"):
        return "stale"
    ctx = RequestContext(Principal.system(tenant_id, "reminders"))
    changes = ACTIVITIES.event_only(ctx, activity, "reminder_due")
    changes.save(
        UniqueMarker(
            keys.reminder_sent_pk(tenant_id, activity_id, remind_at), keys.UNIQUE_SK, record_id=activity_id
        ),
        condition=UniqueMarker.PK.does_not_exist(),
        label="reminder",
    )
    owner_id = data.get("owner_id")
    if owner_id:
        changes.save(_notification(tenant_id, owner_id, activity, data))
    try:
        changes.commit()
    except WriteConflict as conflict:
        if conflict.label == "reminder":
            return "duplicate"
        raise
    return "sent"


def _notification(
    tenant_id: str, user_id: str, activity: RecordItem, data: dict[str, Any]
) -> NotificationItem:
    notification_id = new_id()
    kind = data.get("type") or "activity"
    return NotificationItem(
        keys.notifications_pk(tenant_id, user_id),
        notification_id,
        id=notification_id,
        user_id=user_id,
        kind="reminder",
        title=f"Reminder: {data.get('subject') or kind}",
        record={"type": "activity", "id": activity.id},
        created_at=utc_now(),
    )
