"""Tenants, their users and API keys: a new tenant with its admin, first key and default pipeline, and the
users and keys added later (a credential becomes a principal in services/credentials.py)."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.ids import new_id, utc_now
from crm_core.models.pipeline import DEFAULT_PIPELINE
from crm_core.repositories import keys, tenant_repository
from crm_core.repositories.table import TenantItem
from crm_core.repositories.transaction import ChangeSet
from crm_core.services import user_directory
from crm_core.services.pipelines import PIPELINES
from crm_core.services.records.derived import write_after_commit


@dataclass(frozen=True)
class NewTenant:
    tenant_id: str
    user_id: str
    api_key: str


def create_tenant(
    name: str, admin_email: str | None = None, *, plan: str = "free", rate_limit_per_minute: int | None = None
) -> NewTenant:
    """The tenant, its admin user, the admin's first API key and the default pipeline, in one transaction."""
    from crm_core.services.api_keys import API_KEYS  # lazy: the authorizer imports this package's neighbours
    from crm_core.services.users import USERS

    tenant_id, now = new_id(), utc_now()
    ctx = RequestContext(Principal.system(tenant_id, "tenant-creation"))
    pipeline = PIPELINES.prepare_create(ctx, dict(DEFAULT_PIPELINE))
    email = (admin_email or f"admin@{tenant_id.lower()}.invalid").lower()
    admin = USERS.prepare_create(ctx, {"email": email, "name": "Admin", "role": Role.ADMIN.value})
    ctx.lookups[("user", admin.item.id)] = admin.item  # the key's user commits with it
    key, api_key = API_KEYS.prepare_issue(ctx, {"user_id": admin.item.id, "name": "admin key"})
    changes = ChangeSet()
    changes.save(
        TenantItem(
            keys.tenant_pk(tenant_id),
            tenant_repository.TENANT_SK,
            id=tenant_id,
            name=name,
            plan=plan,
            rate_limit_per_minute=rate_limit_per_minute,
            default_pipeline_id=pipeline.item.id,
            created_at=now,
            GSI1PK=keys.TENANTS_PK,  # listed by `crm tenant list` from its creation on
            GSI1SK=tenant_id,
        ),
        condition=TenantItem.PK.does_not_exist(),
    )
    for prepared in (pipeline, admin, key):
        changes.extend(prepared.changes)
    changes.commit()
    write_after_commit(pipeline.derived, admin.derived, key.derived)
    if admin_email:
        user_directory.invite(tenant_id, admin.item.id, email, Role.ADMIN)
    return NewTenant(tenant_id, admin.item.id, api_key)


@dataclass(frozen=True)
class TenantSummary:
    tenant_id: str
    name: str
    plan: str
    created_at: str


def list_tenants(limit: int = 100, after: str | None = None) -> tuple[list[TenantSummary], str | None]:
    """The operator's view: up to ``limit`` (1-1000) tenants in creation order after the tenant id
    ``after``, and the id to pass as ``after`` for the next ones (None when there are no more)."""
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be 1 to 1000")
    items, next_after = tenant_repository.list_tenants(limit, after)
    return [TenantSummary(i.id, i.name, i.plan, i.created_at) for i in items], next_after


def create_user(tenant_id: str, email: str, role: Role, name: str | None = None) -> str:
    """A user of the tenant, made by the CRM itself (demo data, tests): as an admin's POST /v1/users."""
    from crm_core.services.users import USERS

    ctx = RequestContext(Principal.system(tenant_id, "user-creation"))
    user: str = USERS.create(ctx, {"email": email, "role": role.value, "name": name})["id"]
    return user


def issue_api_key(tenant_id: str, user_id: str, role: Role | None = None, name: str | None = None) -> str:
    """A key for the user, issued by the CRM itself: as an admin's POST /v1/api-keys. The key itself."""
    from crm_core.services.api_keys import API_KEYS

    ctx = RequestContext(Principal.system(tenant_id, "key-issue"))
    fields = {"user_id": user_id, "role": role.value if role else None, "name": name}
    key: str = API_KEYS.create(ctx, {k: v for k, v in fields.items() if v is not None})["key"]
    return key
