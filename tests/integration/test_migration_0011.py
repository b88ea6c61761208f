"""Migration 0011 against a tenant made before users and API keys were records: its people become records
with the same ids, its keys work again (as their users, revocable through the API), and a second run
changes nothing."""

from __future__ import annotations

import secrets
from typing import Any

import boto3
import pytest
from crm_core.auth import API_KEY_PREFIX, hash_api_key
from crm_core.config import settings
from crm_core.ids import new_id, utc_now
from crm_core.migrations import run
from crm_core.migrations.migration_0011 import LEGACY_API_KEY, LEGACY_USER, MIGRATION, make_records
from crm_core.repositories import keys, tenant_repository
from crm_core.repositories.table import ApiKeyItem, TenantItem, UserItem

from tests.integration.test_migration_0008 import WHOLE_PAGE
from tests.support.client import ApiClient


def _legacy_key(tenant_id: str, user_id: str, role: str, *, revoked: bool = False) -> str:
    """A key as issued then (``crm_<tenant>_<secret>``, no id in it), kept as its hash."""
    api_key = f"{API_KEY_PREFIX}{tenant_id}_{secrets.token_urlsafe(32)}"
    ApiKeyItem(
        keys.tenant_pk(tenant_id),
        keys.api_key_sk(hash_api_key(api_key)),
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        name=f"{role} key",
        prefix=api_key[:12],
        created_at="2026-01-05T10:00:00.000Z",
        revoked_at=utc_now() if revoked else None,
    ).save()
    return api_key


@pytest.fixture
def legacy_tenant(base_url: str) -> dict[str, Any]:
    """A tenant's items as tenant creation wrote them before issue 12: the tenant, its admin and a rep as
    ``user`` items, their keys as ``api_key`` items (one of them revoked)."""
    tenant_id = new_id()
    TenantItem(
        keys.tenant_pk(tenant_id),
        tenant_repository.TENANT_SK,
        id=tenant_id,
        name="Old Ltd",
        plan="free",
        created_at="2026-01-05T10:00:00.000Z",
    ).save()
    people: dict[str, Any] = {"tenant_id": tenant_id}
    for role in ("admin", "rep"):
        user_id = new_id()
        UserItem(
            keys.tenant_pk(tenant_id),
            keys.user_sk(user_id),
            id=user_id,
            tenant_id=tenant_id,
            email=f"{role}@old.example",
            name=f"Old {role}",
            role=role,
            created_at="2026-01-05T10:00:00.000Z",
        ).save()
        people[role] = ApiClient(base_url, _legacy_key(tenant_id, user_id, role), tenant_id, user_id)
    people["revoked"] = ApiClient(
        base_url, _legacy_key(tenant_id, people["admin"].user_id, "admin", revoked=True), tenant_id
    )
    return people


def _migrate(tenant: str) -> Any:
    dynamodb = boto3.client("dynamodb", region_name=settings().region)
    return run(dynamodb, settings().table_name, MIGRATION, segments=2, tenant=tenant, page_size=WHOLE_PAGE)


def test_the_people_of_an_old_tenant_become_records_and_their_keys_work(
    legacy_tenant: dict[str, Any],
) -> None:
    admin, rep, revoked = legacy_tenant["admin"], legacy_tenant["rep"], legacy_tenant["revoked"]
    assert admin.get("/v1/me").status_code == 401, "before: a key whose user has no record is refused"

    # One run (a scan of the whole table, which holds every test's tenants: the dry run and the runner's
    # resumption are migration 0008's tests).
    done = _migrate(admin.tenant_id)
    assert (done.scanned[LEGACY_USER], done.scanned[LEGACY_API_KEY], done.rewritten[LEGACY_USER]) == (2, 3, 2)
    me = admin.get("/v1/me")
    assert me.status_code == 200, me.text
    assert (me.json()["user"]["id"], me.json()["role"]) == (admin.user_id, "admin")
    assert rep.get("/v1/me").json()["role"] == "rep"
    assert rep.post("/v1/users", {"email": "x@old.example"}).status_code == 403
    assert revoked.get("/v1/me").status_code == 401

    users = {u["email"]: u for u in admin.get("/v1/users").json()["items"]}
    assert {e: (u["id"], u["role"], u["created_at"]) for e, u in users.items()} == {
        "admin@old.example": (admin.user_id, "admin", "2026-01-05T10:00:00.000Z"),
        "rep@old.example": (rep.user_id, "rep", "2026-01-05T10:00:00.000Z"),
    }
    listed = admin.get("/v1/api-keys", params={"limit": 100}).json()["items"]
    assert sorted((k["name"], k["user_id"], k["role"]) for k in listed) == [
        ("admin key", admin.user_id, None),
        ("rep key", rep.user_id, None),
    ]
    seats = admin.get("/v1/me").json()["tenant"]["seats"]["used"]
    assert seats == 2

    again = [make_records(admin.tenant_id, user.user_id) for user in (admin, rep)]
    assert again == [False, False], "a second run finds everything done"

    rep_key = next(k for k in listed if k["user_id"] == rep.user_id)
    assert admin.delete(f"/v1/api-keys/{rep_key['id']}").status_code == 204
    assert rep.get("/v1/me").status_code == 401, "an old key is revoked through the API like any other"
    assert admin.get("/v1/me").status_code == 200
