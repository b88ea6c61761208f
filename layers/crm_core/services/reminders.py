"""Reminders: one EventBridge Scheduler at() schedule per activity reminder, kept in step with the
activity, and the owner's notification and ``activity.reminder_due`` event when it falls due (once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core import metrics, schedules
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.ids import utc_text
from crm_core.models.record import RecordFields
from crm_core.repositories import keys, notification_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import NotificationItem, RecordItem, UniqueMarker
from crm_core.repositories.transaction import WriteConflict
from crm_core.services.activities import ACTIVITIES
from crm_core.services.records import record_data


def schedule_name(activity_id: str) -> str:
    return f"reminder-{activity_id}"


# A reminder whose time came before its schedule could be made (its events were late: a backlog, a
# redrive) fires at once, late, rather than never; one older than this is stale and dropped.
LATE_REMINDER_WINDOW = timedelta(hours=24)


def _wanted_at(activity: RecordItem | None) -> tuple[str, bool] | None:
    """When the activity's reminder should fire, and whether that time has already come; None when there is
    none to fire: no reminder, done, archived, set for a time already past when it was written, or due
    longer ago than ``LATE_REMINDER_WINDOW``."""
    if activity is None or activity.archived_at is not None:
        return None
    data = record_data(activity)
    remind_at = data.get("remind_at")
    if not remind_at or data.get("completed_at"):
        return None
    now = datetime.now(UTC)
    if str(remind_at) > utc_text(now):
        return str(remind_at), False
    if str(remind_at) > str(activity.updated_at) and str(remind_at) > utc_text(now - LATE_REMINDER_WINDOW):
        return str(remind_at), True
    return None


def sync_schedule(tenant_id: str, activity_id: str) -> str:
    """Make the activity's schedule match what the activity holds now, whatever event brought us here
    (so repeated or reordered events converge). A reminder already due fires now (``fire`` sends it once
    however often it is asked). Answers what it did."""
    activity = repo.get_record(tenant_id, "activity", activity_id, consistent=True)
    wanted = _wanted_at(activity)
    name = schedule_name(activity_id)
    if wanted is not None and wanted[1]:
        outcome = fire(tenant_id, activity_id, wanted[0])
        metrics.count("RemindersSentLate", outcome == "sent")
        return f"late: {outcome}"
    if wanted is None:
        return "deleted" if schedules.delete_schedule(name) else "none"
    remind_at = wanted[0]
    at = datetime.fromisoformat(remind_at.replace("Z", "+00:00"))
    message = {"tenant_id": tenant_id, "activity_id": activity_id, "remind_at": remind_at}
    return schedules.put_at_schedule(name, at, settings().reminders_queue_arn, message)


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
    metrics.count("RemindersSent")
    return "sent"


def _notification(tenant_id: str, user_id: str, activity: RecordItem, data: RecordFields) -> NotificationItem:
    kind = data.get("type") or "activity"
    return notification_repository.new_notification(
        tenant_id,
        user_id,
        kind="reminder",
        title=f"Reminder: {data.get('subject') or kind}",
        record={"type": "activity", "id": activity.id},
    )
