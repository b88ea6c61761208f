"""The caller's notifications: /v1/notifications."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from crm_core.http.api_docs import answers, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit
from crm_core.http.responses import json_response, page_response
from crm_core.models.common import ULID_PATTERN
from crm_core.models.notification import Notification
from crm_core.services import notifications

PATH = "/v1/notifications"
router = Router()


@router.get(
    "/",
    tags=["notifications"],
    summary="My notifications, newest first",
    responses=answers(200, page_model("NotificationPage", Notification), 400, 422),
)
def list_notifications(
    limit: Limit = 25,
    cursor: Cursor = None,
    unread: Annotated[bool, Query(description="Only those not read yet.")] = False,
) -> Response[str]:
    items, next_cursor = notifications.list_mine(
        request_context(router), unread_only=unread, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.post(
    "/<notification_id>/read",
    tags=["notifications"],
    summary="Mark one of my notifications read",
    responses=answers(200, Notification, 404, 422),
)
def read_notification(notification_id: Annotated[str, Path(pattern=ULID_PATTERN)]) -> Response[str]:
    return json_response(notifications.mark_read(request_context(router), notification_id))
