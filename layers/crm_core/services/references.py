"""Records and users that a change refers to, read at most once per request.

A batch of 100 contacts at the same company, owned by the caller, reads the company once and the caller
never (the authorizer has just found the caller's own user).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crm_core.errors import invalid_field
from crm_core.repositories import record_repository, tenant_repository

if TYPE_CHECKING:
    from crm_core.context import RequestContext
    from crm_core.repositories.table import RecordItem


def active_record(ctx: RequestContext, object_type: str, record_id: str) -> RecordItem | None:
    key = (object_type, record_id)
    if key not in ctx.lookups:
        item = record_repository.get_record(ctx.tenant_id, object_type, record_id)
        ctx.lookups[key] = item if item is not None and item.archived_at is None else None
    found: RecordItem | None = ctx.lookups[key]
    return found


def active_records(ctx: RequestContext, object_type: str, record_ids: list[str]) -> set[str]:
    """Which of these ids are active records of the type: one BatchGetItem for those not read yet."""
    unread = [rid for rid in dict.fromkeys(record_ids) if (object_type, rid) not in ctx.lookups]
    if unread:
        found = record_repository.batch_get_records(ctx.tenant_id, object_type, unread)
        for rid in unread:
            item = found.get(rid)
            ctx.lookups[(object_type, rid)] = item if item is not None and item.archived_at is None else None
    return {rid for rid in record_ids if ctx.lookups.get((object_type, rid)) is not None}


def is_active_user(ctx: RequestContext, user_id: str) -> bool:
    """A user of the tenant, not deactivated (the caller is: the authorizer has just found it)."""
    if user_id == ctx.principal.user_id:
        return True
    return tenant_repository.is_active_user(active_record(ctx, "user", user_id), ctx.tenant_id)


def require_active_user(
    ctx: RequestContext, data: Mapping[str, Any], changed: set[str], field_name: str = "owner_id"
) -> None:
    """The user a write names in ``field_name`` (an owner, an assignee) is an active user of the tenant:
    422 naming the field otherwise. Checked only when the write sets it, so a record whose owner was
    deactivated since can still be changed in other ways."""
    user_id = data.get(field_name)
    if user_id and field_name in changed and not is_active_user(ctx, user_id):
        raise invalid_field(field_name, "no user with this id")
