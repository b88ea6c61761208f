"""More credentials of a tenant made in a test: another user with a role, or another key of the same user."""

from __future__ import annotations

import secrets

from crm_core.auth import Role

from tests.support.client import ApiClient


def user_client(admin: ApiClient, role: Role) -> ApiClient:
    """A new user of the admin's tenant with ``role``, calling with an API key of its own."""
    from crm_core.services.tenants import create_user, issue_api_key

    email = f"{role.value}-{secrets.token_hex(4)}@{admin.tenant_id.lower()}.example"
    user_id = create_user(admin.tenant_id, email, role)
    return ApiClient(admin.base_url, issue_api_key(admin.tenant_id, user_id, role), admin.tenant_id, user_id)


def second_key(client: ApiClient, role: Role = Role.ADMIN) -> ApiClient:
    """The same user of the same tenant with another API key."""
    from crm_core.services.tenants import issue_api_key

    api_key = issue_api_key(client.tenant_id, client.user_id, role)
    return ApiClient(client.base_url, api_key, client.tenant_id, client.user_id)
