"""What an SLA policy is made of: targets per priority, counted in business hours."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from crm_core.business_hours import DAY_NAMES, END_OF_DAY, BusinessHours
from crm_core.models.common import ShortText, StrictModel, record_model
from crm_core.models.ticket import Category

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
MAX_MINUTES = 366 * 24 * 60  # a year round the clock


class Target(StrictModel):
    first_response_minutes: int = Field(ge=1, le=MAX_MINUTES)
    resolution_minutes: int = Field(ge=1, le=MAX_MINUTES)


class Targets(StrictModel):
    """A priority without a target has no due times; at least one priority has one."""

    low: Target | None = None
    normal: Target | None = None
    high: Target | None = None
    urgent: Target | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Targets:
        if not (self.low or self.normal or self.high or self.urgent):
            raise ValueError("name a target for at least one priority (low, normal, high, urgent)")
        return self


class BusinessHoursIn(StrictModel):
    """One daily window on the named days, in the zone's wall time (09:00 stays 09:00 across a change)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)

    timezone: str = Field(max_length=64, description="An IANA time zone: `Europe/Berlin`.")
    days: list[Day] = Field(min_length=1, max_length=7)
    from_: Clock = Field(alias="from", description="`HH:MM`, local time.")
    to: Clock = Field(description="`HH:MM` after `from`, or `24:00`.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone") from None
        return value

    @field_validator("days")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=DAY_NAMES.index)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> BusinessHoursIn:
        if self.from_ == END_OF_DAY:
            raise ValueError("from must be a time of day before to")
        if self.to != END_OF_DAY and self.to <= self.from_:
            raise ValueError("to must be after from")
        return self


class SlaPolicyFields(StrictModel):
    name: ShortText | None = None
    targets: Targets | None = None
    business_hours: BusinessHoursIn | None = Field(None, description="Null: round the clock.")
    warn_before_minutes: int | None = Field(
        None, ge=0, le=MAX_MINUTES, description="The assignee is warned this many business minutes ahead."
    )
    categories: Annotated[list[Category], Field(max_length=4)] | None = Field(
        None,
        description="The ticket categories it applies to; empty: every category. A ticket follows the "
        "oldest active policy naming its category, else the oldest naming none.",
    )


class SlaPolicyCreate(SlaPolicyFields):
    name: ShortText
    targets: Targets

    @model_validator(mode="after")
    def _targets_fit(self) -> SlaPolicyCreate:
        """A target must be reachable within a year of these hours (a 1-minute window a week is not)."""
        if self.business_hours is None:
            return self
        hours = BusinessHours.of(self.business_hours.model_dump(by_alias=True))
        assert hours is not None
        per_year = hours.minutes_per_week() * 52
        longest = max(
            (
                t.resolution_minutes
                for t in (self.targets.low, self.targets.normal, self.targets.high, self.targets.urgent)
                if t
            ),
            default=0,
        )
        if longest > per_year:
            raise ValueError(f"a target of {longest} minutes does not fit in a year of these business hours")
        return self


class SlaPolicyUpdate(SlaPolicyFields):
    """Every field optional; applies to tickets created or re-prioritised after it."""


SLA_POLICY_DEFAULTS: dict[str, object] = {
    "name": None,
    "targets": None,
    "business_hours": None,
    "warn_before_minutes": 0,
    "categories": [],
}

SlaPolicy = record_model("SlaPolicy", SlaPolicyFields)
EXAMPLE_ID = "01JHC1S1APO11CY00000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Standard support",
    "targets": {
        "low": {"first_response_minutes": 1440, "resolution_minutes": 4800},
        "normal": {"first_response_minutes": 480, "resolution_minutes": 2400},
        "high": {"first_response_minutes": 120, "resolution_minutes": 960},
        "urgent": {"first_response_minutes": 30, "resolution_minutes": 240},
    },
    "business_hours": {
        "timezone": "Europe/Berlin",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "from": "09:00",
        "to": "17:00",
    },
    "warn_before_minutes": 30,
    "categories": [],
}
EXAMPLE_UPDATE: tuple[str, Any] = ("warn_before_minutes", 60)


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {
        "name": f"Example policy {n}",
        "targets": {"normal": {"first_response_minutes": 60, "resolution_minutes": 480}},
    }
