"""What an activity is made of: a note, call, email, meeting or task, linked to a contact, company, deal."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from crm_core.models import contact, deal
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    Timestamp,
    record_model,
)

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

# The record as the API answers it, and as its events carry it.
Activity = record_model("Activity", ActivityFields)
EXAMPLE_ID = "01JHC1ACT1V1TY000000000001"
EXAMPLE: dict[str, Any] = {
    "type": "task",
    "subject": "Call back about the renewal",
    "body": None,
    "due_at": "2025-01-16T09:00:00.000Z",
    "remind_at": "2025-01-16T08:45:00.000Z",
    "completed_at": None,
    "owner_id": EXAMPLE_USER_ID,
    "contact_id": contact.EXAMPLE_ID,
    "company_id": None,
    "deal_id": deal.EXAMPLE_ID,
    "tags": [],
}
EXAMPLE_UPDATE: tuple[str, Any] = ("subject", "Call back about the renewal and the upsell")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {"type": "note", "subject": f"Example note {n}"}
