"""Where a tenant's events go: a partner's EventBridge bus, or a webhook."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from crm_core.event_catalog import matches_a_type
from crm_core.models.common import ULID_PATTERN, Closed, ShortText, StrictModel, record_model


def _http_url(value: str) -> str:
    """An http(s) URL with a host; https only and public addresses are checked when the target is saved."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an https URL")
    return value


WebhookUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_http_url)]


def _in_the_catalog(pattern: str) -> str:
    if not matches_a_type(pattern):
        raise ValueError(f"{pattern} matches no event type of the catalog (docs/events.md)")
    return pattern


# "contact.created", "deal.*" (every deal event) or "*" (every event), of the catalog's types
EventTypePattern = Annotated[
    str,
    StringConstraints(pattern=r"^(\*|[a-z_]+\.(\*|[a-z_]+))$"),
    AfterValidator(_in_the_catalog),
]
BusArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[\w.\-/]+$")
]


class EventTargetFields(StrictModel):
    type: Literal["eventbridge", "webhook"] | None = None
    description: ShortText | None = None
    event_types: Annotated[list[EventTypePattern], Field(min_length=1, max_length=50)] | None = None
    url: WebhookUrl | None = Field(None, description="Webhooks: where to POST.")
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = Field(
        None, description="Webhooks: signs each delivery (CRM-Signature). Write-only: never shown again."
    )
    event_bus_arn: BusArn | None = Field(None, description="EventBridge: the partner's bus.")


# What each type of target needs: a missing one is named as its own field's error.
_NEEDED_BY = {"url": "webhook", "secret": "webhook", "event_bus_arn": "eventbridge"}
_TARGET_NAMES = {"webhook": "a webhook", "eventbridge": "an EventBridge target"}


class EventTargetCreate(EventTargetFields):
    type: Literal["eventbridge", "webhook"]
    event_types: Annotated[list[EventTypePattern], Field(min_length=1, max_length=50)]
    # Validated when absent too, so that a webhook without a url is told so about ``url``.
    url: WebhookUrl | None = Field(None, validate_default=True, description="Webhooks: where to POST.")
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = Field(
        None,
        validate_default=True,
        description="Webhooks: signs each delivery (CRM-Signature). Write-only: never shown again.",
    )
    event_bus_arn: BusArn | None = Field(
        None, validate_default=True, description="EventBridge: the partner's bus."
    )

    @field_validator("url", "secret", "event_bus_arn")
    @classmethod
    def _needed_by_its_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        needed_by = _NEEDED_BY[str(info.field_name)]
        if value is None and info.data.get("type") == needed_by:
            raise ValueError(f"required for {_TARGET_NAMES[needed_by]}")
        return value


class EventTargetUpdate(EventTargetFields):
    """Every field optional (the type cannot change)."""

    @field_validator("event_types")
    @classmethod
    def _keeps_event_types(cls, event_types: list[str] | None) -> list[str]:
        if event_types is None:
            raise ValueError("cannot be cleared: a target needs the events it gets")
        return event_types


EVENT_TARGET_DEFAULTS: dict[str, object] = {
    "type": None,
    "description": None,
    "event_types": [],
    "url": None,
    "event_bus_arn": None,
    "has_secret": False,
}


class EventTargetOut(EventTargetFields):
    secret: None = Field(None, exclude=True)  # write-only
    has_secret: bool = False
    status: Literal["pending", "active", "failing"] = Field(
        "pending",
        description="Read-only. `pending` until routing is in place for this version of the target (after "
        "a create, change or restore, usually seconds), then `active`: every event committed after that "
        "reaches it. `failing` while its deliveries are being given up: a webhook from a delivery given up "
        "until the next one succeeds. Shown by the API; not part of the target's events.",
        json_schema_extra={"x-not-in-events": True},  # crm_local.catalog.NOT_IN_EVENTS
    )


# The record as the API answers it, and as its events carry it.
EventTarget = record_model("EventTarget", EventTargetOut)
EXAMPLE_ID = "01JHC1TARGET00000000000001"
EXAMPLE: dict[str, Any] = {
    "type": "webhook",
    "description": "Partner sync",
    "event_types": ["contact.*", "deal.won"],
    "url": "https://partner.example/hooks/crm",
    "event_bus_arn": None,
    "has_secret": True,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("description", "Partner sync (production)")


def example_input(n: int) -> dict[str, Any]:
    """A create body: a webhook on the discard port (nothing listens there, so a delivery fails at once
    and is logged as a try) for a rare event type, so that other records made alongside send nothing."""
    return {
        "type": "webhook",
        "description": f"Example target {n}",
        "url": "http://127.0.0.1:9/example",
        "secret": "example-secret-0123456789",
        "event_types": ["event_source.created"],
    }


# A target's deliveries, as its delivery log and redelivery route take and answer them.


class RedeliverRequest(StrictModel):
    event_id: str = Field(pattern=ULID_PATTERN, description="An event the target was sent before.")


class DeliveryTry(Closed):
    delivery_id: str = Field(description="The same on every try of one delivery.")
    event_id: str
    event_type: str
    attempt: int = Field(description="1 for the first try.")
    outcome: Literal["succeeded", "retrying", "gave_up"]
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    error: str | None
    duration_ms: int
    attempted_at: str


class Redelivery(Closed):
    delivery_id: str = Field(description="The new delivery's id, as its tries list it.")
    event_id: str
    queued_at: str
