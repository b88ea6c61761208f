"""Who may change which record (API.md, "roles"), for every route, batch, merge and background move alike:
a viewer reads; a rep changes what it owns and takes an unowned record by assigning it to itself; a
manager changes what its team owns (and what no one owns); an admin changes everything. Settings are an
admin's alone (``RecordService``).

A manager's team is the users whose team_id is the manager's own team, or a team whose manager_id is the
manager. Deciding it reads the owner's user record and, at most, its team: two GetItems, once per request
for each owner (``ctx.lookups``).
"""

from __future__ import annotations

from crm_core.auth import Role
from crm_core.context import RequestContext
from crm_core.errors import forbidden
from crm_core.services import references
from crm_core.services.records.shape import record_data


def in_managed_team(ctx: RequestContext, owner_id: str) -> bool:
    """Whether ``owner_id`` is the caller or one of the users of the team the caller manages."""
    if owner_id == ctx.principal.user_id:
        return True
    owner = references.active_record(ctx, "user", owner_id)
    team_id = record_data(owner).get("team_id") if owner is not None else None
    if not team_id:
        return False
    if team_id == ctx.principal.team_id:
        return True
    team = references.active_record(ctx, "team", team_id)
    return team is not None and record_data(team).get("manager_id") == ctx.principal.user_id


def require_create(ctx: RequestContext, owner_id: str | None) -> None:
    """May create a record owned by ``owner_id`` (None: unowned)."""
    principal = ctx.principal
    if principal.role != Role.MANAGER:
        principal.require_create(owner_id)
    elif owner_id is not None and not in_managed_team(ctx, owner_id):
        raise forbidden("A manager can assign records only to its team's users.")


def require_change(ctx: RequestContext, owner_before: str | None, owner_after: str | None) -> None:
    """May change a record owned by ``owner_before`` so that ``owner_after`` owns it."""
    principal = ctx.principal
    if principal.role != Role.MANAGER:
        principal.require_change(owner_before, owner_after)
        return
    if owner_before is not None and not in_managed_team(ctx, owner_before):
        raise forbidden("A manager can change only the records its team owns.")
    if owner_after is not None and owner_after != owner_before and not in_managed_team(ctx, owner_after):
        raise forbidden("A manager can assign records only to its team's users.")
