"""The rules of custom property values (crm_core.services.custom_values, decision 0012), without a table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.repositories.property_schema_repository import PropertySchema
from crm_core.services.custom_values import (
    NO_UNIQUE_CHANGES,
    custom_errors,
    merged_custom,
    unique_changes,
    unique_key,
    value_problem,
)

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


# ------------------------------------------------------------------------------------- unique values


@pytest.mark.parametrize(
    ("kind", "values", "key"),
    [
        ("string", ["AB-1", " ab-1 ", "Ab-1\t"], "ab-1"),
        ("string", ["Straße", "STRASSE"], "strasse"),  # case-folded, not only lower-cased
        ("number", [10, 10.0, "1E1", Decimal("10.000")], "10"),
        ("number", [0, -0.0], "0"),
        ("number", [0.1, Decimal("0.10")], "0.1"),
        ("date", ["2026-11-27"], "2026-11-27"),
    ],
)
def test_unique_values_are_normalized(kind: str, values: list[Any], key: str) -> None:
    assert {unique_key(kind, value) for value in values} == {key}


def test_blank_values_guard_nothing_and_long_ones_are_keyed_by_digest() -> None:
    assert unique_key("string", "   ") is None
    assert unique_key("string", None) is None
    long_key = unique_key("string", "x" * 5000)
    assert long_key is not None and long_key.startswith("sha256:") and len(long_key) < 100
    assert long_key == unique_key("string", "X" * 5000)


def test_unique_changes_claim_release_and_drop() -> None:
    schema = PropertySchema(
        "t1",
        "contacts",
        3,
        {
            "member_no": {"id": "1", "type": "string", "unique": True, "markers": True},
            "old_code": {"id": "2", "type": "string", "unique": False, "markers": True},
            "note": {"id": "3", "type": "string", "unique": False},
        },
    )
    ctx = RequestContext(Principal.system("t1", "test"))
    ctx.lookups[("property_schema", "contacts")] = schema
    before = {"custom": {"member_no": "A", "old_code": "X", "note": "n"}}
    after = {"custom": {"member_no": "b", "note": "m"}}
    found = unique_changes(ctx, "contacts", before, after)
    assert found.claimed == {"custom.member_no": "b"}
    assert found.released == {"custom.member_no": "a"}
    assert found.dropped == {"custom.old_code": "x"}
    # the same value in another case claims nothing
    same = unique_changes(ctx, "contacts", before, {"custom": {**before["custom"], "member_no": " a"}})
    assert (same.claimed, same.released, same.dropped) == ({}, {}, {})
    # custom left as it is: nothing read (no schema cached for deals: a read would need a table)
    kept = unique_changes(ctx, "deals", {"custom": {"a": 1}}, {"custom": {"a": 1}, "name": "x"})
    assert kept is NO_UNIQUE_CHANGES
