"""A partner's event source that a tenant accepts events from."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

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

# The record as the API answers it, and as its events carry it.
EventSource = record_model("EventSource", EventSourceFields)
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
