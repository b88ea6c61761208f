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
    create_model,
)

from crm_core.ids import as_utc, utc_text

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
MAX_TAGS = 10


# An answer's shape: a field it does not declare is an error (tests check real answers against it).
# No docstring: it would become the description of every answer model without one of its own.
class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrictModel(BaseModel):
    """Unknown fields are an error (no silent mass assignment), strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


RecordId = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]
CustomValue = str | int | float | bool | list[str] | None


MAX_CUSTOM_PROPERTIES = 100
MAX_CUSTOM_TEXT = 10_000  # characters of one text value (a record as a whole holds at most 64 KB)
MAX_CUSTOM_OPTIONS = 100  # values of one list value, each a short text
# What a DynamoDB number holds: 38 significant digits, and a magnitude the JSON of an event can carry.
MAX_CUSTOM_MAGNITUDE = 1e38


def _bounded_custom_value(name: str, value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_CUSTOM_TEXT:
        raise ValueError(f"property {name!r} is over {MAX_CUSTOM_TEXT:,} characters")
    if isinstance(value, int | float) and not isinstance(value, bool):
        magnitude = abs(value)
        if (
            magnitude != magnitude
            or magnitude >= MAX_CUSTOM_MAGNITUDE
            or (0 < magnitude < 1 / MAX_CUSTOM_MAGNITUDE)
        ):
            raise ValueError(f"property {name!r} must be a number between -1e38 and 1e38")
        if isinstance(value, int) and len(str(magnitude)) > 38:
            raise ValueError(f"property {name!r} has more than 38 digits")
    if isinstance(value, list):
        if len(value) > MAX_CUSTOM_OPTIONS:
            raise ValueError(f"property {name!r} has more than {MAX_CUSTOM_OPTIONS} values")
        if any(len(one) > 200 for one in value):
            raise ValueError(f"property {name!r} has a value over 200 characters")


def _bounded_custom(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_CUSTOM_PROPERTIES:
        raise ValueError(f"at most {MAX_CUSTOM_PROPERTIES} custom properties")
    for name, one in value.items():
        if not name or len(name) > 64 or not name.replace("_", "").isalnum():
            raise ValueError(f"property name {name!r} must be 1-64 letters, digits or underscores")
        _bounded_custom_value(name, one)
    return value


Custom = Annotated[
    dict[str, CustomValue],
    AfterValidator(_bounded_custom),
    Field(
        description="The tenant's custom properties by name (defined under /v1/properties/{object}); a value "
        "written is validated against its definition (422 naming `custom.<name>`). A PATCH merges it key by "
        "key: a name sent as null is removed, the names not sent are kept; `custom: null` clears them all."
    ),
]


def _within_utc_years(value: Any) -> Any:
    as_utc(value)  # a ValueError names the field (422)
    return value


# A time with its zone (any) that is a time in UTC too: an input, a query parameter.
Instant = Annotated[AwareDatetime, AfterValidator(_within_utc_years)]
# A time with its zone (any), stored and answered in UTC.
Timestamp = Annotated[Instant, PlainSerializer(utc_text, return_type=str, when_used="json")]


class RecordMeta(BaseModel):
    """The read-only fields every record carries."""

    id: str
    tenant_id: str
    version: int = Field(description="Bumped by every change; sent back as the ETag.")
    archived: bool
    archived_at: str | None
    merged_into: str | None
    created_at: str
    updated_at: str


def record_model(name: str, fields: type[BaseModel]) -> type[BaseModel]:
    """``fields`` (a type's input model, every field optional) plus the read-only ones, closed."""
    model: type[BaseModel] = create_model(name, __base__=(RecordMeta, fields))
    return model


# Example values: the ids and times the event catalog's examples (docs/events.md) and the record types'
# example inputs use. Fixed, so the generated files do not change from one run to the next.
EXAMPLE_TENANT_ID = "01JHC0TENANT0000000000000A"
EXAMPLE_USER_ID = "01JHC0WSER00000000000000AB"
