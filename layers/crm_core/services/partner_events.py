"""Partner events on the crm bus (``source`` ``partner.<id>``): accepted only when the tenant the event
names has registered that source, and the event comes from the AWS account the registration names (this
CRM's own when it names none). ``lead.submitted`` creates or updates a lead, as /v1/inbound/leads does.

The account is the envelope's ``account``: EventBridge sets it to the account that put the event, so a
sender cannot claim another's. Which accounts may put events on the bus at all is the bus's resource
policy (infra/events.py, from the ``crm:partnerAccounts`` context)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crm_core import metrics
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.models.event_source import EVENT_SOURCE_DEFAULTS, EventSourceCreate, EventSourceUpdate
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services.leads import InboundLead, receive_lead
from crm_core.services.records import ObjectSpec, RecordService
from crm_core.stored_values import as_json_value
from crm_core.validation import set_fields

EVENT_SOURCES = RecordService(
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


def handle(event: dict[str, Any]) -> str:
    """What became of a partner event (see ``_handle``), counted as accepted or refused."""
    outcome = _handle(event)
    metrics.count("InboundEventsRefused" if outcome.startswith("refused") else "InboundEventsAccepted")
    return outcome


def _handle(event: dict[str, Any]) -> str:
    """What became of a partner event: accepted (created or updated), or refused and why. A refused event
    is not retried: it could never be accepted as it is."""
    source, detail = str(event.get("source", "")), event.get("detail") or {}
    tenant_id = detail.get("tenant_id") if isinstance(detail, dict) else None
    if not isinstance(tenant_id, str) or len(tenant_id) != 26:
        return "refused: source not registered to the tenant"
    registration = active_registration(tenant_id, source)
    if registration is None:
        return "refused: source not registered to the tenant"
    if event.get("account") != sending_account(registration):
        return "refused: sent from an account the source's registration does not name"
    if event.get("detail-type") != "lead.submitted":
        return f"refused: unknown type {event.get('detail-type')!r}"
    try:
        lead = InboundLead.model_validate(detail.get("lead") or {})
    except ValidationError as invalid:
        return f"refused: invalid lead ({invalid.error_count()} errors)"
    ctx = RequestContext(Principal.system(tenant_id, source), correlation_id=str(event.get("id") or ""))
    try:
        outcome, _contact = receive_lead(ctx, set_fields(lead))
    except ProblemError as problem:
        if problem.status >= 500 or problem.status == 409:
            raise  # worth another try
        return f"refused: {problem.detail}"
    return outcome
