"""Web sign-in: the user pool that issues web users their ID tokens, and reading those tokens.

A user's ID token carries ``custom:tenant_id`` and ``custom:user_id``, set by the CRM when it invites
the user (never by the user). The user's role is read from the CRM's own user record on each
authorization, so a changed role or a deactivated user takes effect without waiting for the token to expire.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from crm_core import aws
from crm_core.auth import Principal, Role
from crm_core.config import settings
from crm_core.repositories import tenant_repository
from crm_core.services.credentials import rate_limit_of
from crm_core.stored_values import as_json_value


def invite(tenant_id: str, user_id: str, email: str, role: Role) -> bool:
    """Create the user's sign-in in the pool (AWS emails the invitation). False where no pool is set up."""
    config = settings()
    if not config.user_pool_id:
        return False
    cognito = aws.client("cognito-idp")
    extra: dict[str, str] = {"MessageAction": "SUPPRESS"} if config.local_mode else {}
    cognito.admin_create_user(
        UserPoolId=config.user_pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:tenant_id", "Value": tenant_id},
            {"Name": "custom:user_id", "Value": user_id},
        ],
        **extra,
    )
    cognito.admin_add_user_to_group(UserPoolId=config.user_pool_id, Username=email, GroupName=role.value)
    return True


def set_enabled(email: str, enabled: bool) -> bool:
    """Enable or disable the user's sign-in in the pool. False where no pool is set up."""
    config = settings()
    if not config.user_pool_id:
        return False
    cognito = aws.client("cognito-idp")
    change = cognito.admin_enable_user if enabled else cognito.admin_disable_user
    change(UserPoolId=config.user_pool_id, Username=email)
    return True


def _issuer() -> str:
    config = settings()
    return f"https://cognito-idp.{config.region}.amazonaws.com/{config.user_pool_id}"


@lru_cache(maxsize=1)
def _signing_keys() -> Any:
    from jwt import PyJWKClient  # lazy: API-key requests never pay for the JWT library

    url = settings().jwks_url or f"{_issuer()}/.well-known/jwks.json"
    return PyJWKClient(url, cache_keys=True, lifespan=3600)


def principal_for_id_token(token: str) -> Principal | None:
    """The principal an ID token of our user pool names, or None if the token is not one, or is stale."""
    config = settings()
    if not config.user_pool_id or not config.user_pool_client_id:
        return None
    import jwt

    try:
        key = _signing_keys().get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=config.user_pool_client_id,
            issuer=_issuer(),
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    tenant_id, user_id = claims.get("custom:tenant_id"), claims.get("custom:user_id")
    if claims.get("token_use") != "id" or not tenant_id or not user_id:
        return None
    user = tenant_repository.active_user(str(tenant_id), str(user_id), consistent=True)
    if user is None:
        return None
    data = as_json_value(user.data)
    return Principal(
        tenant_id=user.tenant_id,
        user_id=user.id,
        role=Role(data.get("role") or "rep"),
        credential="jwt",
        credential_id=claims["sub"],
        rate_limit=rate_limit_of(user.tenant_id),
        team_id=data.get("team_id"),
    )


def remove(tenant_id: str, email: str) -> bool:
    """Delete the user's sign-in from the pool, if it is this tenant's (the tenant's deletion). False where
    no pool is set up or the pool has no such user of this tenant."""
    config = settings()
    if not config.user_pool_id:
        return False
    cognito = aws.client("cognito-idp")
    try:
        found = cognito.admin_get_user(UserPoolId=config.user_pool_id, Username=email)
    except cognito.exceptions.UserNotFoundException:
        return False
    attributes = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
    if attributes.get("custom:tenant_id") != tenant_id:
        return False  # the same address as another tenant's user: never theirs
    cognito.admin_delete_user(UserPoolId=config.user_pool_id, Username=email)
    return True
