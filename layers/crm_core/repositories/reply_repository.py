"""DynamoDB access for a ticket's replies (in the ticket's own partition, SK ``REPLY#<id>``)."""

from __future__ import annotations

from crm_core.ids import new_id, utc_now
from crm_core.repositories import keys
from crm_core.repositories.record_repository import query_page
from crm_core.repositories.table import ReplyItem, TableItem
from crm_core.repositories.transaction import ChangeSet

REPLIES_PER_TRANSACTION = 50  # a reply moved is a put and a delete: 100 items, DynamoDB's most


def new_reply(
    tenant_id: str, ticket_id: str, *, body: str, public: bool, author: str, author_id: str | None
) -> ReplyItem:
    """A reply, not yet saved: it is written in the transaction of the ticket's change."""
    reply_id = new_id()
    return ReplyItem(
        keys.record_pk(tenant_id, "ticket", ticket_id),
        f"{keys.REPLY_SK_PREFIX}{reply_id}",
        id=reply_id,
        body=body,
        public=public,
        author=author,
        author_id=author_id,
        created_at=utc_now(),
    )


def page(
    tenant_id: str,
    ticket_id: str,
    *,
    limit: int,
    start_key: dict[str, str] | None,
    public_only: bool,
) -> tuple[list[ReplyItem], dict[str, str] | None]:
    """One Query, oldest first (a conversation reads down)."""
    items, last = query_page(
        keys.record_pk(tenant_id, "ticket", ticket_id),
        range_condition=TableItem.SK.startswith(keys.REPLY_SK_PREFIX),
        filter_condition=ReplyItem.public == True if public_only else None,  # noqa: E712
        limit=limit,
        start_key=start_key,
    )
    return [item for item in items if isinstance(item, ReplyItem)], last


def latest(tenant_id: str, ticket_id: str) -> ReplyItem | None:
    """The ticket's newest reply or note (one Query, newest first, one item)."""
    items, _ = query_page(
        keys.record_pk(tenant_id, "ticket", ticket_id),
        range_condition=TableItem.SK.startswith(keys.REPLY_SK_PREFIX),
        limit=1,
        forward=False,
    )
    return next((item for item in items if isinstance(item, ReplyItem)), None)


def move_replies(tenant_id: str, from_ticket: str, to_ticket: str, *, limit: int) -> bool:
    """At most ``limit`` of ``from_ticket``'s replies moved to ``to_ticket``'s partition under the same sort
    key (their ids are in time order, so the survivor's thread reads in order with them in it), each put and
    delete in one transaction; True when none is left. A reply already moved is put again unchanged, and its
    delete finds nothing: a repeated or concurrent move converges."""
    items, last = page(tenant_id, from_ticket, limit=limit, start_key=None, public_only=False)
    for start in range(0, len(items), REPLIES_PER_TRANSACTION):
        changes = ChangeSet()
        for item in items[start : start + REPLIES_PER_TRANSACTION]:
            moved = ReplyItem(
                keys.record_pk(tenant_id, "ticket", to_ticket),
                item.SK,
                id=item.id,
                body=item.body,
                public=item.public,
                author=item.author,
                author_id=item.author_id,
                created_at=item.created_at,
            )
            changes.save(moved)
            changes.delete(item)
        changes.commit()
    return last is None
