"""An API key of a user: a credential that acts as its user, never with more than its user's role."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crm_core.models.common import (
    EXAMPLE_USER_ID,
    RecordId,
    ShortText,
    StrictModel,
    Timestamp,
    record_model,
)
from crm_core.models.user import RoleName

ROLE_CAP = (
    "The most this key may do: it acts with the lower of its user's current role and this one. "
    "null: its user's role."
)


class ApiKeyFields(StrictModel):
    name: ShortText | None = Field(None, description="What the key is for, to tell keys apart in a list.")
    user_id: RecordId | None = Field(None, description="The user the key acts as (default: the caller).")
    role: RoleName | None = Field(None, description=ROLE_CAP)
    expires_at: str | None = Field(None, description="RFC 3339: refused from then on; null: never.")


class ApiKeyCreate(StrictModel):
    name: ShortText | None = Field(None, description="What the key is for, to tell keys apart in a list.")
    user_id: RecordId | None = Field(None, description="The user the key acts as (default: the caller).")
    role: RoleName | None = Field(None, description=ROLE_CAP)
    expires_at: Timestamp | None = Field(None, description="RFC 3339, in the future: refused from then on.")


class ApiKeyUpdate(StrictModel):
    """Nothing of a key changes but its name; revoke it (DELETE) and issue another instead."""

    name: ShortText | None = None


class ApiKeyShown(ApiKeyFields):
    prefix: str = Field(description="The key's beginning (no secret in it): tells one key from another.")
    last_used_at: str | None = Field(
        None,
        description="Read-only. When the key last authorized a request (kept to the minute).",
        json_schema_extra={"x-not-in-events": True},  # crm_local.catalog.NOT_IN_EVENTS
    )


API_KEY_DEFAULTS: dict[str, object] = {
    "name": None,
    "user_id": None,
    "role": None,
    "expires_at": None,
    "prefix": None,
}

ApiKey = record_model("ApiKey", ApiKeyShown)


class ApiKeyIssued(ApiKey):  # type: ignore[misc,valid-type]
    """The answer to its creation, the only one that holds the key itself."""

    key: str = Field(description="The key: send it as `Authorization: Bearer <key>`. Shown this once only.")


EXAMPLE_ID = "01JHC0KEY00000000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Zapier sync",
    "user_id": EXAMPLE_USER_ID,
    "role": "rep",
    "expires_at": None,
    "prefix": "crm_01JHC0TENANT0000000000000A_01JHC0KEY00000000000000001",
}
EXAMPLE_UPDATE: tuple[str, Any] = ("name", "Zapier sync (EU)")


def example_input(n: int) -> dict[str, Any]:
    return {"name": f"Integration {n}"}
