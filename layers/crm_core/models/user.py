"""A user of a tenant's CRM: who signs in to the web app or holds its API keys, with a role and a team."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from crm_core.models.common import EXAMPLE_USER_ID, Closed, RecordId, ShortText, StrictModel, record_model
from crm_core.models.contact import Email

RoleName = Literal["admin", "manager", "rep", "viewer"]


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone, such as Europe/Madrid or UTC") from None
    return value


TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_time_zone),
    Field(description="The user's IANA time zone (default UTC): its day is when its birthdays are told."),
]
ROLE_DESCRIPTION = (
    "viewer reads; rep changes what it owns; manager what its team owns; admin everything and the settings."
)


class UserFields(StrictModel):
    email: Email | None = Field(None, description="Unique in the tenant; the user's sign-in name.")
    name: ShortText | None = None
    role: RoleName | None = Field(None, description=ROLE_DESCRIPTION)
    team_id: RecordId | None = Field(None, description="The team the user belongs to (GET /v1/teams).")
    active: bool | None = Field(
        None, description="false: deactivated; every credential of the user is refused from its next request."
    )
    timezone: TimeZone | None = None


class UserCreate(StrictModel):
    email: Email
    name: ShortText | None = None
    role: RoleName = Field("rep", description=ROLE_DESCRIPTION)
    team_id: RecordId | None = Field(None, description="The team the user belongs to (GET /v1/teams).")
    timezone: TimeZone | None = None


class UserUpdate(StrictModel):
    """The email is the user's sign-in name and does not change: invite a new user instead."""

    name: ShortText | None = None
    role: RoleName | None = Field(None, description=ROLE_DESCRIPTION)
    team_id: RecordId | None = None
    active: bool | None = Field(
        None, description="false deactivates the user (as DELETE does); true reactivates it."
    )
    timezone: TimeZone | None = None


USER_DEFAULTS: dict[str, object] = {
    "email": None,
    "name": None,
    "role": "rep",
    "team_id": None,
    "active": True,
    "timezone": "UTC",
}

User = record_model("User", UserFields)
EXAMPLE_ID = EXAMPLE_USER_ID
EXAMPLE: dict[str, Any] = {
    "email": "ana.lopez@example.com",
    "name": "Ana López",
    "role": "rep",
    "team_id": "01JHC0TEAM0000000000000001",
    "active": True,
    "timezone": "UTC",
}
EXAMPLE_UPDATE: tuple[str, Any] = ("role", "manager")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` varies the email, which is unique in a tenant."""
    return {"email": f"user{n}@example.com", "name": f"User {n}", "role": "rep"}


class MeCredential(Closed):
    type: Literal["api_key", "jwt"]
    id: str = Field(description="The API key's id, or the user pool's subject.")


class Seats(Closed):
    used: int = Field(description="Active users of the tenant: what the plan's seats count.")


class MeTenant(Closed):
    id: str
    name: str
    plan: str
    seats: Seats


class Me(Closed):
    """The caller: its user, the role this credential acts with, the credential and its tenant."""

    user: User  # type: ignore[valid-type]
    role: RoleName = Field(
        description="The role this credential acts with: the lower of the user's and the key's."
    )
    credential: MeCredential
    tenant: MeTenant
