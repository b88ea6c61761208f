"""SLA policies: a setting (an admin's), with the targets per priority a ticket's due times follow."""

from __future__ import annotations

from crm_core.context import RequestContext
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.models.sla_policy import SLA_POLICY_DEFAULTS, SlaPolicyCreate, SlaPolicyUpdate
from crm_core.services.records import ObjectSpec, RecordService, normalize_text

# A tenant's active policies are read at once (one Query and one BatchGetItem) when a ticket's due times
# are set; more than this are not considered.
MAX_POLICIES = 100


def policy_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return [name[:40]] if name else []


SLA_POLICIES = RecordService(
    ObjectSpec(
        object_type="sla_policy",
        create_model=SlaPolicyCreate,
        update_model=SlaPolicyUpdate,
        defaults=SLA_POLICY_DEFAULTS,
        tokens=policy_tokens,
        admin_only=True,
    )
)


def policy_for(ctx: RequestContext, category: str | None) -> RecordBody | None:
    """The policy a ticket of ``category`` follows: the oldest active policy naming its category, else the
    oldest naming none; None when no policy applies. Read once per request."""
    key = ("sla_policies", ctx.tenant_id)
    if key not in ctx.lookups:
        page = SLA_POLICIES.list_records(
            ctx, filters={}, q=None, archived=False, limit=MAX_POLICIES, cursor=None
        )
        ctx.lookups[key] = page.items
    policies: list[RecordBody] = ctx.lookups[key]
    named = [p for p in policies if category and category in (p.get("categories") or [])]
    general = [p for p in policies if not p.get("categories")]
    found = named or general
    return found[0] if found else None
