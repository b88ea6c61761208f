"""Event targets: /v1/event-targets, their delivery logs and redelivery."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from crm_core.http.api_docs import answers, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit, RecordIdPath, add_record_routes, write_extensions
from crm_core.http.responses import json_response, page_response
from crm_core.models.common import ULID_PATTERN
from crm_core.models.event_target import (
    DeliveryTry,
    EventTarget,
    EventTargetCreate,
    EventTargetUpdate,
    RedeliverRequest,
    Redelivery,
)
from crm_core.services import webhooks
from crm_core.services.event_targets import EVENT_TARGETS, MAX_ACTIVE_TARGETS

PATH = "/v1/event-targets"
router = Router()
TAGS = ["event targets"]


@router.get(
    "/<record_id>/deliveries",
    tags=TAGS,
    summary="Every try to deliver to this target, newest first",
    responses=answers(200, page_model("DeliveryTryPage", DeliveryTry), 400, 404, 422),
)
def list_deliveries(
    record_id: RecordIdPath,
    limit: Limit = 25,
    cursor: Cursor = None,
    event_id: Annotated[
        str | None, Query(pattern=ULID_PATTERN, description="Only the tries of this event.")
    ] = None,
    outcome: Annotated[
        Literal["succeeded", "retrying", "gave_up"] | None,
        Query(description="Only the tries that ended so (e.g. `gave_up`: what the target never got)."),
    ] = None,
) -> Response[str]:
    items, next_cursor = webhooks.deliveries(
        request_context(router), record_id, limit=limit, cursor=cursor, event_id=event_id, outcome=outcome
    )
    return page_response(items, next_cursor)


@router.post(
    "/<record_id>/redeliver",
    openapi_extensions=write_extensions(EVENT_TARGETS),
    status_code=202,
    tags=TAGS,
    summary="Send an event to this target again",
    responses=answers(202, Redelivery, 400, 403, 404, 413, 415, 422, description="Queued"),
)
def redeliver(record_id: RecordIdPath, body: Annotated[RedeliverRequest, Body()]) -> Response[str]:
    return json_response(webhooks.redeliver(request_context(router), record_id, body.event_id), 202)


add_record_routes(
    router,
    EVENT_TARGETS,
    PATH,
    EventTargetCreate,
    EventTargetUpdate,
    EventTarget,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "create": "A webhook gets each chosen event as a POST with CRM-Signature: t=<unix seconds>,v1=<hex "
        'HMAC-SHA256 of "<t>.<raw body>" under the secret>, tried again with growing delays, every try in '
        "/deliveries; redirects are not followed (a 3xx is a failed try), and outside crm dev the URL must "
        "be https to public addresses. An EventBridge target gets them on the partner's bus, which must be "
        "in the partner's own AWS account (a bus of the CRM's own account is 422 naming event_bus_arn). A "
        f"tenant has at most {MAX_ACTIVE_TARGETS} active targets: one more (created or restored) is 422.",
        "archive": "Nothing more is sent to it.",
    },
)
