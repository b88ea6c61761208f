"""The repository builds records and entries from DynamoDB's answer itself (record_repository._ItemReader):
each must be the item pynamodb's ``from_raw_data`` builds from the same answer."""

from __future__ import annotations

from typing import Any

import pytest
from crm_core.repositories.record_repository import _reader
from crm_core.repositories.table import DuplicatePair, IndexEntry, RecordItem, TableItem
from crm_core.stored_values import as_json_value
from hypothesis import given, settings
from hypothesis import strategies as st
from pynamodb.exceptions import AttributeDeserializationError

TEXT = st.text(max_size=10)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        TEXT,
        st.integers(-(10**9), 10**9),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=10,
)
TOKENS = st.one_of(st.none(), st.lists(TEXT, max_size=4))


def same_item(built: TableItem, expected: TableItem) -> None:
    assert type(built) is type(expected)
    assert built.to_dynamodb_dict() == expected.to_dynamodb_dict()
    assert built.attribute_values.keys() == expected.attribute_values.keys()
    for name, value in expected.attribute_values.items():
        assert type(built.attribute_values[name]) is type(value), name
        assert as_json_value(built.attribute_values[name]) == as_json_value(value), name


@settings(max_examples=150, deadline=None)
@given(
    data=st.dictionaries(TEXT, JSON, max_size=6),
    related=st.one_of(st.none(), st.dictionaries(TEXT, JSON, max_size=3)),
    tokens=TOKENS,
    archived_at=st.one_of(st.none(), TEXT),
    version=st.integers(1, 10**6),
)
def test_a_record_is_built_as_pynamodb_builds_it(
    data: dict[str, Any],
    related: dict[str, Any] | None,
    tokens: list[str] | None,
    archived_at: str | None,
    version: int,
) -> None:
    record = RecordItem(
        "T#t#contact#r",
        "#RECORD",
        object_type="contact",
        id="r",
        tenant_id="t",
        version=version,
        created_at="2026-11-26T00:00:00.000Z",
        updated_at="2026-11-26T00:00:00.000Z",
        archived_at=archived_at,
        data=data,
        related=related,
        search_tokens=tokens,
        GSI1PK="T#t#contact#active",
        GSI1SK="r",
    )
    raw = record.to_dynamodb_dict()
    same_item(_reader.item(raw), TableItem.from_raw_data(raw))


def test_odd_answers_are_read_as_pynamodb_reads_them() -> None:
    raw = RecordItem("T#t#contact#r", "#RECORD", id="r", version=2, data={"a": 1}).to_dynamodb_dict()
    raw["unknown"] = {"S": "not in the model"}
    raw["archived_at"] = {"NULL": True}
    raw["search_tokens"] = {"L": [{"S": "a"}, {"NULL": True}]}
    raw["dedupe_keys"] = {"L": []}
    same_item(_reader.item(raw), TableItem.from_raw_data(raw))
    raw["merged_into"] = {"N": "3"}  # a text attribute stored with another type
    for read in (_reader.item, TableItem.from_raw_data):
        with pytest.raises(AttributeDeserializationError):
            read(raw)


def test_entries_are_built_as_pynamodb_builds_them_and_other_items_by_pynamodb() -> None:
    raw = IndexEntry("T#t#contact#search#ada", "ada#r", record_id="r").to_dynamodb_dict()
    same_item(_reader.item(raw), TableItem.from_raw_data(raw))
    raw["expires_at"] = {"N": "1700000000"}
    same_item(_reader.item(raw), TableItem.from_raw_data(raw))
    pair = DuplicatePair("T#t#contact#dupes", "a#b", record_ids=["a", "b"], reason="r", found_at="x")
    same_item(_reader.item(pair.to_dynamodb_dict()), TableItem.from_raw_data(pair.to_dynamodb_dict()))
