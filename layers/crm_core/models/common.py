"""Field types shared by every record type's input models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from crm_core.ids import utc_text

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
MAX_TAGS = 10


class StrictModel(BaseModel):
    """Unknown fields are an error (no silent mass assignment), strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


RecordId = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]
CustomValue = str | int | float | bool | list[str] | None


def _bounded_custom(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 100:
        raise ValueError("at most 100 custom properties")
    for name in value:
        if not name or len(name) > 64 or not name.replace("_", "").isalnum():
            raise ValueError(f"property name {name!r} must be 1-64 letters, digits or underscores")
    return value


Custom = Annotated[dict[str, CustomValue], AfterValidator(_bounded_custom)]


# A time with its zone (any), stored and answered in UTC.
Timestamp = Annotated[AwareDatetime, PlainSerializer(utc_text, return_type=str, when_used="json")]
