"""Partner event sources a tenant accepts events from: /v1/event-sources."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from crm_core.http.api_docs import answers, page_model, record_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit, RecordIdPath
from crm_core.http.responses import page_response, record_response
from crm_core.models.event_source import EventSourceCreate, EventSourceFields
from crm_core.services.inbound_events import EVENT_SOURCES
from crm_core.validation import set_fields

PATH = "/v1/event-sources"
router = Router()
TAGS = ["event sources"]
EventSource = record_model("EventSource", EventSourceFields)


@router.get(
    "/",
    tags=TAGS,
    summary="Partner sources this tenant accepts events from",
    responses=answers(200, page_model("EventSourcePage", EventSource), 400, 422),
)
def list_sources(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = EVENT_SOURCES.list_records(
        request_context(router), filters={}, q=None, archived=False, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.post(
    "/",
    status_code=201,
    tags=TAGS,
    summary="Accept a partner's events",
    description='A partner puts events on the crm bus with this "source", the tenant id in detail.tenant_id, '
    'and (for detail-type "lead.submitted") the lead in detail.lead; events of sources not registered here '
    "are refused.",
    responses=answers(201, EventSource, 403, 409, 413, 415, 422, description="Registered", etag=True),
)
def register_source(body: Annotated[EventSourceCreate, Body()]) -> Response[str]:
    record = EVENT_SOURCES.create(request_context(router), set_fields(body))
    return record_response(record, 201, location=f"{PATH}/{record['id']}")


@router.get(
    "/<record_id>",
    tags=TAGS,
    summary="Read a registered source",
    responses=answers(200, EventSource, 404, 422, etag=True),
)
def read_source(record_id: RecordIdPath) -> Response[str]:
    return record_response(EVENT_SOURCES.get(request_context(router), record_id))


@router.delete(
    "/<record_id>",
    status_code=204,
    tags=TAGS,
    summary="Stop accepting a partner's events",
    responses=answers(204, None, 403, 404, 422, description="Removed"),
)
def remove_source(record_id: RecordIdPath) -> Response[str]:
    EVENT_SOURCES.archive(request_context(router), record_id)
    return Response(status_code=204, body="")


@router.post(
    "/<record_id>/restore",
    tags=TAGS,
    summary="Accept a removed source's events again",
    responses=answers(200, EventSource, 403, 404, 409, 422, etag=True),
)
def restore_source(record_id: RecordIdPath) -> Response[str]:
    return record_response(EVENT_SOURCES.restore(request_context(router), record_id))
