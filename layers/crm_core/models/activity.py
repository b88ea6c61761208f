"""What an activity is made of: a note, call, email, meeting or task, linked to a contact, company, deal."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from crm_core.models.common import RecordId, ShortText, StrictModel, Tags, Timestamp

ActivityType = Literal["note", "call", "email", "meeting", "task"]


class ActivityFields(StrictModel):
    type: ActivityType | None = None
    subject: ShortText | None = None
    body: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    due_at: Timestamp | None = None
    remind_at: Timestamp | None = Field(None, description="The owner is notified then, once.")
    completed_at: Timestamp | None = Field(
        None, description="Set by POST /complete, or given for a logged one."
    )
    owner_id: RecordId | None = None
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    deal_id: RecordId | None = None
    tags: Tags | None = None


class ActivityCreate(ActivityFields):
    type: ActivityType


class ActivityUpdate(ActivityFields):
    """Every field optional; a field sent as null is cleared."""


ACTIVITY_DEFAULTS: dict[str, object] = {
    "type": None,
    "subject": None,
    "body": None,
    "due_at": None,
    "remind_at": None,
    "completed_at": None,
    "owner_id": None,
    "contact_id": None,
    "company_id": None,
    "deal_id": None,
    "tags": [],
}
