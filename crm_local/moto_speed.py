"""Make the local endpoint (moto) answer faster, never differently.

Three costs of moto 5.2 grow with nothing DynamoDB pays for and would push a bench over thousands of
records past its time budget, and slow `crm dev` down as local data grows:

- every request to the moto server lists moto's package folder (``list_of_moto_modules``) to find the
  service; the folder does not change while the process runs, so it is listed once;
- a Query walks every item of the table to find one partition, of the table or of a global secondary
  index (moto keeps no index), so its time grows with the whole table, every tenant's items: this hands
  moto's own query a view of the table whose ``all_items`` is the items that can be in that partition,
  so the rest of moto's query (its own check of the key condition, sorting, paging, limits, filters,
  projection) runs unchanged on them. A base-table partition is moto's own dict; an index's is kept
  here (``_IndexBuckets``), built on the first query of the index and kept up to date by every write.

- every answer of DynamoDB and its stream is written by moto's generic serializer, which walks the
  operation's output shape for every attribute value of every item (10 ms for one GetItem; most of the
  local endpoint's time). Those answers are already DynamoDB JSON, made of JSON's own types (and a stream
  record's timestamp): the answers of the operations the CRM calls most are dumped as they are, in the
  form moto's serializer gives them (``FAST_ANSWERS``). With ``verify_answers`` on, each is also made by
  moto's serializer and any difference noted in ``answer_differences`` (tests/integration/
  test_local_endpoint_indexes.py runs the CRM's calls so).

- every event a rule delivers is shaped by moto's input template, which parses the same eight JSONPath
  expressions anew (building a parser each time: about 30 ms an event and target); the parsed expressions
  are kept (``jsonpath_ng`` expressions are not changed by ``find``).

"""

from __future__ import annotations

import contextlib
import inspect
from collections import Counter
from typing import Any

_installed = False

# The operations whose answers are dumped as moto's handlers make them (see above), by service.
FAST_ANSWERS = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "BatchGetItem",
            "Query",
            "Scan",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "TransactGetItems",
        }
    ),
    "dynamodbstreams": frozenset({"GetRecords"}),
}
verify_answers = False
answer_differences: list[str] = []
answers_verified: Counter[str] = Counter()  # by "service.Operation"


class _Partition:
    """The table, seen through one partition (for moto's base-table query)."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def all_items(self) -> list[Any]:
        partition = self._table.items.get(self._hash_key)
        return list(partition.values()) if isinstance(partition, dict) else []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _bucket_key(value: Any) -> Any:
    """A key attribute's value as a dict key (a number by its value: DynamoDB's 1 and 1.0 are one key)."""
    return (value.type, value.cast_value if value.type == "N" else value.value)


def _primary_key(item: Any) -> tuple[Any, Any]:
    range_key = item.range_key
    return (_bucket_key(item.hash_key), None if range_key is None else _bucket_key(range_key))


class _IndexBuckets:
    """For each partition key attribute of a table's global secondary indexes, the items by that attribute's
    value: a superset of each index partition's items. A write adds the item it leaves in the table to the
    buckets of its values (a Put makes a new item object, an Update changes the one in place); what a
    write leaves behind (the item a Put replaced or a Delete removed, an item whose value changed) is
    dropped when a query finds it is no longer the table's item, or moto's own key check skips it.

    Kept in the table object's ``__dict__``: moto's deep copy of a table (a transaction it rolls back)
    copies the buckets with the items, the same objects in both."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._by_attribute: dict[str, dict[Any, dict[tuple[Any, Any], Any]]] = {}

    @staticmethod
    def of(table: Any) -> _IndexBuckets:
        buckets = table.__dict__.get("_crm_index_buckets")
        if buckets is None:
            buckets = table.__dict__["_crm_index_buckets"] = _IndexBuckets(table)
        return buckets

    def add(self, item: Any) -> None:
        for attribute, buckets in self._by_attribute.items():
            value = item.attrs.get(attribute)
            if value is not None:
                buckets.setdefault(_bucket_key(value), {})[_primary_key(item)] = item

    def _is_current(self, item: Any) -> bool:
        stored = self._table.items.get(item.hash_key)
        if self._table.range_key_attr:
            return isinstance(stored, dict) and stored.get(item.range_key) is item
        return stored is item

    def candidates(self, attribute: str, value: Any) -> list[Any]:
        if attribute not in self._by_attribute:
            self._by_attribute[attribute] = {}
            for item in self._table.all_items():
                self.add(item)  # only this attribute's buckets are new; the others are rewritten as they are
        bucket = self._by_attribute[attribute].get(_bucket_key(value), {})
        stale = [key for key, item in bucket.items() if not self._is_current(item)]
        for key in stale:
            del bucket[key]
        return list(bucket.values())


class _IndexPartition:
    """The table, seen through the items that can be in one partition of a global secondary index."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _index_partition_key(table: Any, index_name: str) -> str | None:
    """The partition key attribute of a global secondary index with one (None for any other index)."""
    for index in table.global_indexes:
        if index.name == index_name:
            hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            return hash_keys[0] if len(hash_keys) == 1 else None
    return None


def _timestamp(value: Any) -> Any:
    """What moto's JSON serializer writes for a timestamp: seconds since the epoch, to the millisecond."""
    import calendar
    from datetime import datetime

    if not isinstance(value, datetime):
        raise TypeError(f"{type(value).__name__} is not JSON")
    seconds = calendar.timegm(value.timetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


def _install_fast_answers() -> None:
    import json

    from moto.core.responses import BaseResponse, PaginatedResult
    from moto.core.utils import get_service_model

    moto_serialized = BaseResponse.serialized
    content_types: dict[str, str] = {}
    members: dict[tuple[str, str], frozenset[str]] = {}  # what an operation's answer may hold

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        service, operation = self.boto3_service_name, self._get_action()
        if (
            not isinstance(result, dict)
            or isinstance(action_result, PaginatedResult)
            or operation not in FAST_ANSWERS.get(service, ())
        ):
            return moto_serialized(self, action_result)
        if (service, operation) not in members:
            model = get_service_model(service)
            content_types[service] = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
            output = model.operation_model(operation).output_shape
            members[service, operation] = frozenset(output.members if output is not None else ())
        headers = {"Content-Type": content_types[service], **self.response_headers}
        # moto's handlers add what the answer's shape has no place for (the serializer leaves it out).
        shaped = {name: value for name, value in result.items() if name in members[service, operation]}
        answer = (200, headers, json.dumps(shaped, default=_timestamp, separators=(",", ":")))
        if verify_answers:
            status, moto_headers, body = moto_serialized(self, action_result)
            answers_verified[f"{service}.{operation}"] += 1
            if (status, dict(moto_headers), json.loads(body)) != (200, headers, json.loads(answer[2])):
                answer_differences.append(f"{service}.{operation}: {body!r} != {answer[2]}")
        return answer

    setattr(BaseResponse, "serialized", serialized)  # noqa: B010


def install() -> None:
    global _installed
    if _installed:
        return
    import functools

    import jsonpath_ng.ext
    import moto.backends
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules

    moto_query = Table.query
    signature = inspect.signature(moto_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        index_name = arguments.get("index_name")
        if index_name is None and hash_key is not None and self.range_key_attr:
            return moto_query(_Partition(self, hash_key), *args, **kwargs)  # type: ignore[arg-type]
        attribute = _index_partition_key(self, index_name) if index_name else None
        conditions = dict(arguments.get("hash_key_conditions") or [])
        if attribute is not None and attribute in conditions:
            items = _IndexBuckets.of(self).candidates(attribute, conditions[attribute])
            return moto_query(_IndexPartition(self, items), *args, **kwargs)  # type: ignore[arg-type]
        return moto_query(self, *args, **kwargs)

    setattr(Table, "query", query)  # noqa: B010

    moto_put_item = Table.put_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = moto_put_item(self, *args, **kwargs)
        _IndexBuckets.of(self).add(item)
        return item

    setattr(Table, "put_item", put_item)  # noqa: B010

    moto_update_item = DynamoDBBackend.update_item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # moto changes the stored item in place (after a Put of its key when it is new): whatever happens,
        # the item as the table now holds it is in the buckets of its values.
        try:
            return moto_update_item(self, table_name, key, *args, **kwargs)
        finally:
            # A key moto refused (its error is the answer) names no item to add.
            with contextlib.suppress(Exception):
                table = self.get_table(table_name)
                item = table.get_item(*self.get_keys_value(table, key))
                if item is not None:
                    _IndexBuckets.of(table).add(item)

    setattr(DynamoDBBackend, "update_item", update_item)  # noqa: B010
    _install_fast_answers()
    _installed = True
