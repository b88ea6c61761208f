"""pynamodb's stored values as plain JSON values."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    if hasattr(value, "attribute_values"):
        return {k: plain(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
