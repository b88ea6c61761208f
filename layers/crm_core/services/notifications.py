"""The caller's own notifications."""

from __future__ import annotations

from typing import TypedDict

from crm_core import signing
from crm_core.context import RequestContext
from crm_core.errors import not_found
from crm_core.ids import utc_now
from crm_core.repositories import notification_repository as repo
from crm_core.repositories.table import NotificationItem
from crm_core.stored_values import as_json_value


# A notification as the route answers it (models/notification.py declares it to the API's document).
class RecordReference(TypedDict):
    """The record a notification is about."""

    type: str  # its type: "activity"
    id: str


class NotificationView(TypedDict):
    id: str
    kind: str  # what it is about: "reminder"
    title: str
    record: RecordReference
    created_at: str
    read_at: str | None


def represent(item: NotificationItem) -> NotificationView:
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "record": as_json_value(item.record),
        "created_at": item.created_at,
        "read_at": item.read_at,
    }


def list_mine(
    ctx: RequestContext, *, unread_only: bool, limit: int, cursor: str | None
) -> tuple[list[NotificationView], str | None]:
    fingerprint = f"notifications:{ctx.principal.user_id}:{unread_only}"
    start = signing.decode_cursor(ctx.tenant_id, fingerprint, cursor) if cursor else None
    items, last = repo.page(
        ctx.tenant_id, ctx.principal.user_id, limit=limit, start_key=start, unread_only=unread_only
    )
    next_cursor = signing.encode_cursor(ctx.tenant_id, fingerprint, last) if last else None
    return [represent(item) for item in items], next_cursor


def mark_read(ctx: RequestContext, notification_id: str) -> NotificationView:
    item = repo.mark_read(ctx.tenant_id, ctx.principal.user_id, notification_id, utc_now())
    if item is None:
        raise not_found("notification", notification_id)
    return represent(item)
