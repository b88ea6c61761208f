"""What a ticket is made of: a customer service case, its replies, and the due times its SLA policy sets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from crm_core.models import company, contact
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Closed,
    Custom,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    record_model,
)

Channel = Literal["email", "phone", "web", "chat", "partner"]
Category = Literal["question", "complaint", "incident", "request"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "resolved", "closed"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
MAX_ARTICLES = 20


class TicketFields(StrictModel):
    subject: ShortText | None = None
    description: LongText | None = None
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    deal_id: RecordId | None = None
    channel: Channel | None = None
    category: Category | None = None
    priority: Priority | None = Field(
        None, description="Sets the due times (the SLA policy's targets for it); `normal` when unset."
    )
    status: Status | None = Field(
        None,
        description="`new` on creation. Moves: new -> open, pending, resolved, closed; open -> pending, "
        "resolved, closed; pending -> open, resolved, closed; resolved -> open (reopened), closed; closed "
        "is final. Another move is 422. An agent's first public reply opens a new ticket; a customer's "
        "reply reopens a pending or resolved one.",
    )
    assignee_id: RecordId | None = Field(
        None, description="The user working on it (its owner for the role rules); the creator by default."
    )
    team_id: RecordId | None = None
    tags: Tags | None = None
    custom: Custom | None = None
    article_ids: Annotated[list[RecordId], Field(max_length=MAX_ARTICLES)] | None = Field(
        None, description="Knowledge base articles linked to the ticket."
    )


class TicketCreate(TicketFields):
    subject: ShortText


class TicketUpdate(TicketFields):
    """Every field optional; a field sent as null is cleared (status and priority take their default)."""


class TicketSla(Closed):
    """The due times of the ticket's SLA policy, counted in its business hours from the ticket's creation
    (again from then when its priority changes), and whether each was missed."""

    policy_id: str | None = Field(None, description="The SLA policy the due times come from.")
    first_response_due_at: str | None = None
    resolution_due_at: str | None = None
    first_response_warn_at: str | None = Field(None, description="When the assignee is warned.")
    resolution_warn_at: str | None = Field(None, description="When the assignee is warned.")
    first_response_breached: bool = False
    resolution_breached: bool = False
    paused_at: str | None = Field(
        None,
        description="While the ticket is pending (waiting on the customer) the clock stops: since when. On "
        "leaving pending the due and warning times move by the business time it waited.",
    )
    paused_seconds: int | None = Field(None, description="The business time of its pauses so far.")


class Satisfaction(Closed):
    """The contact's answer to the survey sent when the ticket was last resolved (the latest answer)."""

    score: int | None = Field(None, description="1 (very unsatisfied) to 5 (very satisfied).")
    comment: str | None = None
    survey_id: str | None = Field(None, description="The survey answered (one per resolution).")
    answered_at: str | None = None


class LastReply(Closed):
    id: str
    public: bool
    author: Literal["agent", "customer"]
    created_at: str
    merged_from: str | None = Field(
        None,
        description="The ticket it was written on, when a merge moved it here (no `ticket.replied` then).",
    )


class TicketOut(TicketFields):
    """A ticket as answered: its fields and those the CRM keeps for it."""

    sla: TicketSla | None = Field(None, description="Null while no SLA policy applies to it.")
    sla_breached: bool | None = Field(None, description="True once a due time was missed (`breached`).")
    first_responded_at: str | None = Field(None, description="The first public reply by an agent.")
    resolved_at: str | None = Field(None, description="When it was last resolved (or closed unresolved).")
    satisfaction: Satisfaction | None = None
    last_reply: LastReply | None = Field(None, description="Its latest reply or note (GET /replies: all).")


TICKET_DEFAULTS: dict[str, object] = {
    "subject": None,
    "description": None,
    "contact_id": None,
    "company_id": None,
    "deal_id": None,
    "channel": None,
    "category": None,
    "priority": "normal",
    "status": "new",
    "assignee_id": None,
    "team_id": None,
    "tags": [],
    "custom": {},
    "article_ids": [],
    "sla": None,
    "sla_breached": None,
    "first_responded_at": None,
    "resolved_at": None,
    "satisfaction": None,
    "last_reply": None,
}


class ReplyCreate(StrictModel):
    body: LongText
    public: bool = Field(True, description="True: answers the customer; false: an internal note.")
    author: Literal["agent", "customer"] = Field(
        "agent",
        description="`customer`: what the customer wrote (a mail gateway, a call taken down); it reopens "
        "a pending or resolved ticket and is never its first response.",
    )


class Reply(Closed):
    id: str
    ticket_id: str
    body: str
    public: bool
    author: Literal["agent", "customer"]
    author_id: str | None = Field(None, description="The user who wrote or recorded it.")
    created_at: str


# The record as the API answers it, and as its events carry it.
Ticket = record_model("Ticket", TicketOut)
EXAMPLE_ID = "01JHC1T1CKET00000000000001"
EXAMPLE: dict[str, Any] = {
    "subject": "The invoice total is wrong",
    "description": "Invoice 2025-014 counts the engines twice.",
    "contact_id": contact.EXAMPLE_ID,
    "company_id": company.EXAMPLE_ID,
    "deal_id": None,
    "channel": "email",
    "category": "complaint",
    "priority": "high",
    "status": "open",
    "assignee_id": EXAMPLE_USER_ID,
    "team_id": None,
    "tags": [],
    "custom": {},
    "article_ids": [],
    "sla": {
        "policy_id": "01JHC1S1APO11CY00000000001",
        "first_response_due_at": "2025-01-15T10:00:00.000Z",
        "resolution_due_at": "2025-01-16T10:00:00.000Z",
        "first_response_warn_at": "2025-01-15T09:30:00.000Z",
        "resolution_warn_at": "2025-01-16T09:30:00.000Z",
        "first_response_breached": False,
        "resolution_breached": False,
    },
    "sla_breached": None,
    "first_responded_at": "2025-01-15T09:12:00.000Z",
    "resolved_at": None,
    "satisfaction": None,
    "last_reply": {
        "id": "01JHC1REP1Y000000000000001",
        "public": True,
        "author": "agent",
        "created_at": "2025-01-15T09:12:00.000Z",
    },
}
EXAMPLE_UPDATE: tuple[str, Any] = ("priority", "urgent")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {"subject": f"Example ticket {n}", "channel": "web", "category": "question"}


_SYSTEM = {"type": "system", "id": "sla"}
_LATER = "2025-01-16T10:00:00.000Z"
# What each of a ticket's own events changes in the example, for the event catalog's examples.
EXAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "assigned": {"fields": [("assignee_id", "01JHC0WSER00000000000000AC")]},
    "replied": {
        "fields": [
            (
                "last_reply",
                {"id": "01JHC1REP1Y000000000000002", "public": True, "author": "agent", "created_at": _LATER},
            )
        ]
    },
    "resolved": {"fields": [("status", "resolved"), ("resolved_at", _LATER)]},
    "closed": {"fields": [("status", "closed"), ("resolved_at", _LATER)]},
    "reopened": {
        "changes": {
            "status": {"from": "resolved", "to": "open"},
            "resolved_at": {"from": "2025-01-15T16:00:00.000Z", "to": None},
        }
    },
    "rated": {
        "fields": [("satisfaction", {"score": 5, "comment": "Quick and kind."})],
        "actor": {"type": "system", "id": "surveys"},
    },
    "sla_warning": {"changes": {"sla_warning": {"from": None, "to": "resolution"}}, "actor": _SYSTEM},
    "sla_breached": {
        "fields": [
            ("sla", {**EXAMPLE["sla"], "resolution_breached": True}),
            ("sla_breached", True),
        ],
        "actor": _SYSTEM,
    },
}
