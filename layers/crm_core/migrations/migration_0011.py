"""Migration 0011 (docs/decisions/0009-access-takes-effect-at-once.md): the people of tenants made before
users and API keys were records.

A tenant made before then has its admin as a ``user`` item (SK ``USER#<id>``) and its keys as ``api_key``
items (SK ``APIKEY#<sha-256 of the key>``), and no user or api_key records: its keys are refused, since a
key's user is read from the user's record on every request, and ``/v1/users`` and ``/v1/api-keys`` do not
show them. For each legacy user this makes, through the services (so with their events, seat counts and
type-ahead entries), a user record with the same id, email, name and role, and for each of its keys not
revoked an api_key record with the key's id, name and prefix and the hash of the same secret: the key keeps
working, now revocable with ``DELETE /v1/api-keys/{id}``. A legacy key's role was a copy of its user's, not
a restriction, so the record restricts nothing.

The legacy items stay: a key issued then has no id inside it, and is found by its hash through its item,
then read as every key is, from its record (services/credentials.py). Records already there are left as
they are, so the migration can run again, or after a request made them.
"""

from __future__ import annotations

from crm_core.migrations import Action, Call, Item, Migration, item_kind, text

LEGACY_USER = "user (legacy)"
LEGACY_API_KEY = "api_key (legacy)"


def kind(item: Item) -> str:
    if text(item, "type") == "user" and text(item, "SK").startswith("USER#"):
        return LEGACY_USER
    if text(item, "type") == "api_key" and text(item, "SK").startswith("APIKEY#"):
        return LEGACY_API_KEY
    return item_kind(item)


def step(item: Item) -> Action:
    """A legacy user's records are made with its keys' (a key's record needs its user's first)."""
    if kind(item) != LEGACY_USER:
        return None
    tenant_id, user_id = text(item, "tenant_id"), text(item, "id")
    return Call(lambda: make_records(tenant_id, user_id))


def make_records(tenant_id: str, user_id: str) -> bool:
    """The user's record and its keys' records, those that are not there yet; whether any was made."""
    from crm_core.auth import Principal
    from crm_core.context import RequestContext
    from crm_core.repositories import keys
    from crm_core.repositories import record_repository as repo
    from crm_core.repositories.table import ApiKeyItem, TableItem, UserItem
    from crm_core.services.api_keys import API_KEYS, KEY_HASH
    from crm_core.services.records.writes import commit
    from crm_core.services.users import USERS

    ctx = RequestContext(Principal.system(tenant_id, "migration-0011"))
    made = False
    legacy = TableItem.get(keys.tenant_pk(tenant_id), keys.user_sk(user_id), consistent_read=True)
    assert isinstance(legacy, UserItem)
    user = repo.get_record(tenant_id, "user", user_id, consistent=True)
    if user is None:
        prepared = USERS.prepare_create(
            ctx, {"email": legacy.email, "name": legacy.name, "role": legacy.role}, record_id=user_id
        )
        prepared.item.created_at = legacy.created_at
        commit(USERS.spec, ctx, prepared)
        user, made = prepared.item, True
    ctx.lookups[("user", user_id)] = user  # read consistently above, or just made
    tenant_keys = TableItem.query(
        keys.tenant_pk(tenant_id), TableItem.SK.startswith("APIKEY#"), consistent_read=True
    )
    for key in tenant_keys:
        if not isinstance(key, ApiKeyItem) or key.user_id != user_id or key.revoked_at:
            continue
        if repo.get_record(tenant_id, "api_key", key.id, consistent=True) is not None:
            continue
        fields = {
            "user_id": user_id,
            "name": key.name or "API key",
            KEY_HASH: key.SK.removeprefix("APIKEY#"),
            "prefix": key.prefix,
        }
        prepared = API_KEYS.prepare_create(ctx, fields, record_id=key.id)
        prepared.item.created_at = key.created_at
        commit(API_KEYS.spec, ctx, prepared)
        made = True
    return made


MIGRATION = Migration(
    name="0011",
    description="make user and api_key records for the users and keys of tenants made before people were "
    "records (the legacy items stay: an old key is found by its hash through its item)",
    kind=kind,
    step=step,
    reads=("type", "tenant_id", "id"),
)
