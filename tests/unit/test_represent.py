"""A record as the API shows it (services.records.shape.represent) is, key for key and in the same order,
the defaults of its type overlaid with its stored fields, then its bookkeeping: as it was built when every
body took a deep copy of the defaults. Each body owns its lists and objects."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from crm_core.record_types import RECORD_TYPES, RecordType
from crm_core.repositories.table import RecordItem
from crm_core.services.records.shape import represent
from crm_core.stored_values import as_json_value
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(max_size=8)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), TEXT, st.integers(-1000, 1000), st.floats(-1e6, 1e6, width=32)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
TYPES = [pytest.param(t, id=t.name) for t in RECORD_TYPES]


def as_it_was(value: Any) -> Any:
    """stored_values.as_json_value as first written, before its fast paths."""
    if hasattr(value, "attribute_values"):
        return {k: as_it_was(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: as_it_was(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_it_was(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def represented_as_it_was(spec: Any, item: RecordItem) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id}
    body.update(copy.deepcopy(spec.defaults))
    body.update(as_it_was(item.data))
    for name in spec.hidden_fields:
        body[f"has_{name}"] = body.pop(name, None) is not None
    body.update(
        {
            "tenant_id": item.tenant_id,
            "version": item.version,
            "archived": item.archived_at is not None,
            "archived_at": item.archived_at,
            "merged_into": item.merged_into,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
    )
    return body


def stored(data: dict[str, Any], archived_at: str | None = None) -> RecordItem:
    """A record as a read gives it back, its data through DynamoDB's form."""
    item = RecordItem(
        "T#t#x#r",
        "#RECORD",
        id="r",
        tenant_id="t",
        version=3,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-02T00:00:00.000Z",
        archived_at=archived_at,
        data=data,
    )
    back: RecordItem = RecordItem.from_raw_data(item.to_dynamodb_dict())
    return back


@pytest.mark.parametrize("registered", TYPES)
@settings(max_examples=40, deadline=None)
@given(
    extra=st.dictionaries(TEXT, JSON, max_size=4),
    some_defaults=st.data(),
    archived_at=st.one_of(st.none(), st.just("2026-01-03T00:00:00.000Z")),
)
def test_a_body_is_built_as_it_was(
    registered: RecordType, extra: dict[str, Any], some_defaults: st.DataObject, archived_at: str | None
) -> None:
    spec = registered.record_service().spec
    names = some_defaults.draw(st.lists(st.sampled_from(sorted(spec.defaults)), unique=True))
    data = {name: some_defaults.draw(JSON) for name in names} | extra
    item = stored(data, archived_at)
    body = represent(spec, item)
    expected = represented_as_it_was(spec, item)
    assert json.dumps(body) == json.dumps(expected)  # the same keys, in the same order, the same values


def test_bodies_do_not_share_their_lists_and_objects() -> None:
    spec = next(t for t in RECORD_TYPES if t.name == "contact").record_service().spec
    first, second = represent(spec, stored({})), represent(spec, stored({}))
    first["tags"].append("vip")
    first["consent"]["email"] = "granted"
    assert second["tags"] == [] and second["consent"] == {"email": "unknown"}
    assert spec.defaults["tags"] == [] and spec.defaults["consent"] == {"email": "unknown"}


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_json_values_are_as_they_were(value: Any) -> None:
    item = stored({"v": value})
    assert json.dumps(as_json_value(item.data)) == json.dumps(as_it_was(item.data))
    assert json.dumps(as_json_value(value)) == json.dumps(as_it_was(value))
