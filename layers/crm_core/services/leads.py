"""Leads that arrive from web forms and partners: one contact per email, however often it arrives."""

from __future__ import annotations

import dataclasses
from typing import Literal

from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.models.contact import ContactFields, Email
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories import record_repository as repo
from crm_core.services.contacts import CONTACTS

STAGE_ORDER = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"]


class InboundLead(ContactFields):
    """A contact's fields, with the email required (it is how a returning lead is recognised)."""

    email: Email


def receive_lead(
    ctx: RequestContext, fields: RecordFields
) -> tuple[Literal["created", "updated"], RecordBody]:
    """("created" | "updated", the contact). A known email updates the contact: the lead's values fill
    what the contact lacks and replace what it says anew; tags add up; the lifecycle stage never goes back."""
    ctx = dataclasses.replace(ctx, require_custom=False)
    fields = dict(fields)
    fields.setdefault("source", "inbound")
    fields.setdefault("lifecycle_stage", "lead")
    for _attempt in range(2):
        existing_id = repo.get_unique_owner(
            ctx.tenant_id, "contact", "email", fields["email"].strip().lower()
        )
        if existing_id is None:
            try:
                return "created", CONTACTS.create(ctx, fields)
            except ProblemError as problem:
                if problem.status != 409:  # the same lead arriving twice at once: update the winner
                    raise
                continue
        current = CONTACTS.get(ctx, existing_id)
        changes = {k: v for k, v in fields.items() if k not in ("tags", "lifecycle_stage", "source", "email")}
        changes["tags"] = list(dict.fromkeys([*(current.get("tags") or []), *(fields.get("tags") or [])]))[
            :10
        ]
        if _later_stage(fields["lifecycle_stage"], current.get("lifecycle_stage")):
            changes["lifecycle_stage"] = fields["lifecycle_stage"]
        if not current.get("source"):
            changes["source"] = fields["source"]
        return "updated", CONTACTS.update(ctx, existing_id, changes)
    raise ProblemError(409, "Conflict", "This lead is being received twice at once; retry the request.")


def _later_stage(new: str, current: str | None) -> bool:
    if current is None or current == "other" or current not in STAGE_ORDER:
        return True
    return new in STAGE_ORDER and STAGE_ORDER.index(new) > STAGE_ORDER.index(current)
