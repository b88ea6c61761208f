"""Turning a credential into a principal: all the authorizer needs, kept apart from the services so its
cold start imports little.

Access takes effect at once (docs/decisions/0009): every request reads the key's record and its user,
consistently, so a revoked key, a deactivated user or a lowered role is refused or obeyed on the very
next request. Two round trips: a GetItem of the key, then one BatchGetItem of its user and the tenant (its
rate limit, and whether the operator suspended it). When the key was last used is written at most once a
minute, and never read here: each container remembers when it last wrote it (a read of it on every request
cost a read unit a call; the write's condition keeps two containers from writing it twice in a minute).
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError

from crm_core import rate_limits
from crm_core.auth import Principal, Role, hash_api_key, lower_role, parse_api_key
from crm_core.ids import utc_text
from crm_core.repositories import keys, record_repository, tenant_repository
from crm_core.repositories.table import ApiKeyUse, RecordItem, TableItem, TenantItem
from crm_core.stored_values import as_json_value

logger = Logger(child=True)

LAST_USED_EVERY = timedelta(seconds=60)
TOUCHED_KEYS = 4096  # the keys a container remembers writing the last use of (least recently used out)
_touched: OrderedDict[str, datetime] = OrderedDict()


def principal_for_api_key(api_key: str) -> Principal | None:
    """The principal an API key acts as; None for an unknown, revoked or expired key, or an inactive user."""
    parsed = parse_api_key(api_key)
    if parsed is None:
        return None
    tenant_id, key_hash = parsed.tenant_id, hash_api_key(api_key)
    key_id = parsed.key_id
    if key_id is None:
        # A key issued before keys had their id in them: its legacy item names its record (migration 0011).
        legacy = tenant_repository.get_api_key(tenant_id, key_hash)
        if legacy is None or legacy.revoked_at:
            return None
        key_id = legacy.id
    record = record_repository.get_record(tenant_id, "api_key", key_id, consistent=True)
    if record is None or record.archived_at is not None:
        return None
    data = as_json_value(record.data)
    if not hmac.compare_digest(str(data.get("key_hash", "")), key_hash):
        return None
    user_id, cap, expires_at = data.get("user_id"), data.get("role"), data.get("expires_at")
    now = datetime.now(UTC)
    if expires_at and datetime.fromisoformat(str(expires_at).replace("Z", "+00:00")) <= now:
        return None
    user, tenant = _user_and_tenant(tenant_id, str(user_id))
    if user is None:
        return None
    require_serving(tenant)
    _touch(tenant_id, key_id, now)
    user_data = as_json_value(user.data)
    return Principal(
        tenant_id=tenant_id,
        user_id=user.id,
        role=lower_role(Role(user_data.get("role") or "rep"), Role(cap) if cap else None),
        credential="api_key",
        credential_id=key_id,
        rate_limit=_rate_limit(tenant),
        team_id=user_data.get("team_id"),
    )


def _user_and_tenant(tenant_id: str, user_id: str) -> tuple[RecordItem | None, TenantItem | None]:
    """The key's user if active, and the tenant: one consistent BatchGetItem."""
    user_key = (keys.record_pk(tenant_id, "user", user_id), keys.RECORD_SK)
    tenant_key = (keys.tenant_pk(tenant_id), tenant_repository.TENANT_SK)
    found: dict[tuple[str, str], TableItem] = {
        (item.PK, item.SK): item
        for item in record_repository.get_items([user_key, tenant_key], consistent=True)
    }
    user, tenant = found.get(user_key), found.get(tenant_key)
    return (
        user if isinstance(user, RecordItem) and tenant_repository.is_active_user(user, tenant_id) else None,
        tenant if isinstance(tenant, TenantItem) else None,
    )


def _touch(tenant_id: str, key_id: str, now: datetime) -> None:
    """Keep when the key was last used, to the minute: a write only when this container's last one is a
    minute old, conditional on the stored one being a minute old too (another container's, a concurrent
    request's), so that it is written at most about once a minute."""
    touched = f"{tenant_id}#{key_id}"
    last = _touched.get(touched)
    if last is not None and now - last < LAST_USED_EVERY:
        _touched.move_to_end(touched)
        return
    _touched[touched] = now
    _touched.move_to_end(touched)
    while len(_touched) > TOUCHED_KEYS:
        _touched.popitem(last=False)
    cutoff = utc_text(now - LAST_USED_EVERY)
    item = ApiKeyUse(keys.api_key_use_pk(tenant_id, key_id), keys.RECORD_SK, last_used_at=utc_text(now))
    try:
        item.save(condition=ApiKeyUse.last_used_at.does_not_exist() | (ApiKeyUse.last_used_at < cutoff))
    except PutError as error:  # a concurrent request wrote it, or the write failed: only last_used_at waits
        if error.cause_response_code != "ConditionalCheckFailedException":
            logger.warning("last_used_at not written", extra={"key_id": key_id, "error": str(error)})


class TenantSuspended(Exception):
    """The credential is good, but its tenant is suspended (or being deleted) by the operator: every request
    is refused with 403 ``/problems/tenant-suspended`` until it is resumed (API.md section 6)."""

    def __init__(self, tenant_id: str, status: str) -> None:
        super().__init__(f"tenant {tenant_id} is {status}")
        self.tenant_id, self.status = tenant_id, status


def require_serving(tenant: TenantItem | None) -> None:
    """The tenant (already read with the credential: no call of its own) is active."""
    if tenant is not None and (tenant.status or "active") != "active":
        raise TenantSuspended(tenant.id, tenant.status)


def _rate_limit(tenant: TenantItem | None) -> int:
    if tenant is None:
        return rate_limits.PLAN_LIMITS["free"]
    override = tenant.rate_limit_per_minute
    return rate_limits.limit_for(tenant.plan, int(override) if override else None)


def rate_limit_of(tenant_id: str) -> int:
    """The tenant's requests per minute: its plan's, or the operator's override (one GetItem). Raises
    TenantSuspended for a suspended tenant."""
    tenant = tenant_repository.get_tenant(tenant_id)
    require_serving(tenant)
    return _rate_limit(tenant)
