"""A client for every role of a tenant (API.md "roles"), as the access matrix calls the API."""

from __future__ import annotations

from crm_core.auth import Role

from tests.support.client import ApiClient
from tests.support.credentials import user_client


def clients_by_role(admin: ApiClient) -> dict[Role, ApiClient]:
    """``admin`` itself, and a new user of its tenant in every other role, each with a key of its own."""
    return {role: admin if role is Role.ADMIN else user_client(admin, role) for role in Role}
