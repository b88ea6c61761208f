"""Partner events on the crm bus (``source`` ``partner.<id>``): accepted only when the tenant the event
names has registered that source. ``lead.submitted`` creates or updates a lead, as /v1/inbound/leads does."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crm_core.auth import Principal
from crm_core.errors import ProblemError
from crm_core.models.event_source import EVENT_SOURCE_DEFAULTS, EventSourceCreate, EventSourceUpdate
from crm_core.repositories import record_repository as repo
from crm_core.services.inbound import InboundLead, receive_lead
from crm_core.services.records import ObjectSpec, RecordService, RequestContext
from crm_core.validation import set_fields

EVENT_SOURCES = RecordService(
    ObjectSpec(
        object_type="event_source",
        create_model=EventSourceCreate,
        update_model=EventSourceUpdate,
        defaults=EVENT_SOURCE_DEFAULTS,
        tokens=lambda data, related: [],
        unique_field="source",
        normalize_unique=str.lower,
    )
)


def is_registered(tenant_id: str, source: str) -> bool:
    """Two GetItems: the tenant's marker for this source, then the registration (it may be archived)."""
    record_id = repo.get_unique_owner(tenant_id, "event_source", "source", source.lower())
    if record_id is None:
        return False
    record = repo.get_record(tenant_id, "event_source", record_id)
    return record is not None and record.archived_at is None


def handle(event: dict[str, Any]) -> str:
    """What became of a partner event: accepted (created or updated), or refused and why. A refused event
    is not retried: it could never be accepted as it is."""
    source, detail = str(event.get("source", "")), event.get("detail") or {}
    tenant_id = detail.get("tenant_id") if isinstance(detail, dict) else None
    if not isinstance(tenant_id, str) or len(tenant_id) != 26 or not is_registered(tenant_id, source):
        return "refused: source not registered to the tenant"
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
