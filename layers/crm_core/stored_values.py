"""Values as pynamodb reads them from the table, turned into the JSON values the API and events carry."""

from __future__ import annotations

from typing import Any

_AS_THEY_ARE = (str, bool, int, type(None))


def as_json_value(value: Any) -> Any:
    """Map attributes become dicts (nested ones too), and whole numbers read back as floats become ints."""
    # The exact types a record holds first: this runs for every value of every record a page answers.
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dict:
        return {k: as_json_value(v) for k, v in value.items()}
    if kind is list:
        return [as_json_value(v) for v in value]
    if hasattr(value, "attribute_values"):
        return {k: as_json_value(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: as_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
