"""Values as pynamodb reads them from the table, turned into the JSON values the API and events carry."""

from __future__ import annotations

from typing import Any


def as_json_value(value: Any) -> Any:
    """Map attributes become dicts (nested ones too), and whole numbers read back as floats become ints."""
    if hasattr(value, "attribute_values"):
        return {k: as_json_value(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: as_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
