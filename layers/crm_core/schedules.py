"""EventBridge Scheduler ``at()`` schedules of the CRM's group (reminders, campaigns): one put (update, or
create when there is none) and one delete, each idempotent; the local runtime fires them as AWS would."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from crm_core import aws
from crm_core.config import settings


def put_at_schedule(name: str, at: datetime, target_arn: str, message: Mapping[str, object]) -> str:
    """The schedule ``name`` sends ``message`` to the queue ``target_arn`` at ``at`` (rounded up to the whole
    second: never early), then deletes itself. Answers "updated" or "created"."""
    at = at.astimezone(UTC)
    if at.microsecond:  # at() takes whole seconds
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    config = settings()
    request = {
        "Name": name,
        "GroupName": config.schedule_group,
        "ScheduleExpression": f"at({at:%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {"Arn": target_arn, "RoleArn": config.scheduler_role_arn, "Input": json.dumps(message)},
    }
    scheduler = aws.client("scheduler")
    try:
        scheduler.update_schedule(**request)
        return "updated"
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**request)
        return "created"


def delete_schedule(name: str) -> bool:
    """The schedule ``name`` deleted; False when there was none."""
    scheduler = aws.client("scheduler")
    with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name=name, GroupName=settings().schedule_group)
        return True
    return False
