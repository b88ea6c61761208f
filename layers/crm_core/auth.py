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
    team_id: str | None = None  # the user's team: a manager changes what its team owns (services/access.py)

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
        records owned by itself or by no one; an admin creates any (a manager's team: services/access.py).
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


# A key is ``crm_<tenant id>_<key id>_<secret>``: the authorizer reads the key's record by its id (one
# GetItem) and compares the secret's hash. Keys issued before keys were records are ``crm_<tenant>_<secret>``
# and found by their hash (services/credentials.py).
_SECRET_LENGTH = 43  # secrets.token_urlsafe(32)
_ID_LENGTH = 26


def new_api_key(tenant_id: str, key_id: str) -> str:
    """``crm_<tenant>_<key id>_<secret>``: the tenant and the key are readable, the secret is not stored."""
    return f"{API_KEY_PREFIX}{tenant_id}_{key_id}_{secrets.token_urlsafe(32)}"


def api_key_prefix(api_key: str) -> str:
    """What tells a key from the tenant's others without giving its secret away: all but the secret."""
    return api_key[: -(_SECRET_LENGTH + 1)]


@dataclass(frozen=True)
class ParsedApiKey:
    tenant_id: str
    key_id: str | None  # None: a key from before keys were records, found by its hash


def parse_api_key(key: str) -> ParsedApiKey | None:
    """The tenant (and key) an API key names, or None if it is not shaped like one of ours."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    rest = key[len(API_KEY_PREFIX) :]
    tenant_id, sep, tail = rest[:_ID_LENGTH], rest[_ID_LENGTH : _ID_LENGTH + 1], rest[_ID_LENGTH + 1 :]
    if sep != "_" or not tenant_id.isalnum():
        return None
    if (
        len(tail) == _ID_LENGTH + 1 + _SECRET_LENGTH
        and tail[_ID_LENGTH] == "_"
        and tail[:_ID_LENGTH].isalnum()
    ):
        return ParsedApiKey(tenant_id, tail[:_ID_LENGTH])
    if len(tail) >= 32:
        return ParsedApiKey(tenant_id, None)
    return None


def hash_api_key(key: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough; a slow KDF would add latency to every
    # authorizer call for no gain.
    return hashlib.sha256(key.encode()).hexdigest()


RANK = {Role.VIEWER: 0, Role.REP: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def lower_role(role: Role, cap: Role | None) -> Role:
    """A credential acts with the lower of its user's role and its own cap (API.md, "api keys")."""
    return role if cap is None or RANK[role] <= RANK[cap] else cap
