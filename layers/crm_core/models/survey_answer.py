"""What a ``survey.answered`` event carries: one answer to a survey (services/surveys.py), a ticket's CSAT
survey (1-5) or a campaign's NPS survey (0-10)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crm_core.models.common import Closed

SurveyKind = Literal["csat", "nps"]


class SurveyAnswer(Closed):
    id: str = Field(description="The survey (one per ticket resolution, or per campaign and recipient).")
    kind: SurveyKind = Field(description="`csat`: 1-5 after a ticket is resolved; `nps`: 0-10.")
    contact_id: str
    ticket_id: str | None = Field(None, description="csat: the ticket rated.")
    campaign_id: str | None = Field(None, description="nps: the campaign that sent it.")
    score: int
    comment: str | None = None
    sent_at: str | None = None
    answered_at: str
    version: int = Field(description="1 for its first answer, 2 for the next...: the latest one stands.")


EXAMPLE_ID = "01JHC1SURVEY00000000000001"
EXAMPLE: dict[str, Any] = {
    "kind": "csat",
    "contact_id": "01JHC1C0NTACT0000000000001",
    "ticket_id": "01JHC1T1CKET00000000000001",
    "campaign_id": None,
    "score": 5,
    "comment": "Quick and kind.",
    "sent_at": "2025-01-16T10:00:00.000Z",
    "answered_at": "2025-01-16T12:00:00.000Z",
    "version": 1,
}
