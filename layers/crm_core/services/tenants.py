"""Tenants, their users and API keys: a new tenant with its admin, first key and default pipeline, and the
users and keys added later (a credential becomes a principal in services/credentials.py)."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.auth import Principal, Role, hash_api_key, new_api_key
from crm_core.context import RequestContext
from crm_core.ids import new_id, utc_now
from crm_core.models.pipeline import DEFAULT_PIPELINE
from crm_core.repositories import keys, tenant_repository
from crm_core.repositories.table import ApiKeyItem, TenantItem, UserItem
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
    tenant_id, user_id, now = new_id(), new_id(), utc_now()
    api_key = new_api_key(tenant_id)
    pk = keys.tenant_pk(tenant_id)
    pipeline = PIPELINES.prepare_create(
        RequestContext(Principal.system(tenant_id, "tenant-creation")), dict(DEFAULT_PIPELINE)
    )
    changes = ChangeSet()
    changes.save(
        TenantItem(
            pk,
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
    changes.extend(pipeline.changes)
    changes.save(
        UserItem(
            pk,
            keys.user_sk(user_id),
            id=user_id,
            tenant_id=tenant_id,
            email=(admin_email or f"admin@{tenant_id.lower()}.invalid").lower(),
            name="Admin",
            role=Role.ADMIN.value,
            created_at=now,
        )
    )
    changes.save(_api_key_item(tenant_id, user_id, Role.ADMIN, api_key, "admin key", now))
    changes.commit()
    write_after_commit(pipeline.derived)
    if admin_email:
        user_directory.invite(tenant_id, user_id, admin_email.lower(), Role.ADMIN)
    return NewTenant(tenant_id, user_id, api_key)


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
    """A user of the tenant, invited to sign in to the web app where a user pool is set up."""
    user_id = new_id()
    UserItem(
        keys.tenant_pk(tenant_id),
        keys.user_sk(user_id),
        id=user_id,
        tenant_id=tenant_id,
        email=email.lower(),
        name=name,
        role=role.value,
        created_at=utc_now(),
    ).save()
    user_directory.invite(tenant_id, user_id, email.lower(), role)
    return user_id


def issue_api_key(tenant_id: str, user_id: str, role: Role, name: str | None = None) -> str:
    api_key = new_api_key(tenant_id)
    _api_key_item(tenant_id, user_id, role, api_key, name, utc_now()).save()
    return api_key


def _api_key_item(
    tenant_id: str, user_id: str, role: Role, api_key: str, name: str | None, now: str
) -> ApiKeyItem:
    return ApiKeyItem(
        keys.tenant_pk(tenant_id),
        keys.api_key_sk(hash_api_key(api_key)),
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role.value,
        name=name,
        prefix=api_key[:12],
        created_at=now,
    )
