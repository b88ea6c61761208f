"""One-off EventBridge Scheduler ``at()`` schedules in the CRM's schedule group, each sending one message to
a queue (the reminders queue unless told otherwise) when its time comes: an activity's reminder
(services/reminders.py), a ticket's SLA timers (services/ticket_sla.py), a campaign's send
(services/campaign_sends.py). Made, moved or deleted to match what a record holds now; the local runtime
fires them as AWS would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from crm_core import aws
from crm_core.config import settings


def put_at(name: str, at: str, message: dict[str, Any], *, target_arn: str | None = None) -> str:
    """The schedule ``name`` fires at ``at`` (RFC 3339, rounded up to the whole second, so never early)
    and sends ``message`` to the queue ``target_arn`` (the reminders queue by default); made or moved.
    Answers "created" or "updated"."""
    config = settings()
    scheduler = aws.client("scheduler")
    when = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    if when.microsecond:  # at() takes whole seconds: round up, so a schedule is never early
        when = when.replace(microsecond=0)
        if when < datetime.max.replace(microsecond=0):  # the calendar's last second has no next
            when += timedelta(seconds=1)
    request: dict[str, Any] = {
        "Name": name,
        "GroupName": config.schedule_group,
        "ScheduleExpression": f"at({when.isoformat(timespec='seconds')})",  # a four-digit year, always
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {
            "Arn": target_arn or config.reminders_queue_arn,
            "RoleArn": config.scheduler_role_arn,
            "Input": json.dumps(message),
        },
    }
    try:
        scheduler.update_schedule(**request)
        return "updated"
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**request)
        return "created"


def remove(name: str) -> str:
    """No schedule ``name`` any more: "deleted", or "none" when there was none."""
    scheduler = aws.client("scheduler")
    try:
        scheduler.delete_schedule(Name=name, GroupName=settings().schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        return "none"
    return "deleted"
