"""Every record type of the CRM, declared once.

A type is its models module (``crm_core/models/<name>.py``: its input models, the record as the API
answers it, an example of it), its service (an ``ObjectSpec`` in ``crm_core/services/``), its routes
module under ``functions/<function>/``, and one entry here. The event catalog, the event schemas and
their examples, the routes each API function is given (``definitions.API_FUNCTIONS``), the merge moves
and the tests' generic cases derive from these entries; ``docs/adding-a-record-type.md`` says what to
write, and ``tests/unit/test_record_types.py`` fails when a type is registered incompletely.

Plain data, cheap to import (the definitions and the event catalog read it): models and services are
named by their core module and imported only when asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from crm_core.services.records import RecordService

# What happens to every type's records, and the event each sends; a type may say it in its own words.
LIFECYCLE: dict[str, str] = {
    "created": "{A_label} is created (POST or batch create).",
    "updated": "{A_label}'s fields change (PATCH or batch update); `changes` names each changed field.",
    "archived": "{A_label} is archived (DELETE), or is the duplicate a merge archives (`merged_into` set).",
    "restored": "An archived {label} is restored.",
    "merged": "A duplicate {label} is merged into this one (the survivor); `changes.merged_from.to` is the "
    "duplicate's id.",
}


@dataclass(frozen=True)
class RecordType:
    name: str  # "contact": its type in keys, event types and timelines
    collection: str  # "contacts": its path, /v1/contacts, and what a list of them is called
    function: str  # the API function that serves its path (definitions.API_FUNCTIONS)
    service: str  # "<core module>:<RecordService>", e.g. "crm_core.services.contacts:CONTACTS"
    model: str  # the record as answered, in its models module: "Contact"
    mergeable: bool = True  # it has a merge route: it sends "merged", and what refers to it moves
    # Its own events besides the lifecycle ones, and lifecycle events it describes otherwise:
    # (action, when it is sent).
    events: tuple[tuple[str, str], ...] = ()
    # The lifecycle events it sends (a user is deactivated, never archived; an API key is revoked).
    lifecycle: tuple[str, ...] = tuple(LIFECYCLE)
    # What names one of its records under its path: its id, or (a property) its object and name.
    key_path: str = "{record_id}"

    @property
    def label(self) -> str:
        """How the docs name one: "event target"."""
        return self.name.replace("_", " ")

    @property
    def path(self) -> str:
        return f"/v1/{self.collection}"

    @property
    def models_module(self) -> str:
        return f"crm_core.models.{self.name}"

    def models(self) -> ModuleType:
        """Its models module: the input models, ``<model>``, ``EXAMPLE_ID``, ``EXAMPLE``,
        ``EXAMPLE_UPDATE`` and ``example_input(n)``."""
        return importlib.import_module(self.models_module)

    def record_model(self) -> type[BaseModel]:
        model: type[BaseModel] = getattr(self.models(), self.model)
        return model

    def record_service(self) -> RecordService:
        module, _, attribute = self.service.partition(":")
        service: RecordService = getattr(importlib.import_module(module), attribute)
        return service

    def example(self) -> dict[str, Any]:
        """The record's fields in the catalog's examples."""
        example: dict[str, Any] = self.models().EXAMPLE
        return example

    def example_input(self, n: int) -> dict[str, Any]:
        """A valid create body; ``n`` varies what must be unique in a tenant."""
        body: dict[str, Any] = self.models().example_input(n)
        return body

    def event_actions(self) -> dict[str, str]:
        """Every event type it sends, as {action: when it is sent}."""
        article = "An" if self.label[0] in "aeiou" else "A"
        actions = {
            action: when.format(label=self.label, A_label=f"{article} {self.label}")
            for action, when in LIFECYCLE.items()
            if action in self.lifecycle and (action != "merged" or self.mergeable)
        }
        actions.update(self.events)
        return actions


RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType(
        "contact",
        "contacts",
        "contacts",
        "crm_core.services.contacts:CONTACTS",
        "Contact",
        events=(
            (
                "erased",
                "A contact's personal data is erased (POST /v1/privacy/contacts/{id}/erase): `data` is the "
                "tombstone (`erased_at` set, personal fields null) and `changes` is empty: the event carries "
                "none of the erased values. Sent once, however often the erasure is asked for.",
            ),
        ),
    ),
    RecordType("company", "companies", "contacts", "crm_core.services.companies:COMPANIES", "Company"),
    RecordType(
        "pipeline",
        "pipelines",
        "deals",
        "crm_core.services.pipelines:PIPELINES",
        "Pipeline",
        mergeable=False,
        events=(
            ("created", "A pipeline is created (and a tenant's default pipeline when it is set up)."),
            ("updated", "A pipeline's name, currency or stages change."),
            ("archived", "A pipeline with no open deals is archived (DELETE)."),
        ),
    ),
    RecordType(
        "deal",
        "deals",
        "deals",
        "crm_core.services.deals:DEALS",
        "Deal",
        events=(
            (
                "updated",
                "A deal's fields change and it stays in its stage; `changes` names each changed field.",
            ),
            (
                "stage_changed",
                "A deal moves to another stage or pipeline (any other changed fields are in its `changes`); "
                "followed by deal.won or deal.lost when the new stage closes it.",
            ),
            ("won", "A deal enters a won stage (after its deal.stage_changed)."),
            ("lost", "A deal enters a lost stage (after its deal.stage_changed)."),
        ),
    ),
    RecordType(
        "activity",
        "activities",
        "deals",
        "crm_core.services.activities:ACTIVITIES",
        "Activity",
        events=(
            ("created", "An activity (note, call, email, meeting or task) is created."),
            (
                "updated",
                "An activity's fields change, other than completing it; `changes` names each changed field.",
            ),
            (
                "completed",
                "An activity is completed (POST /complete, or `completed_at` set on an open one), instead of "
                "activity.updated.",
            ),
            (
                "reminder_due",
                "An open activity's `remind_at` arrives (once; the owner is notified); actor is the system.",
            ),
        ),
    ),
    RecordType(
        "event_target",
        "event-targets",
        "integrations",
        "crm_core.services.event_targets:EVENT_TARGETS",
        "EventTarget",
        mergeable=False,
        events=(
            ("created", "An event target is added; its secret is never in events."),
            ("updated", "An event target's URL, secret, bus, types or description change."),
            ("archived", "An event target is removed (DELETE): nothing more is sent to it."),
            ("restored", "A removed event target is restored: events go to it again."),
        ),
    ),
    RecordType(
        "event_source",
        "event-sources",
        "integrations",
        "crm_core.services.partner_events:EVENT_SOURCES",
        "EventSource",
        mergeable=False,
        events=(
            ("created", "The tenant registers a partner's source: its events are accepted."),
            ("updated", "A partner source's description or AWS account changes."),
            ("archived", "The tenant removes a partner's source: its events are refused."),
            ("restored", "A removed partner source is accepted again."),
        ),
    ),
    RecordType(
        "property",
        "properties",
        "contacts",
        "crm_core.services.properties:PROPERTIES",
        "Property",
        mergeable=False,
        key_path="{object}/{name}",
        lifecycle=("created", "updated", "archived", "restored"),
        events=(
            (
                "created",
                "A custom property is defined: writes of its object's records are validated against it.",
            ),
            ("updated", "A custom property's label, description, options or required change."),
            (
                "archived",
                "A custom property is archived (DELETE): records keep their values, writes may not send it.",
            ),
            ("restored", "An archived custom property is restored."),
        ),
    ),
    RecordType(
        "segment",
        "segments",
        "campaigns",
        "crm_core.services.segments:SEGMENTS",
        "Segment",
        mergeable=False,
        events=(
            ("created", "A segment (a saved filter over contacts) is created."),
            ("updated", "A segment's name, description, filter or owner changes."),
            ("archived", "A segment is archived (DELETE)."),
            ("restored", "An archived segment is restored."),
        ),
    ),
    RecordType(
        "user",
        "users",
        "access",
        "crm_core.services.users:USERS",
        "User",
        mergeable=False,
        lifecycle=("created", "updated"),
        events=(
            ("created", "A user is added to the tenant (invited to sign in where a user pool is set up)."),
            ("updated", "A user's name, role, team or reactivation; `changes` names each changed field."),
            (
                "deactivated",
                "A user is deactivated (DELETE, or `active` set to false): every credential it holds is "
                "refused from its next request.",
            ),
        ),
    ),
    RecordType(
        "team",
        "teams",
        "access",
        "crm_core.services.teams:TEAMS",
        "Team",
        mergeable=False,
        events=(("archived", "A team without members is archived (DELETE)."),),
    ),
    RecordType(
        "api_key",
        "api-keys",
        "access",
        "crm_core.services.api_keys:API_KEYS",
        "ApiKey",
        mergeable=False,
        lifecycle=("created",),
        events=(
            ("created", "An API key is issued for a user; the key itself is never in events."),
            ("revoked", "An API key is revoked (DELETE): it is refused from its next request."),
        ),
    ),
)

# Customer service (the service function): tickets, their SLA policies, the knowledge base.
RECORD_TYPES += (
    RecordType(
        "ticket",
        "tickets",
        "service",
        "crm_core.services.tickets:TICKETS",
        "Ticket",
        events=(
            (
                "created",
                "A ticket is opened (POST, batch create, /v1/inbound/tickets or a partner's "
                "ticket.submitted).",
            ),
            (
                "updated",
                "A ticket's fields change (or it moves between new, open and pending other than by a reply); "
                "`changes` names each changed field.",
            ),
            ("assigned", "A ticket's assignee changes (with ticket.updated when other fields change too)."),
            (
                "replied",
                "A reply or internal note is added (POST /replies): `changes.last_reply.to` names it (id, "
                "public, author), never its text. An agent's first public reply sets first_responded_at.",
            ),
            ("resolved", "A ticket enters resolved (resolved_at set)."),
            ("closed", "A ticket is closed (final)."),
            ("reopened", "A resolved ticket is opened again, by an agent or by a customer's reply."),
            (
                "rated",
                "The ticket's contact answered its satisfaction survey (the public page `/s/{token}`): "
                "`satisfaction` `{score, comment}` is set, a later answer replaces it; actor is the system.",
            ),
            (
                "sla_warning",
                "A due time of the ticket's SLA policy is `warn_before_minutes` business minutes away and "
                "not met (`changes.sla_warning.to`: first_response or resolution); the assignee is notified. "
                "Once per due time; actor is the system.",
            ),
            (
                "sla_breached",
                "A due time passed unmet: `sla.<deadline>_breached` is set (`changes.sla`); the assignee is "
                "notified. Once per due time; actor is the system.",
            ),
        ),
    ),
    RecordType(
        "sla_policy",
        "sla-policies",
        "service",
        "crm_core.services.sla_policies:SLA_POLICIES",
        "SlaPolicy",
        mergeable=False,
        events=(
            ("created", "An SLA policy is added: tickets created after it follow it when it applies."),
            (
                "updated",
                "An SLA policy's targets, hours or categories change (for tickets set from then on).",
            ),
        ),
    ),
    RecordType(
        "kb_article",
        "kb-articles",
        "service",
        "crm_core.services.kb_articles:KB_ARTICLES",
        "KbArticle",
        mergeable=False,
    ),
)

# Marketing (the campaigns function): email campaigns to a segment's members.
RECORD_TYPES += (
    RecordType(
        "campaign",
        "campaigns",
        "campaigns",
        "crm_core.services.campaigns:CAMPAIGNS",
        "Campaign",
        mergeable=False,
        events=(
            ("updated", "A draft campaign's name, segment, subject, sender or body change."),
            ("scheduled", "A campaign is scheduled (POST /schedule) for `send_at`, or rescheduled."),
            (
                "sending",
                "A campaign starts sending (POST /send, or its scheduled time came): its segment's members "
                "are fanned out to the sender.",
            ),
            ("sent", "Every recipient of a sending campaign is accounted for (sent, skipped or failed)."),
            ("cancelled", "A campaign is cancelled (POST /cancel): what has not gone is not sent."),
        ),
    ),
)

# Revenue (the revenue function): products, and quotes on deals.
RECORD_TYPES += (
    RecordType(
        "product",
        "products",
        "revenue",
        "crm_core.services.products:PRODUCTS",
        "Product",
        mergeable=False,
        events=(
            ("created", "A product is added to the catalogue (managers and admins)."),
            ("updated", "A product's SKU, name, description, prices, tax rate or active flag change."),
        ),
    ),
    RecordType(
        "quote",
        "quotes",
        "revenue",
        "crm_core.services.quotes:QUOTES",
        "Quote",
        mergeable=False,
        events=(
            ("created", "A draft quote is made on a deal (its number taken, its totals derived)."),
            ("updated", "A draft quote's lines, currency, contact, validity or owner change."),
            ("sent", "A draft quote is sent (POST /send): its contact is emailed the public page's link."),
            ("accepted", "The customer accepts a sent quote on its public page (its deal may be won)."),
            ("declined", "The customer declines a sent quote on its public page."),
            (
                "expired",
                "A sent quote unanswered at the end of its `valid_until` (UTC) expires; once, actor the "
                "system.",
            ),
        ),
    ),
)

# Revenue (the revenue function): contracts and the payments received against them.
RECORD_TYPES += (
    RecordType(
        "contract",
        "contracts",
        "revenue",
        "crm_core.services.contracts:CONTRACTS",
        "Contract",
        mergeable=False,
        events=(
            ("created", "A contract is made (POST, or POST /renew for the next term), with its number."),
            (
                "updated",
                "A contract's fields change other than by a status move or a renewal, or a payment received "
                "or voided changes its `paid` (with `outstanding`, `overdue` and `installments`).",
            ),
            ("activated", "A draft contract becomes active."),
            (
                "renewed",
                "A contract is renewed (POST /renew): `changes.renewed_to.to` is the new contract, whose "
                "contract.created is committed in the same transaction.",
            ),
            (
                "expired",
                "An active contract's end_date has passed (at 00:00 UTC the day after); actor is the system.",
            ),
            ("terminated", "A draft or active contract is terminated."),
        ),
    ),
    RecordType(
        "payment",
        "payments",
        "revenue",
        "crm_core.services.payments:PAYMENTS",
        "Payment",
        mergeable=False,
        lifecycle=("updated",),
        events=(
            (
                "received",
                "A payment against a contract is recorded; its contract's `paid` changes in the same "
                "transaction (contract.updated).",
            ),
            ("updated", "A payment's method, reference or owner changes."),
            (
                "voided",
                "A payment is voided (DELETE): its amount is taken off its contract's `paid` in the same "
                "transaction.",
            ),
        ),
    ),
)

BY_NAME: dict[str, RecordType] = {record_type.name: record_type for record_type in RECORD_TYPES}


def record_type(name: str) -> RecordType:
    """The registered type called ``name``; ``KeyError`` for none."""
    return BY_NAME[name]
