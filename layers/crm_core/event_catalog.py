"""The catalog of the events the CRM publishes on its bus (API.md section 4): every type the code emits
today, when it is sent, its schema version and the record its ``data`` carries, and the types the contract
names that nothing emits yet.

Plain data only, like ``definitions``: the record models live with the routes (``functions/*_routes.py``),
so they are named here as ``module:attribute`` and resolved by the generator (``crm_local/catalog.py``),
which writes one JSON Schema per emitted type to ``events/schemas/<type>.json`` and ``docs/events.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.definitions import EVENT_SOURCE
from crm_core.events import EVENT_SCHEMA_VERSION

# The record model each type's ``data`` carries: the record exactly as the API answers it.
RECORD_MODELS: dict[str, str] = {
    "contact": "functions.contacts.contacts_routes:Contact",
    "company": "functions.contacts.companies_routes:Company",
    "pipeline": "functions.deals.pipelines_routes:Pipeline",
    "deal": "functions.deals.deals_routes:Deal",
    "activity": "functions.deals.activities_routes:Activity",
    "event_target": "functions.integrations.event_targets_routes:EventTarget",
    "event_source": "functions.integrations.event_sources_routes:EventSource",
}


@dataclass(frozen=True)
class EventType:
    """A type the code emits: ``name`` is the EventBridge ``detail-type`` and the detail's ``type``."""

    name: str
    when: str  # one line: when it is sent
    version: str = EVENT_SCHEMA_VERSION

    @property
    def record_type(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def record_model(self) -> str:
        return RECORD_MODELS[self.record_type]

    @property
    def schema_path(self) -> str:
        """Where its JSON Schema is committed, relative to the repository root."""
        return f"events/schemas/{self.name}.json"


@dataclass(frozen=True)
class PlannedEventType:
    """A type API.md section 4 promises that nothing emits yet (no schema until it is emitted)."""

    name: str
    arrives_with: str


def _record_events(record_type: str, label: str, *, merge: bool = True) -> list[EventType]:
    events = [
        EventType(f"{record_type}.created", f"A {label} is created (POST or batch create)."),
        EventType(
            f"{record_type}.updated",
            f"A {label}'s fields change (PATCH or batch update); `changes` names each changed field.",
        ),
        EventType(
            f"{record_type}.archived",
            f"A {label} is archived (DELETE), or is the duplicate a merge archives (`merged_into` set).",
        ),
        EventType(f"{record_type}.restored", f"An archived {label} is restored."),
    ]
    if merge:
        events.append(
            EventType(
                f"{record_type}.merged",
                f"A duplicate is merged into this {label} (the survivor); `changes.merged_from.to` is the "
                "duplicate's id.",
            )
        )
    return events


EVENT_TYPES: tuple[EventType, ...] = (
    *_record_events("contact", "contact"),
    *_record_events("company", "company"),
    EventType(
        "pipeline.created", "A pipeline is created (and a tenant's default pipeline when it is set up)."
    ),
    EventType("pipeline.updated", "A pipeline's name, currency or stages change."),
    EventType("pipeline.archived", "A pipeline with no open deals is archived (DELETE)."),
    EventType(
        "pipeline.restored",
        "An archived pipeline is restored (by the record service: there is no public route for it yet).",
    ),
    EventType("deal.created", "A deal is created (POST or batch create)."),
    EventType(
        "deal.updated",
        "A deal's fields change and it stays in its stage; `changes` names each changed field.",
    ),
    EventType(
        "deal.stage_changed",
        "A deal moves to another stage or pipeline (any other changed fields are in its `changes`); "
        "followed by deal.won or deal.lost when the new stage closes it.",
    ),
    EventType("deal.won", "A deal enters a won stage (after its deal.stage_changed)."),
    EventType("deal.lost", "A deal enters a lost stage (after its deal.stage_changed)."),
    EventType(
        "deal.archived",
        "A deal is archived (DELETE), or is the duplicate a merge archives (`merged_into` set).",
    ),
    EventType("deal.restored", "An archived deal is restored."),
    EventType(
        "deal.merged",
        "A duplicate deal is merged into this one (the survivor); `changes.merged_from.to` is the "
        "duplicate's id.",
    ),
    EventType("activity.created", "An activity (note, call, email, meeting or task) is created."),
    EventType(
        "activity.updated",
        "An activity's fields change, other than completing it; `changes` names each changed field.",
    ),
    EventType(
        "activity.completed",
        "An activity is completed (POST /complete, or `completed_at` set on an open one), instead of "
        "activity.updated.",
    ),
    EventType(
        "activity.archived",
        "An activity is archived (DELETE), or is the duplicate a merge archives (`merged_into` set).",
    ),
    EventType("activity.restored", "An archived activity is restored."),
    EventType(
        "activity.merged",
        "A duplicate activity is merged into this one (the survivor); `changes.merged_from.to` is the "
        "duplicate's id.",
    ),
    EventType(
        "activity.reminder_due",
        "An open activity's `remind_at` arrives (once; the owner is notified); actor is the system.",
    ),
    EventType("event_target.created", "An event target (a webhook) is added; its secret is never in events."),
    EventType("event_target.updated", "An event target's URL, secret, types or description change."),
    EventType("event_target.archived", "An event target is removed (DELETE): nothing more is sent to it."),
    EventType("event_source.created", "The tenant registers a partner's source: its events are accepted."),
    EventType("event_source.archived", "The tenant removes a partner's source: its events are refused."),
    EventType("event_source.restored", "A removed partner source is accepted again."),
)

_PRIVACY = "privacy (erasure requests)"
_CAMPAIGNS = "campaigns and email sending"
PLANNED_EVENT_TYPES: tuple[PlannedEventType, ...] = (
    PlannedEventType("contact.erased", _PRIVACY),
    PlannedEventType("company.erased", _PRIVACY),
    *(
        PlannedEventType(f"campaign.{name}", _CAMPAIGNS)
        for name in ("scheduled", "sending", "sent", "cancelled")
    ),
    *(
        PlannedEventType(f"email.{name}", _CAMPAIGNS)
        for name in ("sent", "delivered", "bounced", "opened", "clicked", "unsubscribed")
    ),
    PlannedEventType("import.completed", "imports"),
    PlannedEventType("export.completed", "exports"),
    *(PlannedEventType(f"user.{name}", "users and teams") for name in ("created", "updated", "deactivated")),
    *(PlannedEventType(f"api_key.{name}", "API keys") for name in ("created", "revoked")),
    PlannedEventType("installment.overdue", "contracts and payment plans"),
    PlannedEventType("payment.received", "payments"),
    PlannedEventType("survey.answered", "satisfaction and NPS surveys"),
)

SOURCE = EVENT_SOURCE
BY_NAME: dict[str, EventType] = {event.name: event for event in EVENT_TYPES}


def event_type(name: str) -> EventType:
    """The catalog entry of an emitted type; ``KeyError`` for a type nothing emits."""
    return BY_NAME[name]
