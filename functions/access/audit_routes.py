"""The audit trail: /v1/audit-events."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit
from crm_core.http.responses import page_response
from crm_core.models.audit import AuditEvent
from crm_core.models.common import ULID_PATTERN, Instant
from crm_core.services import audit

PATH = "/v1/audit-events"
router = Router()

# An actor is a user (a ULID) or the CRM itself, named by what it was doing ("merge", "partner.<id>").
ACTOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
ACTION_PATTERN = r"^[a-z_]{1,40}\.[a-z_]{1,40}$"


@router.get(
    "/",
    tags=["audit"],
    summary="The audit trail: every write, newest first (admins only)",
    description="Every write of the tenant's records and settings: who (the user and the credential), "
    "what (the action, the object, each changed field before and after; a personal field such as a "
    "contact's email is named, its values not kept), the request id, the caller's address and the time. "
    "A change that sends several events (a deal moved to a won stage: deal.stage_changed and deal.won) "
    "is one item, its action the first; `action` finds it by any of them. A CSV import is one item, "
    "`import.completed` on the import (its counts as changes); each record it created shows its "
    "creation (`via` `import`, `credential_id` the import) in its own trail, by `object_id`. "
    "Items are kept for the "
    "retention the CRM is deployed with (400 days unless set otherwise). A filter beyond the first "
    "(`action`, and `actor_id` with `object_id`) is applied while reading, in at most 4 bounded reads "
    "per page: a page of a very sparse filter may then be short, with a cursor to continue.",
    responses=answers(200, page_model("AuditEventPage", AuditEvent), 400, 403, 422),
)
def list_audit_events(
    limit: Limit = 25,
    cursor: Cursor = None,
    object_id: Annotated[
        str | None, Query(pattern=ULID_PATTERN, description="Only the writes of this object (any type).")
    ] = None,
    actor_id: Annotated[
        str | None,
        Query(pattern=ACTOR_PATTERN, description="Only the writes of this user (or of the CRM's own work)."),
    ] = None,
    action: Annotated[
        str | None, Query(pattern=ACTION_PATTERN, description="Only this action, e.g. `contact.updated`.")
    ] = None,
    since: Annotated[
        Instant | None,
        Query(alias="from", description="RFC 3339 time with its offset: at or after it."),
    ] = None,
    to: Annotated[
        Instant | None, Query(description="RFC 3339 time with its offset: at or before it.")
    ] = None,
) -> Response[str]:
    page = audit.audit_events(
        request_context(router),
        object_id=object_id,
        actor_id=actor_id,
        action=action,
        since=since,
        until=to,
        limit=limit,
        cursor=cursor,
    )
    return page_response(page.items, page.next_cursor)
