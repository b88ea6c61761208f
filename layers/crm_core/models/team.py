"""A team of users: a manager changes the records its team's users own."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crm_core.models.common import EXAMPLE_USER_ID, RecordId, ShortText, StrictModel, record_model


class TeamFields(StrictModel):
    name: ShortText | None = None
    manager_id: RecordId | None = Field(
        None, description="The team's manager (a user); its members are the users whose team_id is this team."
    )


class TeamCreate(TeamFields):
    name: ShortText


class TeamUpdate(TeamFields):
    pass


TEAM_DEFAULTS: dict[str, object] = {"name": None, "manager_id": None}

Team = record_model("Team", TeamFields)
EXAMPLE_ID = "01JHC0TEAM0000000000000001"
EXAMPLE: dict[str, Any] = {"name": "Enterprise sales", "manager_id": EXAMPLE_USER_ID}
EXAMPLE_UPDATE: tuple[str, Any] = ("name", "Enterprise sales EMEA")


def example_input(n: int) -> dict[str, Any]:
    return {"name": f"Team {n}"}
