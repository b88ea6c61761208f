"""Who is calling: the principal that the authorizer derives from the credential, and what it may do.

The tenant, the user and the role come from the credential only, never from the request's path, query
or body.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from crm_core.errors import forbidden

API_KEY_PREFIX = "crm_"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    role: Role
    credential: str  # "api_key" or "jwt"
    credential_id: str
    rate_limit: int = 600  # requests per minute for the tenant (its plan's, or the operator's override)

    @property
    def is_system(self) -> bool:
        """The CRM itself (a reminder falling due, a tenant being set up, a partner's event), not a user."""
        return self.credential == "system"

    @property
    def actor(self) -> dict[str, str]:
        if self.is_system:  # the CRM itself: a reminder falling due, a tenant being set up
            return {"type": "system", "id": self.credential_id}
        return {
            "type": "user",
            "id": self.user_id,
            "via": self.credential,
            "credential_id": self.credential_id,
        }

    @classmethod
    def system(cls, tenant_id: str, what: str) -> Principal:
        return cls(tenant_id, user_id="system", role=Role.ADMIN, credential="system", credential_id=what)

    def require_create(self, owner_id: str | None) -> None:
        """May create a record owned by ``owner_id`` (None: unowned): a viewer only reads; a rep creates
        records owned by itself or by no one; a manager and an admin create any.

        Teams are not modelled yet, so a manager's team is the whole tenant.
        """
        if self.role == Role.VIEWER:
            raise forbidden("A viewer can read records but not change them.")
        if self.role == Role.REP and owner_id is not None and owner_id != self.user_id:
            raise forbidden("A rep can assign records only to itself.")

    def require_change(self, owner_before: str | None, owner_after: str | None) -> None:
        """May change a record owned by ``owner_before`` so that ``owner_after`` owns it (the same owner
        for a change that leaves it, an archive or a restore): a rep changes only what it owns, and takes
        an unowned record only by assigning it to itself (API.md, "roles")."""
        if self.role == Role.VIEWER:
            raise forbidden("A viewer can read records but not change them.")
        if self.role != Role.REP:
            return
        if owner_before is not None and owner_before != self.user_id:
            raise forbidden("A rep can change only the records it owns.")
        if owner_after is not None and owner_after != self.user_id:
            raise forbidden("A rep can assign records only to itself.")
        if owner_before is None and owner_after != self.user_id:
            raise forbidden("A rep can change an unowned record only by assigning it to itself.")

    def require_admin(self, what: str = "this") -> None:
        """Settings (pipelines, event targets and sources, users, keys, ...) are an admin's alone."""
        if self.role != Role.ADMIN:
            raise forbidden(f"Only an admin can change {what}.")


def new_api_key(tenant_id: str) -> str:
    """``crm_<tenant>_<secret>``: the tenant is readable, so the hash is looked up in that tenant's keys."""
    return f"{API_KEY_PREFIX}{tenant_id}_{secrets.token_urlsafe(32)}"


def parse_api_key(key: str) -> str | None:
    """The tenant id an API key names, or None if it is not shaped like one of ours."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    tenant_id, sep, secret = key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(tenant_id) != 26 or not tenant_id.isalnum() or len(secret) < 32:
        return None
    return tenant_id


def hash_api_key(key: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough; a slow KDF would add latency to every
    # cold authorizer call for no gain.
    return hashlib.sha256(key.encode()).hexdigest()
