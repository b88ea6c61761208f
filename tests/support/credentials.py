"""More credentials of a tenant made in a test: another user with a role, or another key of the same user."""

from __future__ import annotations

import secrets
from typing import Any

from crm_core.auth import Role

from tests.support.client import ApiClient


def user_client(admin: ApiClient, role: Role, **fields: Any) -> ApiClient:
    """A new user of the admin's tenant with ``role``, calling with an API key of its own: both made by the
    admin over the API (POST /v1/users, POST /v1/api-keys), as a tenant's admin does."""
    email = f"{role.value}-{secrets.token_hex(4)}@{admin.tenant_id.lower()}.example"
    user = admin.create("users", {"email": email, "role": role.value, **fields})
    issued = admin.create("api-keys", {"user_id": user["id"], "name": f"{role.value} key"})
    return ApiClient(admin.base_url, issued["key"], admin.tenant_id, user["id"])


def second_key(client: ApiClient, role: Role = Role.ADMIN) -> ApiClient:
    """The same user of the same tenant with another API key."""
    from crm_core.services.tenants import issue_api_key

    api_key = issue_api_key(client.tenant_id, client.user_id, role)
    return ApiClient(client.base_url, api_key, client.tenant_id, client.user_id)
