"""Teams: a manager changes the records owned by its team's users (services/access.py)."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.errors import conflict, invalid_field
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.models.team import TEAM_DEFAULTS, TeamCreate, TeamUpdate
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services import references
from crm_core.services.records import ObjectSpec, RecordService, SortKey, normalize_text, text_order


def resolve(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    manager_id = data.get("manager_id")
    if manager_id and "manager_id" in changed and not references.is_active_user(ctx, manager_id):
        raise invalid_field("manager_id", "no active user with this id")
    return {}


def members_pk(tenant_id: str, team_id: str) -> str:
    """The team's users, in the users' parent index (GSI4: a user's team_id)."""
    return keys.attribute_pk(tenant_id, "user", "active", "parent", team_id)


def refuse_archive_with_members(ctx: RequestContext, team: RecordItem) -> None:
    members, _ = repo.query_page(members_pk(ctx.tenant_id, team.id), index="GSI4", limit=1)
    if members:
        raise conflict("This team still has members; move them to another team first.")


TEAMS = RecordService(
    ObjectSpec(
        object_type="team",
        admin_only=True,
        create_model=TeamCreate,
        update_model=TeamUpdate,
        defaults=TEAM_DEFAULTS,
        tokens=lambda data, related: (
            [normalize_text(data.get("name") or "")[:40]] if data.get("name") else []
        ),
        resolve=resolve,
        before_archive=refuse_archive_with_members,
        sorts=(SortKey("name", 6, lambda data: text_order(data.get("name"))),),
    )
)
