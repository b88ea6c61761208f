"""Clients acting as users of a tenant in each role (API.md "roles"), as an admin issues them locally:
a user of the tenant, and an API key for it."""

from __future__ import annotations

from crm_core.auth import Role

from tests.support.client import ApiClient


def user_client(admin: ApiClient, role: Role, name: str | None = None) -> ApiClient:
    """A new user of ``admin``'s tenant in ``role``, and a client holding a key of its own."""
    from crm_core.services.tenants import create_user, issue_api_key

    label = name or role.value
    email = f"{label}-{admin.tenant_id.lower()}@roles.example"
    user_id = create_user(admin.tenant_id, email, role, name=label)
    key = issue_api_key(admin.tenant_id, user_id, role, name=f"{label} key")
    return ApiClient(admin.base_url, key, admin.tenant_id, user_id)


def clients_by_role(admin: ApiClient) -> dict[Role, ApiClient]:
    """``admin`` itself, and a new user of its tenant in every other role."""
    return {role: admin if role is Role.ADMIN else user_client(admin, role) for role in Role}
