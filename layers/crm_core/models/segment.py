"""What a segment is made of: a name and a filter over contacts (docs/decisions/0018-segment-evaluation.md).

The filter is an OR of AND groups: ``{"any": [{"all": [{"property", "operator", "value"}, ...]}, ...]}``,
at most ``MAX_GROUPS`` groups of ``MAX_CONDITIONS`` conditions. Its shape is checked here; what each
condition names (a property, an operator its type has, a value of its type) is checked against the
tenant's properties by ``crm_core.services.segment_filters``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from crm_core.models.common import EXAMPLE_USER_ID, Closed, RecordId, ShortText, StrictModel, record_model

MAX_GROUPS = 5
MAX_CONDITIONS = 10
MAX_IN_VALUES = 50

Operator = Literal["eq", "neq", "contains", "in", "gt", "lt", "exists", "before", "after"]
OPERATORS: tuple[str, ...] = ("eq", "neq", "contains", "in", "gt", "lt", "exists", "before", "after")
ConditionValue = str | int | float | bool | list[str | int | float] | None
PropertyName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,2}$")
]

EXAMPLE_FILTER: dict[str, Any] = {
    "any": [
        {
            "all": [
                {"property": "lifecycle_stage", "operator": "in", "value": ["lead", "mql"]},
                {"property": "company.industry", "operator": "eq", "value": "Manufacturing"},
                {"property": "custom.tier", "operator": "eq", "value": "gold"},
            ]
        },
        {"all": [{"property": "tags", "operator": "contains", "value": "vip"}]},
    ]
}


class SegmentCondition(StrictModel):
    """One condition: a contact's property compared with a value."""

    property: PropertyName = Field(
        description="A contact field (`email`, `lifecycle_stage`, `tags`, `consent.email`, `owner_id`, "
        "...), a field of the contact's company (`company.industry`, `company.employees`, ...) or a custom "
        "property (`custom.<name>`). GET /v1/segments/properties lists them with their types and operators."
    )
    operator: Operator = Field(
        description="eq, neq, in (value: a list), contains (text: a part of it; tags and multi_enum: has "
        "the value), gt and lt (numbers), before and after (dates and times), exists (value: true or false). "
        "Which a property takes follows its type; text compares without regard to case or accents."
    )
    value: ConditionValue = Field(None, description="Of the property's type; a list for `in`.")


class SegmentGroup(StrictModel):
    """Conditions that a member meets all of."""

    all: list[SegmentCondition] = Field(min_length=1, max_length=MAX_CONDITIONS)


class SegmentFilter(StrictModel):
    """An OR of AND groups: a contact is a member when it meets every condition of at least one group."""

    model_config = {**StrictModel.model_config, "json_schema_extra": {"examples": [EXAMPLE_FILTER]}}

    any: list[SegmentGroup] = Field(min_length=1, max_length=MAX_GROUPS)


class SegmentFields(StrictModel):
    name: ShortText | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    filter: SegmentFilter | None = Field(
        None,
        description=f"An OR (`any`, at most {MAX_GROUPS}) of AND groups (`all`, at most {MAX_CONDITIONS} "
        "conditions each); a condition that names an unknown property, an operator its type does not take, "
        "or a value of another type is 422 naming it (`filter.any[0].all[1].value`).",
        examples=[EXAMPLE_FILTER],
    )
    owner_id: RecordId | None = Field(None, description="Its owner (by default its creator).")


class SegmentCreate(SegmentFields):
    name: ShortText
    filter: SegmentFilter = Field(description=str(SegmentFields.model_fields["filter"].description))


class SegmentUpdate(SegmentFields):
    """Every field optional; name and filter cannot be cleared."""


SEGMENT_DEFAULTS: dict[str, object] = {"name": None, "description": None, "filter": None, "owner_id": None}

# The record as the API answers it, and as its events carry it.
Segment = record_model("Segment", SegmentFields)
EXAMPLE_ID = "01JHC1SEGMENT0000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Manufacturing leads and VIPs",
    "description": None,
    "filter": EXAMPLE_FILTER,
    "owner_id": EXAMPLE_USER_ID,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("name", "Manufacturing leads and every VIP")


def example_input(n: int) -> dict[str, Any]:
    """A create body (nothing in a segment is unique)."""
    return {
        "name": f"Segment {n}",
        "filter": {"any": [{"all": [{"property": "lifecycle_stage", "operator": "eq", "value": "lead"}]}]},
    }


PropertyType = Literal[
    "string", "id", "enum", "tags", "number", "boolean", "date", "datetime", "birthday", "multi_enum"
]


class SegmentProperty(Closed):
    """A property a segment's condition may name."""

    property: str
    label: str
    type: PropertyType
    operators: list[str]
    options: list[str] | None = None


class SegmentMemberCount(Closed):
    count: int = Field(description="How many active contacts the filter selects now.")


class SegmentPreviewRequest(StrictModel):
    filter: SegmentFilter
    limit: Annotated[int, Field(ge=0, le=100)] = 10
