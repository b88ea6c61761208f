"""API keys: credentials that act as a user, never with more than the user's current role.

The key is shown once, in the answer to its creation; the record keeps the SHA-256 of it (never answered
nor published) and its ``prefix`` (all but the secret). DELETE revokes it: the authorizer reads the key's
record on every request (docs/decisions/0009), so the very next request with it is refused. When it was
last used is kept apart from the record (``ApiKeyUse``), written at most once a minute by the authorizer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.auth import RANK, Role, api_key_prefix, hash_api_key, new_api_key
from crm_core.context import RequestContext
from crm_core.errors import invalid_field
from crm_core.ids import new_id, utc_text
from crm_core.models.api_key import API_KEY_DEFAULTS, ApiKeyCreate, ApiKeyUpdate
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import ApiKeyUse
from crm_core.services import references
from crm_core.services.records import ObjectSpec, Page, Prepared, RecordService, record_data, represent
from crm_core.services.records.writes import write_retrying

KEY_HASH = "key_hash"


def resolve(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    """The key's user is an active user of the tenant, and its cap is not above the user's role."""
    user_id = data.get("user_id")
    if not user_id or "user_id" not in changed:
        return {}
    user = references.active_record(ctx, "user", user_id)
    user_data = record_data(user) if user is not None else {}
    if user is None or user_data.get("active") is False:
        raise invalid_field("user_id", "no active user with this id")
    role = data.get("role")
    user_role = Role(user_data.get("role") or "rep")
    if role and RANK[Role(role)] > RANK[user_role]:
        raise invalid_field(
            "role", f"is above the user's role ({user_role.value}); a key may only restrict it"
        )
    return {}


def _last_used(tenant_id: str, key_ids: list[str]) -> dict[str, str]:
    """When each key was last used: one BatchGetItem."""
    wanted = [(keys.api_key_use_pk(tenant_id, key_id), keys.RECORD_SK) for key_id in key_ids]
    found = repo.get_items(wanted) if wanted else []
    return {item.PK.rsplit("#", 2)[-2]: item.last_used_at for item in found if isinstance(item, ApiKeyUse)}


class ApiKeyService(RecordService):
    def with_kept_apart(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        return self._with_use(tenant_id, bodies)

    def _with_use(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        used = _last_used(tenant_id, [body["id"] for body in bodies])
        for body in bodies:
            body["last_used_at"] = used.get(body["id"])
        return bodies

    def get(self, ctx: RequestContext, record_id: str, *, archived: bool = False) -> RecordBody:
        return self._with_use(ctx.tenant_id, [super().get(ctx, record_id, archived=archived)])[0]

    def list_records(self, ctx: RequestContext, **options: object) -> Page[RecordBody]:
        page = super().list_records(ctx, **options)  # type: ignore[arg-type]
        return page._replace(items=self._with_use(ctx.tenant_id, page.items))

    def prepare_issue(self, ctx: RequestContext, fields: RecordFields) -> tuple[Prepared, str]:
        """The key's record ready to commit, and the key itself (never stored)."""
        fields = dict(fields)
        fields.setdefault("user_id", ctx.principal.user_id)
        expires_at = fields.get("expires_at")
        if expires_at is not None:
            if isinstance(expires_at, str):
                expires_at = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
            if expires_at <= datetime.now(UTC):
                raise invalid_field("expires_at", "must be in the future")
            fields["expires_at"] = utc_text(expires_at)
        key_id = new_id()
        api_key = new_api_key(ctx.tenant_id, key_id)
        fields[KEY_HASH] = hash_api_key(api_key)
        fields["prefix"] = api_key_prefix(api_key)
        return self.prepare_create(ctx, fields, key_id), api_key

    def create(self, ctx: RequestContext, fields: RecordFields) -> RecordBody:
        """The key's record, and the key itself in the answer (shown this once only)."""
        issued: list[str] = []

        def prepare() -> Prepared:
            prepared, api_key = self.prepare_issue(ctx, fields)
            issued[:] = [api_key]
            return prepared

        committed = write_retrying(self.spec, ctx, prepare)
        assert committed is not None
        body = self._with_use(ctx.tenant_id, [represent(self.spec, committed.item)])[0]
        return {**body, "key": issued[0]}

    def revoke(self, ctx: RequestContext, record_id: str, if_match: int | None = None) -> RecordBody:
        return self.archive(ctx, record_id, if_match)


API_KEYS = ApiKeyService(
    ObjectSpec(
        object_type="api_key",
        admin_only=True,
        create_model=ApiKeyCreate,
        update_model=ApiKeyUpdate,
        defaults=API_KEY_DEFAULTS,
        tokens=lambda data, related: [],
        resolve=resolve,
        parent_field="user_id",
        secret_fields=(KEY_HASH,),
        archive_event="revoked",
    )
)
