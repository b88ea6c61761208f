"""A partner's event source that a tenant accepts events from."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from crm_core.models.common import ShortText, StrictModel

PartnerSource = Annotated[str, StringConstraints(pattern=r"^partner\.[a-z0-9][a-z0-9-]{0,62}$")]


class EventSourceFields(StrictModel):
    source: PartnerSource | None = Field(None, description='The EventBridge "source" the partner sends with.')
    description: ShortText | None = None


class EventSourceCreate(EventSourceFields):
    source: PartnerSource


class EventSourceUpdate(StrictModel):
    description: ShortText | None = None


EVENT_SOURCE_DEFAULTS: dict[str, object] = {"source": None, "description": None}
