"""Reads hand their items to pynamodb as DynamoDB sent them (record_repository._items_as_sent): what botocore
answers must be exactly what it answers when it parses the whole body itself."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.parsers import create_parser
from crm_core.repositories.record_repository import _items_as_sent
from hypothesis import given, settings
from hypothesis import strategies as st

_MODEL = botocore.session.get_session().get_service_model("dynamodb")

TEXT = st.text(max_size=12)
SCALARS = st.one_of(
    TEXT.map(lambda s: {"S": s}),
    st.integers(-(10**12), 10**12).map(lambda n: {"N": str(n)}),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: {"N": repr(f)}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(TEXT, min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(0, 99), min_size=1, max_size=3, unique=True).map(
        lambda v: {"NS": [str(n) for n in v]}
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(TEXT, inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)
ITEMS = st.lists(st.dictionaries(TEXT, VALUES, min_size=1, max_size=5), max_size=4)


def parsed(operation: str, body: dict[str, Any], status: int = 200, *, hooked: bool) -> dict[str, Any]:
    operation_model = _MODEL.operation_model(operation)
    response = {"headers": {}, "status_code": status, "body": json.dumps(body).encode()}
    customized: dict[str, Any] = {}
    if hooked:
        _items_as_sent(
            operation_model=operation_model, response_dict=response, customized_response_dict=customized
        )
    answer = create_parser("json").parse(response, operation_model.output_shape)
    answer.update(customized)
    return dict(answer)


@settings(max_examples=80, deadline=None)
@given(items=ITEMS)
def test_a_query_answers_the_items_botocore_would(items: list[dict[str, Any]]) -> None:
    body = {"Items": items, "Count": len(items), "ScannedCount": 7, "LastEvaluatedKey": {"PK": {"S": "a"}}}
    assert parsed("Query", body, hooked=True) == parsed("Query", body, hooked=False)


@settings(max_examples=80, deadline=None)
@given(items=ITEMS)
def test_a_batch_get_answers_the_items_botocore_would(items: list[dict[str, Any]]) -> None:
    body = {
        "Responses": {"crm": items},
        "UnprocessedKeys": {"crm": {"Keys": [{"PK": {"S": "a"}, "SK": {"S": "b"}}]}},
        "ConsumedCapacity": [{"TableName": "crm", "CapacityUnits": 1.5}],
    }
    assert parsed("BatchGetItem", body, hooked=True) == parsed("BatchGetItem", body, hooked=False)


def test_a_get_item_answers_the_item_botocore_would() -> None:
    body = {"Item": {"PK": {"S": "a"}, "data": {"M": {"n": {"N": "1.50"}, "l": {"L": [{"NULL": True}]}}}}}
    assert parsed("GetItem", body, hooked=True) == parsed("GetItem", body, hooked=False)
    missing = parsed("GetItem", {}, hooked=True)
    assert missing == parsed("GetItem", {}, hooked=False) and "Item" not in missing


def test_binary_values_and_errors_are_left_to_botocore() -> None:
    binary = {"Item": {"PK": {"S": "a"}, "blob": {"B": "aGk="}, "blobs": {"BS": ["aGk="]}}}
    answer = parsed("GetItem", binary, hooked=True)
    assert answer["Item"]["blob"] == {"B": b"hi"} and answer["Item"]["blobs"] == {"BS": [b"hi"]}
    error = {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "no table"}
    assert parsed("Query", error, 400, hooked=True) == parsed("Query", error, 400, hooked=False)
