"""The HTTP API's Lambda authorizer: the credential (an API key or a user pool ID token) in, the
tenant, user, role and rate limit out.

It answers "authorized" for every request and says in the context who the caller is, or why it is
nobody; the function then answers 401 with problem details. (An HTTP API turns an authorizer's "no"
into a bare 403, while the contract says 401 for a bad credential.) A good credential of a tenant the
operator suspended is answered as ``reason: tenant_suspended``, which the function answers 403 with the
problem type ``/problems/tenant-suspended``: the tenant item is read with the credential anyway, so the
check costs no call. Its answer is not cached: a revoked
key, a deactivated user or a lowered role takes effect on the next request, for two DynamoDB round trips
a request (services/credentials.py; docs/decisions/0002 and 0009).

Deployed, a request must come through the CloudFront distribution (and its web ACL): one without the
origin header's secret value is refused (``isAuthorized: false``: API Gateway's bare 403) before its
credential is read (definitions.ORIGIN_HEADER).
"""

import hmac
from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    from aws_lambda_powertools import Logger
    from crm_core.auth import API_KEY_PREFIX, Principal
    from crm_core.config import settings
    from crm_core.definitions import ORIGIN_HEADER
    from crm_core.services.credentials import TenantSuspended, principal_for_api_key

    logger = Logger()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def _bearer(event: dict[str, Any]) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _through_the_edge(event: dict[str, Any]) -> bool:
    """The request came through the distribution: its origin header carries the secret (none is needed
    where no edge is in front, as on ``crm dev``)."""
    expected = settings().origin_secret
    if not expected:
        return True
    header = ORIGIN_HEADER.lower()
    given = next((str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == header), "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _principal(token: str) -> Principal | None:
    if token.startswith(API_KEY_PREFIX):
        return principal_for_api_key(token)
    if token.count(".") == 2:
        from crm_core.services.user_directory import principal_for_id_token  # lazy: most calls use keys

        return principal_for_id_token(token)
    return None


def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    if not _through_the_edge(event):
        logger.info("request around the edge refused")
        return {"isAuthorized": False}
    token = _bearer(event)
    try:
        principal = _principal(token) if token else None
    except TenantSuspended as suspended:  # a good credential of a tenant the operator suspended: 403
        logger.info("tenant suspended", extra={"tenant_id": suspended.tenant_id})
        return {"isAuthorized": True, "context": {"tenant_id": "", "reason": "tenant_suspended"}}
    if principal is None:
        logger.info("credential refused", extra={"credential_present": bool(token)})
        return {"isAuthorized": True, "context": {"tenant_id": "", "reason": "invalid_credential"}}
    return {
        "isAuthorized": True,
        "context": {
            "tenant_id": principal.tenant_id,
            "user_id": principal.user_id,
            "role": principal.role.value,
            "credential": principal.credential,
            "credential_id": principal.credential_id,
            "rate_limit": principal.rate_limit,
            "team_id": principal.team_id or "",
        },
    }
