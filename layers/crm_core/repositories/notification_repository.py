"""DynamoDB access for a user's notifications (in the user's own partition of the tenant)."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from crm_core.ids import new_id, utc_now
from crm_core.repositories import keys
from crm_core.repositories.record_repository import query_page
from crm_core.repositories.table import NotificationItem, TableItem


def page(
    tenant_id: str, user_id: str, *, limit: int, start_key: dict[str, str] | None, unread_only: bool
) -> tuple[list[NotificationItem], dict[str, str] | None]:
    """One Query, newest first."""
    items, last = query_page(
        keys.notifications_pk(tenant_id, user_id),
        filter_condition=NotificationItem.read_at.does_not_exist() if unread_only else None,
        limit=limit,
        start_key=start_key,
        forward=False,
    )
    return [item for item in items if isinstance(item, NotificationItem)], last


def mark_read(tenant_id: str, user_id: str, notification_id: str, read_at: str) -> NotificationItem | None:
    """One UpdateItem (only if the notification is this user's); None when there is no such notification."""
    item = NotificationItem(keys.notifications_pk(tenant_id, user_id), notification_id)
    try:
        item.update(
            actions=[NotificationItem.read_at.set(NotificationItem.read_at | read_at)],
            condition=TableItem.PK.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return item


def new_notification(
    tenant_id: str, user_id: str, *, kind: str, title: str, record: dict[str, str]
) -> NotificationItem:
    """A notification for the user, not yet saved: it is written in the transaction of what caused it (a
    reminder falling due, a record assigned to the user)."""
    notification_id = new_id()
    return NotificationItem(
        keys.notifications_pk(tenant_id, user_id),
        notification_id,
        id=notification_id,
        user_id=user_id,
        kind=kind,
        title=title,
        record=record,
        created_at=utc_now(),
    )
