"""A person's export (GET /v1/privacy/contacts/{id}/export) as the API answers it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crm_core.models.audit import AuditEvent
from crm_core.models.common import Closed
from crm_core.models.contact import Contact


class LinkedName(Closed):
    id: str
    name: str | None = Field(description="What people call it: a deal's or company's name.")


class PersonExport(Closed):
    contact: Contact = Field(description="The contact record (archived or not); an erased one's tombstone.")  # type: ignore[valid-type]
    company: LinkedName | None = Field(description="The company the contact belongs to, if any.")
    timeline: list[dict[str, Any]] = Field(
        description="The contact's timeline, newest first, as GET /v1/contacts/{id}/timeline answers it."
    )
    linked: dict[str, list[dict[str, Any]]] = Field(
        description="The records that refer to the contact, by collection (active and archived): those "
        "that hold what was said with the person (activities; emails and tickets when they exist) whole, "
        "the others (deals) as `{id, name}`."
    )
    audit: list[AuditEvent] = Field(description="The audit trail of the contact record, newest first.")
    exported_at: str
