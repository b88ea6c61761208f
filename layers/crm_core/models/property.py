"""A custom property's definition: a field of its own a tenant gives its contacts, companies or deals
(docs/decisions/0012-custom-properties.md). Records keep the values in ``custom``; every write of one is
validated against the definitions in force."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from crm_core.models.common import ShortText, StrictModel, record_model

# The collections whose records have custom properties, as the path names them.
PropertyObject = Literal["contacts", "companies", "deals", "tickets"]
PROPERTY_OBJECTS: tuple[str, ...] = ("contacts", "companies", "deals", "tickets")
PropertyType = Literal["string", "number", "boolean", "date", "enum", "multi_enum"]
CHOICE_TYPES = ("enum", "multi_enum")
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MAX_OPTIONS = 100  # a multi_enum value holds at most as many (models.common.MAX_CUSTOM_OPTIONS)

PropertyName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
OptionValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class PropertyOption(StrictModel):
    value: OptionValue = Field(description="What a record holds: `gold`.")
    label: ShortText = Field(description="What a person reads: `Gold`.")


Options = Annotated[list[PropertyOption], Field(max_length=MAX_OPTIONS)]


def _options_fit(type_: str | None, options: list[PropertyOption] | None) -> None:
    values = [option.value for option in options or []]
    if len(set(values)) != len(values):
        raise ValueError("each value once")
    if type_ is not None and type_ in CHOICE_TYPES and not values:
        raise ValueError(f"an {type_} property needs at least one option")
    if type_ is not None and type_ not in CHOICE_TYPES and values:
        raise ValueError(f"only enum and multi_enum properties have options, not {type_}")


class PropertyFields(StrictModel):
    name: PropertyName | None = Field(
        None, description="How `custom` names it: lower case letters, digits and _, first a letter; fixed."
    )
    label: ShortText | None = None
    description: Description | None = None
    type: PropertyType | None = Field(None, description="Fixed once created: make another property instead.")
    options: Options | None = Field(None, description="The values an enum or multi_enum property takes.")
    required: bool | None = Field(
        None,
        description="A record is created with a value, and a change may not clear it. Records made before "
        "keep what they have until they are next given one.",
    )
    unique: bool | None = Field(
        None,
        description="No two records of the object hold the same value (strings compared trimmed and without "
        "regard to case, numbers as decimals): a taken value is `409` naming `custom.<name>` with "
        "`existing_id`. Only for `string`, `number` and `date`; set when the property is created "
        "(existing records may already share values), and it may be turned off.",
    )


class PropertyCreate(PropertyFields):
    name: PropertyName
    label: ShortText
    type: PropertyType

    @field_validator("options")
    @classmethod
    def _options_of_type(cls, options: list[PropertyOption] | None, info: ValidationInfo) -> Any:
        _options_fit(info.data.get("type"), options)
        return options


class PropertyUpdate(StrictModel):
    """The name and the type are fixed (a value stored under them keeps its meaning); the rest changes.
    Options removed or a property made required leave stored values as they are."""

    label: ShortText | None = None
    description: Description | None = None
    options: Options | None = None
    required: bool | None = None
    unique: bool | None = Field(
        None, description="May be turned off (`false`); turning it on once created is refused (`422`)."
    )
    name: str | None = Field(None, description="Fixed: sending it is refused.")
    type: str | None = Field(None, description="Fixed: sending it is refused; make another property.")

    @field_validator("name", "type")
    @classmethod
    def _fixed(cls, value: str | None) -> None:
        raise ValueError("is fixed once the property is created: make another property instead")

    @model_validator(mode="after")
    def _distinct_options(self) -> PropertyUpdate:
        _options_fit(None, self.options)
        return self


class PropertyOut(PropertyFields):
    object: PropertyObject | None = Field(None, description="Read-only. Whose property it is.")


PROPERTY_DEFAULTS: dict[str, object] = {
    "object": None,
    "name": None,
    "label": None,
    "description": None,
    "type": None,
    "options": [],
    "required": False,
    "unique": False,
}

# The record as the API answers it, and as its events carry it.
Property = record_model("Property", PropertyOut)
EXAMPLE_ID = "01JHC1PR0PERTY000000000001"
EXAMPLE: dict[str, Any] = {
    "object": "contacts",
    "name": "tier",
    "label": "Tier",
    "description": "The customer's support tier.",
    "type": "enum",
    "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    "required": False,
    "unique": False,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("label", "Support tier")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` varies the name, which is unique per object in a tenant."""
    return {"name": f"example_{n}", "label": f"Example {n}", "type": "string"}
