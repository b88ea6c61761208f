"""The rules of custom property values (crm_core.services.custom_values, decision 0012), without a table."""

from __future__ import annotations

from typing import Any

import pytest
from crm_core.services.custom_values import custom_errors, merged_custom, value_problem

TIER = {"id": "1", "type": "enum", "options": ["gold", "silver"], "required": False}
SEGMENT = {"id": "2", "type": "string", "options": [], "required": True}


def fields(errors: list[Any]) -> list[str]:
    return [error.field for error in errors]


def test_a_patch_merges_key_by_key() -> None:
    assert merged_custom({"a": 1, "b": 2}, {"b": None, "c": 3}) == {"a": 1, "c": 3}
    assert merged_custom({"a": 1}, {}) == {"a": 1}
    assert merged_custom({"a": 1}, None) is None
    assert merged_custom(None, {"a": None}) == {}


@pytest.mark.parametrize(
    ("kind", "value", "fine"),
    [
        ("number", True, False),  # a boolean is not a number, though Python says it is an int
        ("number", 0, True),
        ("date", "2024-02-29", True),
        ("date", "2023-02-29", False),
        ("multi_enum", ["gold", "gold"], False),
        ("multi_enum", [], True),
        ("boolean", 1, False),
    ],
)
def test_values_of_each_type(kind: str, value: Any, fine: bool) -> None:
    definition = {"type": kind, "options": ["gold", "silver"]}
    assert (value_problem(definition, value) is None) is fine


def test_only_what_a_write_adds_or_changes_is_checked() -> None:
    definitions = {"tier": TIER}
    # stored before the option was removed, and kept: fine; sent anew or changed: checked
    assert custom_errors(definitions, {"tier": "bronze"}, {"tier": "bronze"}) == []
    assert fields(custom_errors(definitions, {"tier": "bronze"}, {"tier": "iron"})) == ["custom.tier"]
    assert fields(custom_errors(definitions, None, {"tier": "bronze"})) == ["custom.tier"]
    # an undefined (or archived) property kept as stored, then sent anew
    assert custom_errors(definitions, {"old": 1}, {"old": 1}) == []
    assert fields(custom_errors(definitions, {}, {"old": 1})) == ["custom.old"]


def test_required_on_create_and_not_cleared_by_a_change() -> None:
    definitions = {"segment": SEGMENT}
    assert fields(custom_errors(definitions, None, {})) == ["custom.segment"]
    assert custom_errors(definitions, None, {"segment": "smb"}) == []
    assert fields(custom_errors(definitions, {"segment": "smb"}, {})) == ["custom.segment"]
    # a record made before it was required keeps lacking it
    assert custom_errors(definitions, {}, {}) == []
