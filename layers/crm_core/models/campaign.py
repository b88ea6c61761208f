"""Email campaigns: a template sent to a segment's consenting members, once each (services/campaigns.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Closed,
    Instant,
    RecordId,
    ShortText,
    StrictModel,
    record_model,
)

CampaignStatus = Literal["draft", "scheduled", "sending", "sent", "cancelled"]
CampaignTrigger = Literal["once", "birthday"]
TRIGGER_DESCRIPTION = (
    "`once` (the default): sent once to its segment, now (POST /send) or at a time (POST /schedule). "
    "`birthday`: POST /send makes it active (status `sending`) until POST /cancel; each day it greets the "
    "contacts whose birthday it is (in their owner's time zone; UTC for a contact without an active owner) "
    "who may be emailed, once a year each; `segment_id` is optional and narrows whom it greets."
)
Body = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
FromAddress = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254, pattern=r"^([^<>@]+<)?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$"),
]
FIELDS_DESCRIPTION = (
    "HTML with `{{ field }}` placeholders: first_name, last_name, email, title, company_name, "
    "unsubscribe_url, and survey_url in a survey campaign (`survey`). Values are HTML-escaped; any other "
    "name is 422 naming `body` when saved. The links "
    "(`href`) in it are the only places the click tracking redirects to."
)


class CampaignFields(StrictModel):
    # ``from`` is a Python keyword: the field is ``from_`` in code, ``from`` everywhere outside it.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)

    name: ShortText | None = None
    trigger: CampaignTrigger | None = Field(None, description=TRIGGER_DESCRIPTION)
    segment_id: RecordId | None = Field(
        None, description="The segment whose members it is sent to (a birthday campaign: who it may greet)."
    )
    subject: ShortText | None = None
    from_: FromAddress | None = Field(
        None, alias="from", description="The sender, `Name <address>` or an address of a verified domain."
    )
    body: Body | None = Field(None, description=FIELDS_DESCRIPTION)
    owner_id: RecordId | None = Field(
        None, description="The user it belongs to (its creator unless named): who may change and send it."
    )
    survey: Literal["nps"] | None = Field(
        None,
        description="`nps`: a relationship survey. Its body must have `{{ survey_url }}`, each recipient's "
        "own link to the public page `/s/{token}` that asks 0-10 and a comment (`survey.answered`).",
    )


class CampaignCreate(CampaignFields):
    name: ShortText


class CampaignUpdate(CampaignFields):
    """Only a draft changes; ``status`` follows send, schedule and cancel."""


class CampaignOut(CampaignFields):
    status: CampaignStatus = Field(
        "draft",
        description="Read-only: draft, scheduled (POST /schedule), sending (POST /send, or its time came; a "
        "birthday campaign: active), sent (every recipient accounted for; never a birthday campaign), "
        "cancelled (POST /cancel).",
    )
    send_at: str | None = Field(None, description="Read-only: when a scheduled campaign is sent.")
    sending_at: str | None = Field(None, description="Read-only: when its sending started.")
    sent_at: str | None = Field(None, description="Read-only: when every recipient was accounted for.")


CAMPAIGN_DEFAULTS: dict[str, object] = {
    "name": None,
    "trigger": "once",
    "segment_id": None,
    "subject": None,
    "from": None,
    "body": None,
    "owner_id": None,
    "survey": None,
    "status": "draft",
    "send_at": None,
    "sending_at": None,
    "sent_at": None,
}

Campaign = record_model("Campaign", CampaignOut)


class ScheduleRequest(StrictModel):
    send_at: Instant = Field(description="When to send it: a future time with its offset.")


class CampaignStats(Closed):
    campaign_id: str
    status: CampaignStatus
    recipients: int = Field(description="Segment members it was fanned out to (so far, while sending).")
    sent: int
    skipped: int = Field(description="Members not sent to: no granted consent, suppressed, or no address.")
    delivered: int
    bounced: int
    opened: int = Field(description="Recipients who opened it (each counted once).")
    clicked: int = Field(description="Recipients who clicked a link in it (each counted once).")
    unsubscribed: int
    converted: int = Field(
        description="Recipients with a deal won within the attribution window after the send (30 days)."
    )
    revenue: list[dict[str, str]] = Field(
        description='Those deals\' amounts by currency: [{"amount": "12500.00", "currency": "EUR"}].'
    )
    attribution_days: int


EXAMPLE_ID = "01JHC1CAMPA1GN000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Spring newsletter",
    "trigger": "once",
    "segment_id": "01JHC1SEGMENT0000000000001",
    "subject": "What is new this spring",
    "from": "Acme <news@acme.example>",
    "body": '<p>Hello {{ first_name }},</p><p><a href="https://acme.example/spring">Read more</a></p>',
    "owner_id": EXAMPLE_USER_ID,
    "survey": None,
    "status": "draft",
    "send_at": None,
    "sending_at": None,
    "sent_at": None,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("subject", "What is new this spring, in brief")


def example_input(n: int) -> dict[str, Any]:
    return {
        "name": f"Campaign {n}",
        "subject": "Hello",
        "from": "news@acme.example",
        "body": "<p>Hello {{ first_name }}</p>",
    }
