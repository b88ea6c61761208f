"""Make the local endpoint (moto) answer faster, never differently.

Four costs of moto 5.2 grow with nothing DynamoDB pays for and would push a bench over thousands of
records past its time budget, and slow `crm dev` down as local data grows:

- every request to the moto server lists moto's package folder (``list_of_moto_modules``) to find the
  service; the folder does not change while the process runs, so it is listed once;
- a Query walks every item of the table to find one partition, of the table or of a global secondary
  index (moto keeps no index), sorts the partition and walks it to the page's start; a Scan sorts the whole
  table for each page and walks it to the page's start: their time grows with the table (a tenant's list
  page, or a migration's pass over the table), where DynamoDB's grows with the page. This keeps each order
  moto reads in (a table's partitions, an index's partitions, the whole table for a Scan: ``_Orders``),
  built on its first read and kept in step by every write, each item with its sort key (the values moto
  compares, in moto's order of attributes, the table's key breaking ties); a page's first item is found
  by bisect (after the ExclusiveStartKey, at the range condition's bound, either direction) and moto's own
  query or scan is handed only the window a page can walk: the items up to the Limit-th that meets the
  key condition, and the one after it, where moto stops and sets LastEvaluatedKey. moto then reads
  them as it reads the whole table (its own key check, sort, paging, Limit, size cap, filters,
  projection, segments), so the answers are moto's: tests/integration/test_local_endpoint_pages.py reads
  a random run of writes both ways (``fast_reads``) and compares every page. A read with no Limit is
  handed all that meets its key condition; one this module cannot bound (a legacy QueryFilter, a start
  key of other types, a local index), the whole partition, or moto reads the whole table.

- every answer of DynamoDB and its stream is written by moto's generic serializer, which walks the
  operation's output shape for every attribute value of every item (10 ms for one GetItem; most of the
  local endpoint's time). Those answers are already DynamoDB JSON, made of JSON's own types (and a stream
  record's timestamp): the answers of the operations the CRM calls most are dumped as they are, in the
  form moto's serializer gives them (``FAST_ANSWERS``). With ``verify_answers`` on, each is also made by
  moto's serializer and any difference noted in ``answer_differences`` (tests/integration/
  test_local_endpoint_speed.py runs the CRM's calls so).

- every event a rule delivers is shaped by moto's input template, which parses the same eight JSONPath
  expressions anew (building a parser each time: about 30 ms an event and target); the parsed expressions
  are kept (``jsonpath_ng`` expressions are not changed by ``find``).

- every message sent to a queue reads the queue's attributes to learn whether it deduplicates by content,
  and moto builds all of them for that, counting the queue's messages three times over: a send's time
  grows with the queue (a queue the relay fills faster than its consumer drains, as the webhook fan-out of
  a 100,000-row import's events, makes the sends quadratic). While a message is sent, the attributes a
  queue answers are the one the send reads (``ContentBasedDeduplication``, of a FIFO queue; a standard
  queue has none); every other reader gets them all, as moto builds them.

- every item moto builds from a request (a put, each item of a batch or a transaction) is checked against
  DynamoDB's 400 KB attribute by attribute (``LimitedSizeDict``), and each check sums the size of every
  attribute set before it again, walking each nested map and list: quadratic in the item's attributes (a
  record with its index keys, envelope and data: about 40), and most of a write's time on the endpoint
  (issue 14's import profile: 52 of 122 s of moto's work). A new item is built with the same check at
  each attribute, its size so far kept as it grows (``_install_linear_item_sizes``): the same item, or
  the same ``ItemSizeTooLarge`` at the same attribute. An item's later changes (an update) are checked as
  moto checks them.

"""

from __future__ import annotations

import bisect
import contextlib
import functools
import inspect
import threading
from collections import Counter
from typing import Any

# moto's cap on a page of Query or Scan (moto.dynamodb.models.table.RESULT_SIZE_LIMIT, checked in install).
RESULT_SIZE_LIMIT = 1_000_000

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
# False: Query and Scan read as moto alone does (the writes keep the orders up to date all the same), so a
# test can ask the same of both.
fast_reads = True
# How Query and Scan were answered, by (table name, "query.page" | "query.partition" | "query.table" |
# "scan.page" | "scan.table"): a page's window, a whole partition, or moto's whole table.
reads: Counter[tuple[str, str]] = Counter()
read_errors: list[str] = []  # what made a read fall back to moto's whole table unexpectedly


def _bucket_key(value: Any) -> Any:
    """A key attribute's value as a dict key (a number by its value: DynamoDB's 1 and 1.0 are one key)."""
    return (value.type, value.cast_value if value.type == "N" else value.value)


class _Run:
    """Items of one partition (or of the whole table) in the order moto sorts them, each with its sort key:
    the cast values of the attributes moto sorts by (moto compares key values by their cast value), in one
    list of (key, item) pairs so a bisect finds a page's start."""

    def __init__(self) -> None:
        self.pairs: list[tuple[tuple[Any, ...], Any]] = []

    def insert(self, key: tuple[Any, ...], item: Any) -> None:
        pairs = self.pairs
        at = bisect.bisect_left(pairs, key, key=_first)
        if at < len(pairs) and pairs[at][0] == key:
            pairs[at] = (key, item)  # the key holds one item: the one a write left there
        else:
            pairs.insert(at, (key, item))

    def remove(self, key: tuple[Any, ...], item: Any) -> None:
        pairs = self.pairs
        at = bisect.bisect_left(pairs, key, key=_first)
        if at < len(pairs) and pairs[at][0] == key and pairs[at][1] is item:
            del pairs[at]


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _second_of_key(pair: tuple[tuple[Any, ...], Any]) -> Any:
    return pair[0][1]


class _Order:
    """One order moto reads a table's items in: its sort attributes (``attrs``, as moto's
    ``_generate_attr_to_sort_by`` makes them), the attributes an item needs to be in it (an index's key),
    and whether it is split into partitions by its first attribute (a query's) or whole (a scan's)."""

    def __init__(self, attrs: tuple[str, ...], required: tuple[str, ...], partitioned: bool) -> None:
        self.attrs = attrs
        self.required = required
        self.partitioned = partitioned
        self.runs: dict[Any, _Run] = {}

    def entry(self, item: Any) -> tuple[Any, tuple[Any, ...]] | None:
        """The item's (partition, sort key) in this order, None when the order leaves it out."""
        values = item.attrs
        for name in self.required:
            if values.get(name) is None:
                return None
        key = tuple(values[name].cast_value for name in self.attrs)
        return (_bucket_key(values[self.attrs[0]]) if self.partitioned else None), key

    def add(self, item: Any, entry: tuple[Any, tuple[Any, ...]] | None) -> None:
        if entry is not None:
            run = self.runs.get(entry[0])
            if run is None:
                run = self.runs[entry[0]] = _Run()
            run.insert(entry[1], item)

    def remove(self, item: Any, entry: tuple[Any, tuple[Any, ...]] | None) -> None:
        if entry is not None and entry[0] in self.runs:
            self.runs[entry[0]].remove(entry[1], item)

    def build(self, items: list[Any]) -> None:
        pairs: dict[Any, list[tuple[tuple[Any, ...], Any]]] = {}
        for item in items:
            entry = self.entry(item)
            if entry is not None:
                pairs.setdefault(entry[0], []).append((entry[1], item))
        for partition, unsorted in pairs.items():
            run = self.runs[partition] = _Run()
            run.pairs = sorted(unsorted, key=_first)


class _Orders:
    """The orders queried or scanned so far on one table, kept in step by every write (``replaced``).

    Kept in the table object's ``__dict__``. moto deep-copies a table before each transaction and puts the
    copy back when it cancels one: the copy starts with no orders (``__deepcopy__``), built again on the
    next read, rather than copying them on every transaction."""

    def __init__(self) -> None:
        self.by_name: dict[Any, _Order] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> _Orders:
        return _Orders()

    @staticmethod
    def of(table: Any) -> _Orders:
        orders = table.__dict__.get("_crm_orders")
        if orders is None:
            orders = table.__dict__["_crm_orders"] = _Orders()
        return orders

    def order(
        self, table: Any, name: Any, attrs: tuple[str, ...], required: tuple[str, ...], partitioned: bool
    ) -> _Order:
        order = self.by_name.get(name)
        if order is None or order.attrs != attrs:
            order = _Order(attrs, required, partitioned)
            order.build(_stored_items(table))
            self.by_name[name] = order
        return order

    def entries(self, item: Any) -> list[tuple[_Order, Any]]:
        return [(order, order.entry(item)) for order in self.by_name.values()]

    def replaced(self, table: Any, old: Any, old_entries: list[tuple[_Order, Any]] | None, new: Any) -> None:
        """A write took ``old`` (with its entries as they were before the write) out of the table and left
        ``new`` (either may be None, or both the same item changed in place)."""
        try:
            for order in self.by_name.values():
                before = None
                if old is not None:
                    before = dict(old_entries).get(order) if old_entries is not None else order.entry(old)
                after = order.entry(new) if new is not None else None
                if old is new and before == after:
                    continue
                if old is not None:
                    order.remove(old, before)
                if new is not None:
                    order.add(new, after)
        except Exception:
            # A key value moto's own sort could not compare either: the orders are built again when read.
            table.__dict__.pop("_crm_orders", None)


def _stored_items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def _is_current(table: Any, item: Any) -> bool:
    stored = table.items.get(item.hash_key)
    if table.range_key_attr:
        return isinstance(stored, dict) and stored.get(item.range_key) is item
    return stored is item


# The key conditions a page's window is found for by bisect; moto's own check runs on the window too.
_RANGE_CONDITIONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
# What a page may still add once its items are found: moto stops a page at 1 MB, counted on every item it
# walks past, and an item holds at most about 405 KB (moto's LimitedSizeDict).
_LARGEST_ITEM = 450_000


def _ordered_query(table: Any, arguments: dict[str, Any]) -> tuple[_Order, Any] | None:
    """The order and partition moto's query reads (None: one this module does not keep)."""
    index_name = arguments.get("index_name")
    if index_name is None:
        hash_key = arguments.get("hash_key")
        if hash_key is None or not table.range_key_attr:
            return None
        names = (table.hash_key_attr, table.range_key_attr)
        return _Orders.of(table).order(table, None, names, names, True), _bucket_key(hash_key)
    if arguments.get("consistent_read"):
        return None  # moto refuses it on a global index
    index = next((index for index in table.global_indexes if index.name == index_name), None)
    if index is None:
        return None
    hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    range_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    conditions = dict(arguments.get("hash_key_conditions") or [])
    if len(hash_keys) != 1 or len(range_keys) > 1 or set(conditions) != set(hash_keys):
        return None
    # The attributes moto sorts an index's items by, made as its query makes them.
    if range_keys:
        range_attrs: list[str | None] = [range_keys[0], table.range_key_attr]
    else:
        range_attrs = [table.range_key_attr or table.hash_key_attr, table.range_key_attr]
    attrs = tuple(table._generate_attr_to_sort_by([hash_keys[0], table.hash_key_attr], range_attrs))
    order = _Orders.of(table).order(table, index_name, attrs, (hash_keys[0], *range_keys), True)
    return order, _bucket_key(conditions[hash_keys[0]])


def _valid(table: Any, order: _Order, pair: tuple[tuple[Any, ...], Any]) -> bool:
    key, item = pair
    if not _is_current(table, item):
        return False
    entry = order.entry(item)
    return entry is not None and entry[1] == key


def _current(table: Any, order: _Order, run: _Run) -> list[Any]:
    """The run's items that are still the table's (every one, if the write hooks missed nothing)."""
    stale = [pair for pair in run.pairs if not _valid(table, order, pair)]
    for pair in stale:
        run.remove(pair[0], pair[1])
    return [item for _, item in run.pairs]


def _start_key(table: Any, order: _Order, start: Any) -> tuple[Any, ...] | None:
    """An ExclusiveStartKey as a sort key of the order (None: one moto compares otherwise, or refuses)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    types = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
    if not isinstance(start, dict):
        return None
    values = []
    for name in order.attrs:
        value = start.get(name)
        if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) == types.get(name)):
            return None
        values.append(DynamoType(value).cast_value)
    return tuple(values)


def _range_bounds(pairs: list[Any], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """The slice of a partition's pairs whose range key meets the key condition (sorted by it: the
    partition key is the same in all)."""
    if comparison is None:
        return 0, len(pairs)
    left = functools.partial(bisect.bisect_left, pairs, key=_second_of_key)
    right = functools.partial(bisect.bisect_right, pairs, key=_second_of_key)
    if comparison == "=":
        return left(values[0]), right(values[0])
    if comparison == "<":
        return 0, left(values[0])
    if comparison == "<=":
        return 0, right(values[0])
    if comparison == ">":
        return right(values[0]), len(pairs)
    if comparison == ">=":
        return left(values[0]), len(pairs)
    if comparison == "BETWEEN":
        low = left(values[0])
        return low, max(low, right(values[1]))
    prefix = values[0]  # BEGINS_WITH: the values with the prefix follow the prefix itself
    if not isinstance(prefix, (str, bytes)):
        raise TypeError(prefix)
    low = left(prefix)
    high, end = low, len(pairs)
    while high < end:  # the first one after them
        middle = (high + end) // 2
        if pairs[middle][0][1].startswith(prefix):
            high = middle + 1
        else:
            end = middle
    return low, high


def _pageable(order: _Order, arguments: dict[str, Any]) -> bool:
    """Whether a page of this query can be bounded (its window found by bisect)."""
    limit = arguments.get("limit")
    if arguments.get("filter_kwargs") or not (limit is None or (type(limit) is int and limit > 0)):
        return False
    comparison = arguments.get("range_comparison")
    conditions = arguments.get("range_key_conditions") or []
    if comparison is None:
        return not conditions
    if comparison not in _RANGE_CONDITIONS or len(conditions) != 1:
        return False
    name, condition, _ = conditions[0]
    # The range key is the order's second attribute; an index without one has none (moto refuses).
    if condition != comparison or len(order.attrs) < 2:
        return False
    return name == order.attrs[1] and name in order.required


def _query_window(table: Any, order: _Order, run: _Run, arguments: dict[str, Any]) -> list[Any] | None:
    """The items moto's query walks for the page asked, in order: after the ExclusiveStartKey, from the
    first that meets the range condition to the Limit-th that does, and the one after it (where moto stops
    and sets LastEvaluatedKey). None when the page cannot be bounded so."""
    if not _pageable(order, arguments):
        return None
    forward = arguments.get("scan_index_forward") is not False
    values = [value.cast_value for value in arguments.get("range_objs") or []]
    pairs = run.pairs
    low, high = _range_bounds(pairs, arguments.get("range_comparison"), values)
    start = arguments.get("exclusive_start_key")
    if start is not None:
        start_key = _start_key(table, order, start)
        if start_key is None:
            return None
        if forward:
            low = max(low, bisect.bisect_right(pairs, start_key, key=_first))
        else:
            high = min(high, bisect.bisect_left(pairs, start_key, key=_first))
    limit = arguments.get("limit")
    step = 1 if forward else -1
    at, end = (low, high) if forward else (high - 1, low - 1)
    window: list[Any] = []
    stale: list[tuple[tuple[Any, ...], Any]] = []
    while at != end and (limit is None or len(window) < limit):
        (window if _valid(table, order, pairs[at]) else stale).append(pairs[at])
        at += step
    if limit is not None and len(window) == limit:
        # The next item, whether it meets the condition or not: moto stops there.
        while 0 <= at < len(pairs):
            if _valid(table, order, pairs[at]):
                window.append(pairs[at])
                break
            stale.append(pairs[at])
            at += step
    elif sum(item.size() for _, item in window) > RESULT_SIZE_LIMIT - _LARGEST_ITEM:
        return None  # moto could stop on the size of an item past the condition's
    for key, item in stale:
        run.remove(key, item)
    return [item for _, item in window]


def _scan_window(table: Any, arguments: dict[str, Any]) -> list[Any] | None:
    """The items moto's scan walks for the page asked, in its order (the table's primary key): those of the
    segment after the ExclusiveStartKey, up to one past the Limit."""
    limit = arguments.get("limit")
    if arguments.get("index_name") is not None or arguments.get("filters"):
        return None
    if not (limit is None or (type(limit) is int and limit > 0)):
        return None
    names = tuple(name for name in (table.hash_key_attr, table.range_key_attr) if name)
    order = _Orders.of(table).order(table, "scan", names, names, False)
    run = order.runs.get(None) or _Run()
    pairs = run.pairs
    at = 0
    start = arguments.get("exclusive_start_key")
    if start is not None:
        start_key = _start_key(table, order, start)
        if start_key is None:
            return None
        at = bisect.bisect_right(pairs, start_key, key=_first)
    segments = arguments.get("segments", (None, None))
    window: list[Any] = []
    stale: list[tuple[tuple[Any, ...], Any]] = []
    while at < len(pairs) and (limit is None or len(window) <= limit):
        pair = pairs[at]
        if not _valid(table, order, pair):
            stale.append(pair)
        elif pair[1].is_within_segment(segments):
            window.append(pair[1])
        at += 1
    for key, item in stale:
        run.remove(key, item)
    return window


class _Items:
    """The table, seen through some of its items (what moto's query or scan walks)."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


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


def _install_ordered_reads(table_class: Any) -> None:
    from moto.dynamodb.models import table as moto_table

    if moto_table.RESULT_SIZE_LIMIT != RESULT_SIZE_LIMIT:
        raise RuntimeError("moto's page size changed: check crm_local.moto_speed's windows against it")
    moto_query, moto_scan = table_class.query, table_class.scan
    query_signature, scan_signature = inspect.signature(moto_query), inspect.signature(moto_scan)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not fast_reads:
            return moto_query(self, *args, **kwargs)
        try:
            arguments = query_signature.bind(self, *args, **kwargs).arguments
            ordered = _ordered_query(self, arguments)
            if ordered is None:
                reads[self.name, "query.table"] += 1
                return moto_query(self, *args, **kwargs)
            order, partition = ordered
            run = order.runs.get(partition) or _Run()
            items = _query_window(self, order, run, arguments)
            if items is None:
                reads[self.name, "query.partition"] += 1
                items = _current(self, order, run)
            else:
                reads[self.name, "query.page"] += 1
        except Exception as error:  # moto's own query answers (or refuses) as it would
            read_errors.append(f"Query: {error!r}")
            return moto_query(self, *args, **kwargs)
        return moto_query(_Items(self, items), *args, **kwargs)

    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not fast_reads:
            return moto_scan(self, *args, **kwargs)
        try:
            items = _scan_window(self, scan_signature.bind(self, *args, **kwargs).arguments)
        except Exception as error:  # as in query
            read_errors.append(f"Scan: {error!r}")
            items = None
        if items is None:
            reads[self.name, "scan.table"] += 1
            return moto_scan(self, *args, **kwargs)
        reads[self.name, "scan.page"] += 1
        return moto_scan(_Items(self, items), *args, **kwargs)

    setattr(table_class, "query", query)  # noqa: B010
    setattr(table_class, "scan", scan)  # noqa: B010


def _install_write_hooks(table_class: Any, backend_class: Any) -> None:
    """Every write keeps the orders read so far in step (moto's writes all go through these three)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_put_item, moto_delete_item = table_class.put_item, table_class.delete_item

    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        orders = self.__dict__.get("_crm_orders")
        replaced = None
        if orders is not None:
            with contextlib.suppress(Exception):  # moto refuses what has no key, below
                range_key = DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None
                replaced = self.get_item(DynamoType(item_attrs[self.hash_key_attr]), range_key)
        item = moto_put_item(self, item_attrs, *args, **kwargs)
        if orders is not None:
            orders.replaced(self, replaced, None, item)
        return item

    def delete_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = moto_delete_item(self, *args, **kwargs)
        orders = self.__dict__.get("_crm_orders")
        if orders is not None and item is not None:
            orders.replaced(self, item, None, None)
        return item

    moto_update_item = backend_class.update_item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # moto changes the stored item in place (after a Put of its key when it is new, which leaves it in
        # each order where it has an entry with its key alone: no update can change that entry), so its
        # entries are taken before.
        before = None
        with contextlib.suppress(Exception):  # a table or key moto refuses (its error is the answer)
            table = self.get_table(table_name)
            orders = table.__dict__.get("_crm_orders")
            if orders is not None:
                item = table.get_item(*self.get_keys_value(table, key))
                before = (table, orders, item, orders.entries(item) if item is not None else None)
        try:
            return moto_update_item(self, table_name, key, *args, **kwargs)
        finally:
            if before is not None:
                table, orders, item, entries = before
                with contextlib.suppress(Exception):
                    updated = table.get_item(*self.get_keys_value(table, key))
                    orders.replaced(table, item, entries, updated)

    setattr(table_class, "put_item", put_item)  # noqa: B010
    setattr(table_class, "delete_item", delete_item)  # noqa: B010
    setattr(backend_class, "update_item", update_item)  # noqa: B010


def install() -> None:
    global _installed
    if _installed:
        return
    import jsonpath_ng.ext
    import moto.backends
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules

    _install_ordered_reads(Table)
    _install_write_hooks(Table, DynamoDBBackend)
    _install_fast_answers()
    _install_cheap_sends()
    _install_linear_item_sizes()
    _installed = True


# moto's limit on an item's size (LimitedSizeDict.__setitem__, checked in _install_linear_item_sizes).
ITEM_SIZE_LIMIT = 405000


def _install_linear_item_sizes() -> None:
    """A new item built with moto's size check at each attribute, its size so far kept (see above)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    moto_check = inspect.getsource(LimitedSizeDict.__setitem__)
    if f"> {ITEM_SIZE_LIMIT}" not in moto_check or "bytesize(key)" not in moto_check:
        raise RuntimeError("moto's item size check changed: look at crm_local/moto_speed.py again")

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        size = 0  # what LimitedSizeDict.__setitem__ sums: each key's bytes and each value's size
        for key, value in attrs.items():
            typed = DynamoType(value)
            added = bytesize(key) + typed.size()
            if size + added > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)
            size += added

    moto_item_init.append(Item.__init__)
    setattr(Item, "__init__", __init__)  # noqa: B010


moto_item_init: list[Any] = []  # moto's own Item.__init__, once replaced (for the tests to compare)


def _install_cheap_sends() -> None:
    """A send reads only whether the queue deduplicates by content (see above)."""
    from moto.sqs.models import Queue, SQSBackend

    sending = threading.local()
    full_attributes: Any = vars(Queue)["attributes"].fget  # moto's property

    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(sending, "depth", 0):
            return full_attributes(self)
        if not self.fifo_queue:
            return {}
        value = getattr(self, "content_based_deduplication", False)
        return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}

    def while_sending(method: Any) -> Any:
        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> Any:
            sending.depth = getattr(sending, "depth", 0) + 1
            try:
                return method(*args, **kwargs)
            finally:
                sending.depth -= 1

        return run

    setattr(Queue, "attributes", property(attributes))  # noqa: B010
    setattr(Queue, "add_message", while_sending(Queue.add_message))  # noqa: B010
    setattr(SQSBackend, "send_message", while_sending(SQSBackend.send_message))  # noqa: B010
