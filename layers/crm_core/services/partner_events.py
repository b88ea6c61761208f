"""Partner events on the crm bus (``source`` ``partner.<id>``): accepted only when the tenant the event
names has registered that source, and the event comes from the AWS account the registration names (this
CRM's own when it names none). ``lead.submitted`` creates or updates a lead, as /v1/inbound/leads does;
``ticket.submitted`` opens a ticket, as /v1/inbound/tickets does.

The account is the envelope's ``account``: EventBridge sets it to the account that put the event, so a
sender cannot claim another's. Which accounts may put events on the bus at all is the bus's resource
policy (infra/events.py, from the ``crm:partnerAccounts`` context).

A refused event is not retried (it could never be accepted as it is) and leaves a trace: a warning in the
log with its reason, the ``InboundEventsRefused`` metric, and, when it names a registered source of its
tenant (a bad lead, another account, an unknown type), the source's ``refused_count``,
``last_refused_at`` and ``last_refused_reason``, which the tenant reads on GET /v1/event-sources/{id}. An
event of a source no tenant registered has no tenant to tell: it is logged and counted only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from crm_core import metrics
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.ids import utc_now
from crm_core.models.event_source import EVENT_SOURCE_DEFAULTS, EventSourceCreate, EventSourceUpdate
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories import event_source_status_repository as status_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import EventSourceStatusItem, RecordItem
from crm_core.services.leads import InboundLead, receive_lead
from crm_core.services.records import ObjectSpec, Page, RecordService
from crm_core.stored_values import as_json_value
from crm_core.validation import set_fields

logger = Logger()


class SourceRefusals(TypedDict):
    """What a source shows of the events it had refused, besides its record's fields."""

    refused_count: int
    last_refused_at: str | None
    last_refused_reason: str | None


# A partner's event as the bus's rule delivers it: EventBridge sets ``id`` and ``account``; the rest is the
# partner's, so every field is checked before it is used (``detail`` should be an object naming the tenant).
PartnerEvent = TypedDict(
    "PartnerEvent",
    {"id": str, "source": str, "account": str, "detail-type": str, "detail": Any},
    total=False,
)


def refusals(status: EventSourceStatusItem | None) -> SourceRefusals:
    """The source's refusal fields as the API shows them (none yet: a count of 0)."""
    if status is None:
        return {"refused_count": 0, "last_refused_at": None, "last_refused_reason": None}
    return {
        "refused_count": int(status.refused_count or 0),
        "last_refused_at": status.last_refused_at,
        "last_refused_reason": status.last_refused_reason,
    }


class EventSourceService(RecordService):
    """The record rules, and the refusals of the source's events, kept beside the record (read with it: one
    more GetItem, or one BatchGetItem a page)."""

    def with_kept_apart(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        return self._with_refusals(tenant_id, bodies)

    def _with_refusals(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        found = status_repository.read_many(tenant_id, [body["id"] for body in bodies])
        for body in bodies:
            body.update(refusals(found.get(body["id"])))
        return bodies

    def get(self, ctx: RequestContext, record_id: str, *, archived: bool = False) -> RecordBody:
        return self._with_refusals(ctx.tenant_id, [super().get(ctx, record_id, archived=archived)])[0]

    def list_records(self, ctx: RequestContext, **options: Any) -> Page[RecordBody]:
        page = super().list_records(ctx, **options)
        return page._replace(items=self._with_refusals(ctx.tenant_id, page.items))

    def create(self, ctx: RequestContext, fields: RecordFields) -> RecordBody:
        return {**super().create(ctx, fields), **refusals(None)}  # none can have been refused yet

    def update(
        self, ctx: RequestContext, record_id: str, fields: RecordFields, if_match: int | None = None
    ) -> RecordBody:
        return self._with_refusals(ctx.tenant_id, [super().update(ctx, record_id, fields, if_match)])[0]

    def restore(self, ctx: RequestContext, record_id: str) -> RecordBody:
        return self._with_refusals(ctx.tenant_id, [super().restore(ctx, record_id)])[0]


EVENT_SOURCES = EventSourceService(
    ObjectSpec(
        object_type="event_source",
        admin_only=True,
        create_model=EventSourceCreate,
        update_model=EventSourceUpdate,
        defaults=EVENT_SOURCE_DEFAULTS,
        tokens=lambda data, related: [],
        unique_field="source",
        normalize_unique=str.lower,
    )
)


def active_registration(tenant_id: str, source: str) -> RecordItem | None:
    """The tenant's registration of ``source``, unless archived. Two GetItems: the tenant's marker for this
    source, then the registration."""
    record_id = repo.get_unique_owner(tenant_id, "event_source", "source", source.lower())
    if record_id is None:
        return None
    record = repo.get_record(tenant_id, "event_source", record_id)
    return record if record is not None and record.archived_at is None else None


def sending_account(registration: RecordItem) -> str:
    """The account the registration accepts events from: the one it names, or this CRM's own."""
    account_id = as_json_value(registration.data).get("account_id")
    return str(account_id) if account_id else settings().account_id


@dataclass(frozen=True)
class Refusal:
    """Why a partner event was refused, and the registration it is told to (None: no tenant's)."""

    reason: str
    registration: RecordItem | None = None


def handle(event: PartnerEvent) -> str:
    """What became of a partner event (see ``_handle``), counted as accepted or refused; a refusal logged
    and, when it can be, kept on the source's status for its tenant to see."""
    outcome = _handle(event)
    if isinstance(outcome, str):
        metrics.count("InboundEventsAccepted")
        return outcome
    metrics.count("InboundEventsRefused")
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    logger.warning(
        "partner event refused",
        extra={
            "reason": outcome.reason,
            "source": event.get("source"),
            "detail_type": event.get("detail-type"),
            "account": event.get("account"),
            "tenant_id": detail.get("tenant_id"),
            "event_id": event.get("id"),
            "registration_id": outcome.registration.id if outcome.registration is not None else None,
        },
    )
    if outcome.registration is not None:
        registration = outcome.registration
        status_repository.record_refusal(
            registration.tenant_id, registration.id, utc_now(), outcome.reason, str(event.get("id") or "")
        )
    return f"refused: {outcome.reason}"


def _handle(event: PartnerEvent) -> str | Refusal:
    """What became of a partner event: accepted (created or updated), or refused and why. A refused event
    is not retried: it could never be accepted as it is."""
    source, detail = str(event.get("source", "")), event.get("detail") or {}
    tenant_id = detail.get("tenant_id") if isinstance(detail, dict) else None
    if not isinstance(tenant_id, str) or len(tenant_id) != 26:
        return Refusal("detail.tenant_id names no tenant")
    registration = active_registration(tenant_id, source)
    if registration is None:
        return Refusal(f"source {source!r} is not registered to the tenant")
    expected = sending_account(registration)
    if event.get("account") != expected:
        return Refusal(
            f"sent from AWS account {event.get('account') or 'none'}; the registration accepts {expected}",
            registration,
        )
    if event.get("detail-type") == "ticket.submitted":
        return _ticket(event, detail, tenant_id, source, registration)
    if event.get("detail-type") != "lead.submitted":
        return Refusal(
            f"unknown detail-type {event.get('detail-type')!r} (accepted: 'lead.submitted', "
            "'ticket.submitted')",
            registration,
        )
    try:
        lead = InboundLead.model_validate(detail.get("lead") or {})
    except ValidationError as invalid:
        return Refusal(f"invalid lead: {_errors(invalid)}", registration)
    ctx = RequestContext(Principal.system(tenant_id, source), correlation_id=str(event.get("id") or ""))
    try:
        outcome, _contact = receive_lead(ctx, set_fields(lead))
    except ProblemError as problem:
        if problem.status >= 500 or problem.status == 409:
            raise  # worth another try
        return Refusal(f"lead not taken: {problem.detail}", registration)
    return outcome


def _ticket(
    event: PartnerEvent, detail: dict[str, Any], tenant_id: str, source: str, registration: RecordItem
) -> str | Refusal:
    """``ticket.submitted``: a ticket (``detail.ticket``, as /v1/inbound/tickets takes it), once per event
    however often the event arrives (its id names the ticket's submission)."""
    from crm_core.services.inbound_tickets import InboundTicket, receive_ticket

    try:
        submitted = InboundTicket.model_validate(detail.get("ticket") or {})
    except ValidationError as invalid:
        return Refusal(f"invalid ticket: {_errors(invalid)}", registration)
    ctx = RequestContext(Principal.system(tenant_id, source), correlation_id=str(event.get("id") or ""))
    key = f"{source}:{event.get('id') or ''}"
    try:
        outcome, _ticket, _contact = receive_ticket(ctx, set_fields(submitted), key=key, channel="partner")
    except ProblemError as problem:
        if problem.status >= 500 or problem.status == 409:
            raise  # worth another try
        return Refusal(f"ticket not taken: {problem.detail}", registration)
    return f"ticket {outcome}"


def _errors(invalid: ValidationError) -> str:
    """``email: is not a valid email address; ...``: each bad field of the lead and why."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'lead'}: "
        + error["msg"].removeprefix("Value error, ")
        for error in invalid.errors()
    )
