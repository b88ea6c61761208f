"""What an ``email.*`` event carries: one recipient's email of a campaign (services/campaign_sends.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crm_core.models.common import Closed

EmailEventKind = Literal["sent", "delivered", "bounced", "opened", "clicked", "unsubscribed"]


class EmailEvent(Closed):
    id: str = Field(description="The recipient's email: the same id in each of its events.")
    campaign_id: str
    contact_id: str
    occurred_at: str
    url: str | None = Field(None, description="email.clicked: the link followed.")
    bounce_type: str | None = Field(None, description="email.bounced: Permanent, Transient or Complaint.")
    message_id: str | None = Field(None, description="SES's message id (email.sent and later).")


EXAMPLE_ID = "01JHC1CAMPA1GN0000RECP0001"
EXAMPLE: dict[str, Any] = {
    "campaign_id": "01JHC1CAMPA1GN000000000001",
    "contact_id": "01JHC1C0NTACT0000000000001",
    "occurred_at": "2026-01-15T10:00:00.000Z",
    "url": None,
    "bounce_type": None,
    "message_id": "0100018d0a1b2c3d-00000000-0000-0000-0000-000000000000-000000",
}
