"""A partner's event source that a tenant accepts events from."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints
from pydantic.json_schema import JsonDict

from crm_core.definitions import ACCOUNT_ID_PATTERN
from crm_core.models.common import ShortText, StrictModel, record_model

PartnerSource = Annotated[str, StringConstraints(pattern=r"^partner\.[a-z0-9][a-z0-9-]{0,62}$")]
AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]
ACCOUNT_ID_DESCRIPTION = "The AWS account the partner sends from; empty means this CRM's own account"


class EventSourceFields(StrictModel):
    source: PartnerSource | None = Field(None, description='The EventBridge "source" the partner sends with.')
    description: ShortText | None = None
    account_id: AccountId | None = Field(None, description=ACCOUNT_ID_DESCRIPTION)


class EventSourceCreate(EventSourceFields):
    source: PartnerSource


class EventSourceUpdate(StrictModel):
    """The source cannot change (it is the unique field); the description and the account can."""

    description: ShortText | None = None
    account_id: AccountId | None = Field(None, description=ACCOUNT_ID_DESCRIPTION)


EVENT_SOURCE_DEFAULTS: dict[str, object] = {"source": None, "description": None, "account_id": None}

# Shown by the API, kept apart from the record (its #STATUS item): not in the source's events.
NOT_IN_EVENTS: JsonDict = {"x-not-in-events": True}  # crm_local.catalog.NOT_IN_EVENTS


class EventSourceOut(EventSourceFields):
    refused_count: int = Field(
        0,
        description="Read-only. How many events of this source the CRM refused (a lead it could not take, "
        "an event sent from another account than account_id, a type it does not accept). Events of sources "
        "not registered here are refused without a trace on any registration.",
        json_schema_extra=NOT_IN_EVENTS,
    )
    last_refused_at: str | None = Field(
        None, description="Read-only. When the last one was refused.", json_schema_extra=NOT_IN_EVENTS
    )
    last_refused_reason: str | None = Field(
        None,
        description="Read-only. Why the last one was refused, e.g. `invalid lead: email: value is not a "
        "valid email address`.",
        json_schema_extra=NOT_IN_EVENTS,
    )


# The record as the API answers it, and as its events carry it (without the refusals).
EventSource = record_model("EventSource", EventSourceOut)
EXAMPLE_ID = "01JHC1S0VRCE00000000000001"
EXAMPLE: dict[str, Any] = {
    "source": "partner.acme",
    "description": "Acme lead forms",
    "account_id": "111122223333",
}
EXAMPLE_UPDATE: tuple[str, Any] = ("description", "Acme lead forms (production)")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` varies the source, which is unique in a tenant."""
    return {"source": f"partner.example{n}", "description": "Example lead forms"}
