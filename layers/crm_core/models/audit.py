"""An audit event (one write in the audit trail) as the API answers it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crm_core.models.common import Closed


class AuditActor(Closed):
    type: str = Field(description="`user`, or `system` for the CRM's own work (then `id` says which).")
    id: str = Field(description="The user's id, or what the CRM was doing (e.g. `merge`, `reminders`).")
    via: str | None = Field(None, description="How the user called: `api_key` or `jwt`.")
    credential_id: str | None = Field(None, description="Which API key or sign-in the call was made with.")


class AuditObject(Closed):
    type: str = Field(description="The object's type, e.g. contact, pipeline, event_target.")
    id: str


class AuditFieldChange(Closed):
    before: Any = Field(None, description="Its value before (null for a new record's field).")
    after: Any = Field(None, description="Its value after.")
    personal: bool = Field(
        False, description="A personal field (a contact's name, email, phone): named, its values not kept."
    )
    hidden: bool = Field(False, description="A field never shown (an event target's secret): named only.")


class AuditEvent(Closed):
    id: str = Field(description="The write's id: its first event's id for a record's change.")
    occurred_at: str
    actor: AuditActor
    action: str = Field(
        description="What was done, as its event type: `contact.updated`, `pipeline.created`."
    )
    object: AuditObject
    changes: dict[str, AuditFieldChange] = Field(
        description="Each field the write changed, by name; a new record's, each field it was given."
    )
    request_id: str | None = Field(description="The X-Request-Id of the request that wrote it.")
    source_ip: str | None = Field(description="The caller's address; null for the CRM's own work.")
