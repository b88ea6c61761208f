"""The catalog of the events the CRM publishes on its bus (API.md section 4): every type the code emits
today, when it is sent, its schema version and what its ``data`` carries; the types the contract names
that nothing emits yet; and the partner events the CRM accepts.

Most emitted types follow from the record types (``crm_core.record_types``): each type's lifecycle and its
own events, whose ``data`` is the record. The others (``JOB_EVENT_TYPES``) tell that a job of the tenant's
ended (an import, an export): their ``data`` is the job as the API answers it, named by its model. The
generator (``crm_local/catalog.py``) writes one JSON Schema per emitted type to
``events/schemas/<type>.json`` and ``docs/events.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.definitions import EVENT_SOURCE, PARTNER_SOURCE_PREFIX
from crm_core.events import EVENT_SCHEMA_VERSION
from crm_core.record_types import RECORD_TYPES, RecordType
from crm_core.record_types import record_type as registered_type


@dataclass(frozen=True)
class EventType:
    """A type the code emits: ``name`` is the EventBridge ``detail-type`` and the detail's ``type``."""

    name: str
    when: str  # one line: when it is sent
    version: str = EVENT_SCHEMA_VERSION
    # What ``data`` is when it is not a record: "<models module>:<model>"; the module has ``EXAMPLE_ID``
    # and ``EXAMPLE``, and the event has no ``sequence`` (a job is not versioned) and empty ``changes``.
    data_model: str | None = None

    @property
    def of_record(self) -> bool:
        """Whether its ``data`` is a record (of the type its name starts with)."""
        return self.data_model is None

    @property
    def record_type(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def registered(self) -> RecordType:
        """The record type whose record its ``data`` carries."""
        return registered_type(self.record_type)

    @property
    def schema_path(self) -> str:
        """Where its JSON Schema is committed, relative to the repository root."""
        return f"events/schemas/{self.name}.json"


@dataclass(frozen=True)
class PlannedEventType:
    """A type API.md section 4 promises that nothing emits yet (no schema until it is emitted)."""

    name: str
    arrives_with: str


@dataclass(frozen=True)
class AcceptedEventType:
    """A partner event the CRM takes from its bus (``source`` ``partner.<id>``, a registered source)."""

    name: str
    what: str


JOB_EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "import.completed",
        "A CSV import has written or refused every row of its file; `data` is the import with its "
        "counters (`GET /v1/imports/{id}`, without the rejected rows' link).",
        data_model="crm_core.models.import_job:ImportJob",
    ),
    EventType(
        "export.completed",
        "A tenant export's zip is written whole; `data` is the export with its counts (`GET "
        "/v1/exports/{id}`, without the download link).",
        data_model="crm_core.models.export_job:ExportJob",
    ),
)

_EMAIL = "crm_core.models.email_event:EmailEvent"
# One recipient's email of a campaign (services/campaign_sends.py): each sent once per recipient and campaign.
EMAIL_EVENT_TYPES: tuple[EventType, ...] = (
    EventType("email.sent", "SES accepted a campaign's email to one recipient.", data_model=_EMAIL),
    EventType("email.delivered", "SES delivered it (its configuration set's event).", data_model=_EMAIL),
    EventType(
        "email.bounced",
        "It bounced or drew a complaint (`bounce_type`); a Permanent bounce or a Complaint suppresses the "
        "address.",
        data_model=_EMAIL,
    ),
    EventType("email.opened", "Its open pixel was loaded (first time only).", data_model=_EMAIL),
    EventType("email.clicked", "A link in it was followed (first time only; `url`).", data_model=_EMAIL),
    EventType(
        "email.unsubscribed",
        "The recipient confirmed its unsubscribe page (or a one-click List-Unsubscribe POST): the address "
        "is suppressed and the contact's email consent denied.",
        data_model=_EMAIL,
    ),
)

# An answer to a survey (services/surveys.py): a ticket's CSAT survey or a campaign's NPS survey.
SURVEY_EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "survey.answered",
        "A survey's public page (`/s/{token}`) took an answer: CSAT (1-5, with `ticket_id`; the ticket's "
        "`satisfaction` changes with its `ticket.rated`) or NPS (0-10, with `campaign_id`). A second answer "
        "to the same survey replaces the first and is an event of its own (`version` counts them).",
        data_model="crm_core.models.survey_answer:SurveyAnswer",
    ),
)

# A contract's instalment falling due unpaid (services/contract_timers.py): once per instalment.
CONTRACT_EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "installment.overdue",
        "An instalment of a contract's payment plan (not a draft's) is still unpaid the day after its due "
        "date (UTC); the owner is notified. Once per instalment (again only if the plan moves it); actor is "
        "the system.",
        data_model="crm_core.models.installment:OverdueInstallment",
    ),
)

EVENT_TYPES: tuple[EventType, ...] = (
    *(
        EventType(f"{record.name}.{action}", when)
        for record in RECORD_TYPES
        for action, when in record.event_actions().items()
    ),
    *JOB_EVENT_TYPES,
    *EMAIL_EVENT_TYPES,
    *SURVEY_EVENT_TYPES,
    *CONTRACT_EVENT_TYPES,
)

ACCEPTED_EVENT_TYPES: tuple[AcceptedEventType, ...] = (
    AcceptedEventType(
        "lead.submitted",
        f"From a source `{PARTNER_SOURCE_PREFIX}<id>` the tenant registered (`/v1/event-sources`), sent from "
        "the AWS account the registration names in `account_id` (the CRM's own when it names none), with "
        "`detail.tenant_id` and the lead in `detail.lead` (the body of `POST /v1/inbound/leads`: a "
        "contact's fields, `email` required): creates a lead, or updates the contact with that email.",
    ),
    AcceptedEventType(
        "ticket.submitted",
        f"From a source `{PARTNER_SOURCE_PREFIX}<id>` the tenant registered, as `lead.submitted`, with "
        "`detail.tenant_id` and the ticket in `detail.ticket` (the body of `POST /v1/inbound/tickets`: "
        "`email` and `subject` required): opens an unassigned ticket (channel `partner`) for the contact "
        "with that email, made if new; one ticket per event however often it arrives.",
    ),
)

_PRIVACY = "privacy (erasure requests)"
PLANNED_EVENT_TYPES: tuple[PlannedEventType, ...] = (PlannedEventType("company.erased", _PRIVACY),)

SOURCE = EVENT_SOURCE
BY_NAME: dict[str, EventType] = {event.name: event for event in EVENT_TYPES}


def event_type(name: str) -> EventType:
    """The catalog entry of an emitted type; ``KeyError`` for a type nothing emits."""
    return BY_NAME[name]


def matches_a_type(pattern: str) -> bool:
    """An event target's pattern ("contact.created", "deal.*", "*") names at least one type of the
    catalog, emitted or planned: a typo ("contact.create") would otherwise match nothing, silently."""
    names = [event.name for event in EVENT_TYPES] + [planned.name for planned in PLANNED_EVENT_TYPES]
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return any(name.startswith(pattern[:-1]) for name in names)
    return pattern in names
