"""The tenant's metered use as the API answers it (API.md ``usage``)."""

from __future__ import annotations

from pydantic import Field

from crm_core.models.common import Closed


class UsageDay(Closed):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")
    api_calls: int = Field(description="API requests made with the tenant's credentials.")
    read_units: float = Field(description="DynamoDB read request units those requests consumed.")
    write_units: float = Field(description="DynamoDB write request units those requests consumed.")
    events: int = Field(description="Events published to the bus.")
    emails: int = Field(description="Emails sent.")
    storage_bytes: int = Field(description="What the tenant stores, as measured that day (0: not measured).")


class UsageAnswer(Closed):
    from_: str = Field(alias="from", description="The first day, inclusive.")
    to: str = Field(description="The last day, inclusive.")
    items: list[UsageDay] = Field(description="One row per day of the range, the days without use as zeros.")
    data_as_of: str | None = Field(description="The newest usage line counted (null: none yet).")
