"""Users of a tenant: who signs in or holds its API keys, with the role and team their access follows.

A user is a record like any other (version, ETag, events, timeline, audit), a setting only an admin
changes. Deactivating one (DELETE, or ``active: false``) keeps the record, so what it owns stays its own,
and every credential it holds is refused from its next request (the authorizer reads the user each time:
docs/decisions/0009). The tenant's active users by role are counted in each user's transaction: its seats
are one Query, and the last active admin cannot be demoted or deactivated.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from crm_core import plans
from crm_core.auth import Role
from crm_core.context import RequestContext
from crm_core.errors import conflict, invalid_field
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.models.user import USER_DEFAULTS, UserCreate, UserUpdate
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem, UserCount
from crm_core.repositories.transaction import CounterStep
from crm_core.services import references, user_directory
from crm_core.services.records import (
    ObjectSpec,
    RecordService,
    SortKey,
    normalize_text,
    record_data,
    text_order,
)

logger = Logger(child=True)


def user_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead prefixes: the name, its last word, the email."""
    name = normalize_text(data.get("name") or "")
    tokens = [name, *name.split()[1:2], normalize_text(data.get("email") or "")]
    return list(dict.fromkeys(token[:40] for token in tokens if token))


def _counted_role(item: RecordItem | None) -> str | None:
    """The role a user counts under while it holds a seat (active, not archived); None otherwise."""
    if item is None or item.archived_at is not None:
        return None
    data = record_data(item)
    return None if data.get("active") is False else str(data.get("role") or "rep")


def seat_counters(before: RecordItem | None, after: RecordItem) -> list[CounterStep]:
    """The seat moves from the role the user counted under to its new one. The admins' count never drops
    below one: of two admins demoting each other at once, the second write fails its condition, is prepared
    again, and ``derive`` refuses it as the last admin's."""
    old, new = _counted_role(before), _counted_role(after)
    if old == new:
        return []
    pk = keys.user_count_pk(after.tenant_id)
    return [
        CounterStep(
            UserCount(pk, role),
            {"users": step},
            {"users": 1} if role == Role.ADMIN.value and step < 0 else None,
        )
        for role, step in ((old, -1), (new, 1))
        if role
    ]


def active_users_by_role(tenant_id: str) -> dict[str, int]:
    """One Query of the tenant's user counts."""
    found, _ = repo.query_page(keys.user_count_pk(tenant_id), limit=len(Role))
    return {item.SK: int(item.users or 0) for item in found if isinstance(item, UserCount)}


def resolve(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    team_id = data.get("team_id")
    if team_id and "team_id" in changed and references.active_record(ctx, "team", team_id) is None:
        raise invalid_field("team_id", "no team with this id")
    return {}


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, record_id: str | None
) -> RecordFields:
    """A new user is active; the last active admin keeps its role and stays active (someone must be able to
    manage the tenant)."""
    data = dict(data)
    if data.get("email"):
        data["email"] = str(data["email"]).lower()  # the sign-in name, as the user pool keeps it
    data.setdefault("active", True)
    data.setdefault("role", Role.REP.value)
    if data.get("active", True) and (before is None or before.get("active") is False):
        _require_a_seat(ctx)
    was_admin = before is not None and before.get("role") == "admin" and before.get("active", True)
    stays_admin = data.get("role") == "admin" and data.get("active", True)
    if was_admin and not stays_admin and active_users_by_role(ctx.tenant_id).get("admin", 0) <= 1:
        raise conflict(
            "This is the tenant's last active admin: make another user an admin first.",
            field_name="active" if data.get("active") is False else "role",
        )
    return data


def _require_a_seat(ctx: RequestContext) -> None:
    """A user created or activated takes a seat: the plan's seats must leave one (crm_core/plans.py)."""
    limit = plans.tenant_quotas(ctx.tenant_id).seats
    plans.require_room("seats", limit, sum(active_users_by_role(ctx.tenant_id).values()), what="seats")


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    if before.get("active", True) and after.get("active") is False:
        return ["deactivated"]
    return ["updated"]


class UserService(RecordService):
    """The record rules, and the user's sign-in in the user pool kept in step (where one is set up)."""

    def create(self, ctx: RequestContext, fields: RecordFields) -> RecordBody:
        user = super().create(ctx, fields)
        _in_directory(
            lambda: user_directory.invite(ctx.tenant_id, user["id"], user["email"], Role(user["role"]))
        )
        return user

    def update(
        self, ctx: RequestContext, record_id: str, fields: RecordFields, if_match: int | None = None
    ) -> RecordBody:
        user = super().update(ctx, record_id, fields, if_match)
        if "active" in fields:
            _in_directory(lambda: user_directory.set_enabled(user["email"], bool(user["active"])))
        return user

    def deactivate(self, ctx: RequestContext, record_id: str, if_match: int | None = None) -> RecordBody:
        return self.update(ctx, record_id, {"active": False}, if_match)


def _in_directory(step: Any) -> None:
    """The pool follows the record, which alone decides access: a failure here is logged, not answered (the
    authorizer refuses a deactivated user's token whatever the pool says)."""
    try:
        step()
    except Exception:
        logger.exception("the user pool could not be brought in step with a user")


USERS = UserService(
    ObjectSpec(
        object_type="user",
        admin_only=True,
        create_model=UserCreate,
        update_model=UserUpdate,
        defaults=USER_DEFAULTS,
        tokens=user_tokens,
        resolve=resolve,
        derive=derive,
        update_events=update_events,
        unique_field="email",
        personal_fields=("email", "name"),
        parent_field="team_id",
        category_field="role",
        counters=seat_counters,
        sorts=(SortKey("name", 6, lambda data: text_order(data.get("name"))),),
    )
)


def me(ctx: RequestContext) -> dict[str, Any]:
    """The caller as GET /v1/me shows it: its user, the role it acts with, its credential, its tenant."""
    from crm_core.repositories import tenant_repository

    user = USERS.get(ctx, ctx.principal.user_id)
    tenant = tenant_repository.get_tenant(ctx.tenant_id)
    return {
        "user": user,
        "role": ctx.principal.role.value,
        "credential": {"type": ctx.principal.credential, "id": ctx.principal.credential_id},
        "tenant": {
            "id": ctx.tenant_id,
            "name": tenant.name if tenant else "",
            "plan": tenant.plan if tenant else "free",
            "seats": {"used": sum(active_users_by_role(ctx.tenant_id).values())},
        },
    }
