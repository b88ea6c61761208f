"""Web users: an ID token from the tenant's user pool is a credential like an API key."""

from __future__ import annotations

import os

import boto3
import pytest
from crm_core.auth import Role
from crm_core.services.tenants import create_tenant, create_user

from tests.support.client import ApiClient

PASSWORD = "Correct-Horse-9-Battery"


def sign_in(email: str) -> dict[str, str]:
    """What the web app holds after sign-in: the pool's tokens for this user."""
    cognito = boto3.client("cognito-idp")
    pool, client = os.environ["CRM_USER_POOL_ID"], os.environ["CRM_USER_POOL_CLIENT_ID"]
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    tokens: dict[str, str] = result["AuthenticationResult"]
    return tokens


@pytest.fixture
def web_admin(base_url: str) -> tuple[ApiClient, ApiClient]:
    """(the admin signed in on the web, the same tenant's API key client)."""
    email = f"admin-{os.urandom(4).hex()}@acme.example"
    tenant = create_tenant("Acme", email)
    tokens = sign_in(email)
    return (
        ApiClient(base_url, tokens["IdToken"], tenant.tenant_id, tenant.user_id),
        ApiClient(base_url, tenant.api_key, tenant.tenant_id, tenant.user_id),
    )


def test_id_token_reads_and_writes_as_the_user(web_admin: tuple[ApiClient, ApiClient]) -> None:
    web, api = web_admin
    from_api = api.create("contacts", {"email": "seen@example.com"})
    listed = web.get("/v1/contacts")
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["items"]] == [from_api["id"]]
    created = web.create("contacts", {"email": "web@example.com"})
    assert created["owner_id"] == web.user_id
    timeline = api.get(f"/v1/contacts/{created['id']}/timeline").json()["items"]
    assert timeline[0]["actor"]["via"] == "jwt"


def test_role_comes_from_the_crm_user(base_url: str, client: ApiClient) -> None:
    email = f"viewer-{os.urandom(4).hex()}@acme.example"
    create_user(client.tenant_id, email, Role.VIEWER)
    viewer = ApiClient(base_url, sign_in(email)["IdToken"], client.tenant_id)
    assert viewer.get("/v1/contacts").status_code == 200
    refused = viewer.post("/v1/contacts", {"email": "no@example.com"})
    assert refused.status_code == 403
    assert client.get("/v1/contacts").json()["items"] == []


def test_other_tokens_are_refused(
    base_url: str, web_admin: tuple[ApiClient, ApiClient], other: ApiClient
) -> None:
    web, api = web_admin
    api.create("contacts", {"email": "private@example.com"})
    header, payload, signature = web.api_key.split(".")  # type: ignore[union-attr]
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert ApiClient(base_url, forged).get("/v1/contacts").status_code == 401
    email = f"rival-{os.urandom(4).hex()}@rival.example"
    create_tenant("Rival", email)
    rival_tokens = sign_in(email)
    rival = ApiClient(base_url, rival_tokens["IdToken"])
    assert rival.get("/v1/contacts").json()["items"] == []
    # An access token carries no tenant: only ID tokens are credentials.
    assert ApiClient(base_url, rival_tokens["AccessToken"]).get("/v1/contacts").status_code == 401
