"""Event targets: /v1/event-targets, their delivery logs and redelivery."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from crm_core.http.api_docs import answers, page_model, record_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit, RecordIdPath
from crm_core.http.responses import json_response, page_response, parse_if_match, record_response
from crm_core.models.common import ULID_PATTERN, StrictModel
from crm_core.models.event_target import EventTargetCreate, EventTargetFields, EventTargetUpdate
from crm_core.services import webhooks
from crm_core.services.event_targets import EVENT_TARGETS
from crm_core.validation import set_fields
from pydantic import Field

PATH = "/v1/event-targets"
router = Router()
TAGS = ["event targets"]


class EventTargetOut(EventTargetFields):
    secret: None = Field(None, exclude=True)  # write-only
    has_secret: bool = False


EventTarget = record_model("EventTarget", EventTargetOut)


class RedeliverRequest(StrictModel):
    event_id: str = Field(pattern=ULID_PATTERN, description="An event the target was sent before.")


@router.get(
    "/",
    tags=TAGS,
    summary="List event targets",
    responses=answers(200, page_model("EventTargetPage", EventTarget), 400, 422),
)
def list_targets(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = EVENT_TARGETS.list_records(
        request_context(router), filters={}, q=None, archived=False, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.post(
    "/",
    status_code=201,
    tags=TAGS,
    summary="Send chosen event types to a webhook",
    description="Each delivery is a POST of the event with CRM-Signature: t=<unix seconds>,v1=<hex "
    'HMAC-SHA256 of "<t>.<raw body>" under the secret>. A receiver that fails is tried again with growing '
    "delays; every try is in /deliveries.",
    responses=answers(201, EventTarget, 403, 413, 415, 422, description="Created", etag=True),
)
def create_target(body: Annotated[EventTargetCreate, Body()]) -> Response[str]:
    record = EVENT_TARGETS.create(request_context(router), set_fields(body))
    return record_response(record, 201, location=f"{PATH}/{record['id']}")


@router.get(
    "/<record_id>",
    tags=TAGS,
    summary="Read an event target",
    responses=answers(200, EventTarget, 404, 422, etag=True),
)
def read_target(record_id: RecordIdPath) -> Response[str]:
    return record_response(EVENT_TARGETS.get(request_context(router), record_id))


@router.patch(
    "/<record_id>",
    tags=TAGS,
    summary="Change an event target",
    responses=answers(200, EventTarget, 400, 403, 404, 412, 413, 415, 422, etag=True),
)
def update_target(record_id: RecordIdPath, body: Annotated[EventTargetUpdate, Body()]) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    return record_response(
        EVENT_TARGETS.update(request_context(router), record_id, set_fields(body), if_match)
    )


@router.delete(
    "/<record_id>",
    status_code=204,
    tags=TAGS,
    summary="Stop sending events to a target (archived, restorable 30 days)",
    responses=answers(204, None, 400, 403, 404, 412, 422, description="Archived"),
)
def archive_target(record_id: RecordIdPath) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    EVENT_TARGETS.archive(request_context(router), record_id, if_match)
    return Response(status_code=204, body="")


@router.get(
    "/<record_id>/deliveries",
    tags=TAGS,
    summary="Every try to deliver to this target, newest first",
    responses=answers(200, None, 400, 404, 422),
)
def list_deliveries(record_id: RecordIdPath, limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = webhooks.deliveries(request_context(router), record_id, limit=limit, cursor=cursor)
    return page_response(items, next_cursor)


@router.post(
    "/<record_id>/redeliver",
    status_code=202,
    tags=TAGS,
    summary="Send an event to this target again",
    responses=answers(202, None, 404, 413, 415, 422, description="Queued"),
)
def redeliver(record_id: RecordIdPath, body: Annotated[RedeliverRequest, Body()]) -> Response[str]:
    return json_response(webhooks.redeliver(request_context(router), record_id, body.event_id), 202)
