"""Turning a credential into a principal, and the tenant's rate limit: all the authorizer needs, kept
apart from the services so its cold start imports little."""

from __future__ import annotations

from crm_core import rate_limits
from crm_core.auth import Principal, Role, hash_api_key, parse_api_key
from crm_core.repositories import tenant_repository


def principal_for_api_key(api_key: str) -> Principal | None:
    """One GetItem: the key's hash under the tenant the key names. None for an unknown or revoked key."""
    tenant_id = parse_api_key(api_key)
    if tenant_id is None:
        return None
    item = tenant_repository.get_api_key(tenant_id, hash_api_key(api_key))
    if item is None or item.revoked_at:
        return None
    return Principal(
        tenant_id=tenant_id,
        user_id=item.user_id,
        role=Role(item.role),
        credential="api_key",
        credential_id=item.id,
    )


def rate_limit_of(tenant_id: str) -> int:
    """The tenant's requests per minute: its plan's, or the operator's override (one GetItem)."""
    tenant = tenant_repository.get_tenant(tenant_id)
    if tenant is None:
        return rate_limits.PLAN_LIMITS["free"]
    override = tenant.rate_limit_per_minute
    return rate_limits.limit_for(tenant.plan, int(override) if override else None)
