"""Tickets that arrive from web forms, mail gateways and partners: the contact found or created by email."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.models.common import ShortText, StrictModel, Tags
from crm_core.models.contact import Email
from crm_core.models.record import RecordBody, RecordFields
from crm_core.models.ticket import Category, Channel, LongText, Priority
from crm_core.repositories import record_repository as repo
from crm_core.services.contacts import CONTACTS
from crm_core.services.tickets import TICKETS

CONTACT_FIELDS = ("email", "first_name", "last_name")


class InboundTicket(StrictModel):
    """A customer's request: who (by email) and what."""

    email: Email
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    subject: ShortText
    description: LongText | None = None
    channel: Channel | None = Field(None, description="`web` when unset (`partner` for partner events).")
    category: Category | None = None
    priority: Priority | None = None
    tags: Tags | None = None
    external_ref: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None,
        description="The sender's own id of the submission (a mail's Message-ID): the same one again answers "
        "the ticket it made (200) instead of making another.",
    )


def receive_ticket(
    ctx: RequestContext, fields: RecordFields, *, key: str | None = None, channel: str = "web"
) -> tuple[Literal["created", "existing"], RecordBody, RecordBody]:
    """(outcome, the ticket, its contact). The contact with this email, or a new one (source inbound); the
    ticket unassigned, in the contact's company. ``key`` (or the body's ``external_ref``) makes the same
    submission one ticket however often it arrives."""
    ctx = dataclasses.replace(ctx, require_custom=False)
    contact = _contact_for(ctx, {k: fields[k] for k in CONTACT_FIELDS if fields.get(k)})
    ticket_fields: RecordFields = {
        k: v for k, v in fields.items() if k not in (*CONTACT_FIELDS, "external_ref") and v is not None
    }
    ticket_fields.setdefault("channel", channel)
    ticket_fields.update(contact_id=contact["id"], assignee_id=None)
    if contact.get("company_id"):
        ticket_fields["company_id"] = contact["company_id"]
    key = key or (f"external:{fields['external_ref']}" if fields.get("external_ref") else None)
    if key is None:
        return "created", TICKETS.create(ctx, ticket_fields), contact
    created, ticket = TICKETS.create_once(ctx, ticket_fields, key)
    return ("created" if created else "existing"), ticket, contact


def _contact_for(ctx: RequestContext, person: RecordFields) -> RecordBody:
    email = str(person["email"]).strip().lower()
    for _attempt in range(2):
        existing_id = repo.get_unique_owner(ctx.tenant_id, "contact", "email", email)
        if existing_id is not None:
            return CONTACTS.get(ctx, existing_id)
        try:
            return CONTACTS.create(ctx, {**person, "source": "inbound", "owner_id": None})
        except ProblemError as problem:
            if problem.status != 409:  # the same person writing twice at once: take the winner's contact
                raise
    raise ProblemError(409, "Conflict", "This contact is being created twice at once; retry the request.")
