"""Counting the AWS calls a request makes, in process, by wrapping botocore's one door to the wire.

Every botocore client (pynamodb makes its own session and client per Connection; crm_core.aws makes
boto3 clients for the idempotency utility and Secrets Manager) sends each operation through
``BaseClient._make_api_call``. The recorder replaces that method for the bench process only, and while a
measurement is open it counts each DynamoDB operation by name, and every other service's operations
apart (so a Secrets Manager fetch or an authorizer call that was not warmed would show).

Only calls made while the local gateway serves a request are counted (the gateway's WSGI app is wrapped
to mark its threads), so the outbox relay's polling never lands in a measurement. Capacity units are
computed from the items read and written (see ``bench.capacity``); the recorder reads the items before
and after a write through its own client, with counting switched off for those reads.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from bench.capacity import IndexKeys, Item, Units, item_size, read_units, write_cost

_local = threading.local()
# Set while the local gateway serves a request: a context variable, so the threads a request's work runs
# in with a copy of its context (a batch's inputs) are counted as the request's too.
_serving: ContextVar[bool] = ContextVar("bench_serving", default=False)
_ORIGINAL: Callable[..., Any] = getattr(BaseClient, "_make_api_call")  # noqa: B009
_active: DynamoRecorder | None = None
_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


@dataclass
class Measurement:
    calls: Counter[str] = field(default_factory=Counter)  # DynamoDB operation -> count
    other_calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> count
    units: Units = field(default_factory=Units)
    moto_reported_units: float = 0.0  # what the endpoint said in ConsumedCapacity (placeholders on moto)
    seconds: float = 0.0
    # The rate limiter's amortized UpdateItem (one per ten requests per container, crm_core.rate_limits):
    # counted apart, so that a row's calls do not depend on where it fell in that cycle.
    rate_limit_syncs: int = 0
    # The authorizer's own calls and units (on every request: no cache, docs/decisions/0009): counted
    # apart, they are the same for every endpoint.
    authorizer_calls: int = 0  # its reads
    authorizer_writes: int = 0  # an API key's last use, written at most once a minute
    authorizer_units: Units = field(default_factory=Units)
    # Items the request's Queries evaluated (ScannedCount), apart from a list's count shards: with the
    # items a page returned, a list's read efficiency.
    items_read: int = 0
    # Outbox events the request committed, by type: each sets the event platform going (bench.cost).
    events: Counter[str] = field(default_factory=Counter)
    # Write units (table + indexes) by the kind of item written (bench.recorder.item_kind): where they go.
    write_units_by_item: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # CPU time of the gateway's request thread, which runs the handler (moto answers in threads of its
    # own): what the function itself computes, for the cost model's Lambda duration.
    handler_cpu_ms: float = 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "dynamodb_calls": dict(sorted(self.calls.items())),
            "dynamodb_calls_total": self.total_calls,
            "rate_limit_syncs": self.rate_limit_syncs,
            "authorizer_calls": self.authorizer_calls,
            "authorizer_writes": self.authorizer_writes,
            "authorizer_rcu": self.authorizer_units.read,
            "authorizer_wcu": self.authorizer_units.write_table + self.authorizer_units.write_index,
            "items_read": self.items_read,
            "events": dict(sorted(self.events.items())),
            "handler_cpu_ms": round(self.handler_cpu_ms, 2),
            "write_units_by_item": {
                k: round(v, 2) for k, v in sorted(self.write_units_by_item.items(), key=lambda kv: -kv[1])
            },
            "other_aws_calls": dict(sorted(self.other_calls.items())),
            "rcu": self.units.read,
            "wcu_table": self.units.write_table,
            "wcu_index": self.units.write_index,
            "wcu": self.units.write_table + self.units.write_index,
            "moto_reported_capacity_units": self.moto_reported_units,
            "seconds": round(self.seconds, 4),
        }


@contextmanager
def _uncounted() -> Iterator[None]:
    previous = getattr(_local, "uncounted", False)
    _local.uncounted = True
    try:
        yield
    finally:
        _local.uncounted = previous


def _is_rate_limit_sync(operation: str, params: dict[str, Any]) -> bool:
    """The rate limit's window sync (crm_core.rate_limits) or the concurrency share's (crm_core.concurrency):
    one UpdateItem per container every few requests, counted apart from the request's own calls."""
    partition = (params.get("Key") or {}).get("PK", {}).get("S", "")
    return operation == "UpdateItem" and str(partition).endswith(("#ratelimit", "#busy"))


def _is_count_query(params: dict[str, Any]) -> bool:
    """A Query of a type's count shards (a list's total), which reads no records."""
    values = params.get("ExpressionAttributeValues") or {}
    return any(str(value.get("S", "")).endswith("#count") for value in values.values())


def _patched_make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    recorder = _active
    if recorder is None or getattr(_local, "uncounted", False) or not recorder.counts_this_thread():
        return _ORIGINAL(client, operation_name, api_params)
    if getattr(_local, "authorizing", False):
        return recorder.observe_authorizer(client, operation_name, api_params)
    return recorder.observe(client, operation_name, api_params)


@dataclass(frozen=True)
class _TableShape:
    keys: tuple[str, ...]
    indexes: tuple[IndexKeys, ...]


class DynamoRecorder:
    """Install once per process (``install``), then wrap each request in ``measure()``."""

    def __init__(self, endpoint_url: str | None = None, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._current: Measurement | None = None
        self._lock = threading.Lock()
        self._owner_thread = threading.get_ident()
        self._server: Any = None
        self._wrapped_app: Any = None
        self._shapes: dict[str, _TableShape] = {}
        self._side_client: Any = None

    # ------------------------------------------------------------------------------- installation

    def install(self, runtime: Any = None) -> DynamoRecorder:
        """Patch botocore for this process and, given a LocalRuntime, mark its gateway's threads."""
        global _active
        if _active is not None and _active is not self:
            raise RuntimeError("another DynamoRecorder is installed")
        _active = self
        self._owner_thread = threading.get_ident()
        setattr(BaseClient, "_make_api_call", _patched_make_api_call)  # noqa: B010
        server = getattr(runtime, "_server", None) if runtime is not None else None
        if server is not None and getattr(server, "app", None) is not None:
            original_app = server.app

            def marked_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
                token = _serving.set(True)
                started = time.thread_time()
                try:
                    return original_app(environ, start_response)
                finally:
                    _serving.reset(token)
                    self._add_cpu(time.thread_time() - started)

            self._server, self._wrapped_app = server, original_app
            server.app = marked_app
            authorize = getattr(original_app, "_authorize", None)
            if authorize is not None:

                def marked_authorize(*args: Any, **kwargs: Any) -> Any:
                    _local.authorizing = True
                    try:
                        return authorize(*args, **kwargs)
                    finally:
                        _local.authorizing = False

                original_app._authorize = marked_authorize
        return self

    def uninstall(self) -> None:
        global _active
        if self._server is not None:
            self._wrapped_app.__dict__.pop("_authorize", None)
            self._server.app = self._wrapped_app
            self._server = self._wrapped_app = None
        if _active is self:
            setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
            _active = None

    def _add_cpu(self, seconds: float) -> None:
        measurement = self._current
        if measurement is not None:
            with self._lock:
                measurement.handler_cpu_ms += seconds * 1000

    def counts_this_thread(self) -> bool:
        if self._current is None:
            return False
        if _serving.get() or threading.get_ident() == self._owner_thread:
            return True
        # Without a gateway to mark (service calls made in process), count everything but the relay.
        return self._server is None and threading.current_thread().name != "outbox-relay"

    @contextmanager
    def measure(self) -> Iterator[Measurement]:
        measurement = Measurement()
        self._current = measurement
        started = time.perf_counter()
        try:
            yield measurement
        finally:
            measurement.seconds = time.perf_counter() - started
            self._current = None

    # --------------------------------------------------------------------------------- observing

    def observe_authorizer(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        measurement = self._current
        if measurement is None or client.meta.service_model.service_name != "dynamodb":
            return _ORIGINAL(client, operation, params)
        before = self._items_before(operation, params)
        response = _ORIGINAL(client, operation, params)
        units = self._units(operation, params, response, before, applied=True, by_item=defaultdict(float))
        with self._lock:
            if operation in _WRITES:
                measurement.authorizer_writes += 1
            else:
                measurement.authorizer_calls += 1
            measurement.authorizer_units.add(units)
        return response

    def observe(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        measurement = self._current
        service = client.meta.service_model.service_name
        if measurement is None:
            return _ORIGINAL(client, operation, params)
        if service != "dynamodb":
            with self._lock:
                measurement.other_calls[f"{service}.{operation}"] += 1
            return _ORIGINAL(client, operation, params)
        if _is_rate_limit_sync(operation, params):
            with self._lock:
                measurement.rate_limit_syncs += 1
            return _ORIGINAL(client, operation, params)
        with self._lock:
            measurement.calls[operation] += 1
        before = self._items_before(operation, params)
        by_item: defaultdict[str, float] = defaultdict(float)
        try:
            response = _ORIGINAL(client, operation, params)
        except Exception:
            units = self._units(operation, params, None, before, applied=False, by_item=by_item)
            with self._lock:
                measurement.units.add(units)
                _add_up(measurement.write_units_by_item, by_item)
            raise
        units = self._units(operation, params, response, before, applied=True, by_item=by_item)
        with self._lock:
            measurement.units.add(units)
            _add_up(measurement.write_units_by_item, by_item)
            measurement.events.update(_outbox_events(operation, params, response))
            measurement.moto_reported_units += _reported_units(response)
            if operation == "Query" and not _is_count_query(params):
                measurement.items_read += int(response.get("ScannedCount", len(response.get("Items", []))))
        return response

    # ------------------------------------------------------------------------- side reads (uncounted)

    def _client(self) -> Any:
        if self._side_client is None:
            import botocore.session

            self._side_client = botocore.session.get_session().create_client(
                "dynamodb", region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._side_client

    def _shape(self, table: str) -> _TableShape:
        if table not in self._shapes:
            with _uncounted():
                description = self._client().describe_table(TableName=table)["Table"]

            def schema_keys(schema: list[dict[str, str]]) -> list[str]:
                order = {"HASH": 0, "RANGE": 1}
                return [k["AttributeName"] for k in sorted(schema, key=lambda k: order[k["KeyType"]])]

            table_keys = tuple(schema_keys(description["KeySchema"]))
            indexes = []
            for index in description.get("GlobalSecondaryIndexes", []):
                names = schema_keys(index["KeySchema"])
                indexes.append(
                    IndexKeys(
                        index["IndexName"],
                        names[0],
                        names[1] if len(names) > 1 else None,
                        projection=index.get("Projection", {}).get("ProjectionType", "ALL"),
                        table_keys=table_keys,
                    )
                )
            self._shapes[table] = _TableShape(table_keys, tuple(indexes))
        return self._shapes[table]

    def _key(self, table: str, item_or_key: Item) -> tuple[str, ...]:
        return tuple(repr(item_or_key.get(name)) for name in self._shape(table).keys)

    def _fetch(self, wanted: list[tuple[str, Item]]) -> dict[tuple[str, tuple[str, ...]], Item]:
        """The current items at these (table, key) positions, read consistently and not counted."""
        found: dict[tuple[str, tuple[str, ...]], Item] = {}
        by_table: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
        for table, item_or_key in wanted:
            key = {name: item_or_key[name] for name in self._shape(table).keys}
            by_table.setdefault(table, {})[self._key(table, key)] = key
        with _uncounted():
            for table, keys in by_table.items():
                key_list = list(keys.values())
                for start in range(0, len(key_list), 100):
                    request = {table: {"Keys": key_list[start : start + 100], "ConsistentRead": True}}
                    while request:
                        response = self._client().batch_get_item(RequestItems=request)
                        for item in response.get("Responses", {}).get(table, []):
                            found[(table, self._key(table, item))] = item
                        request = response.get("UnprocessedKeys") or {}
        return found

    def _write_targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, Item]]:
        if operation == "PutItem":
            return [(params["TableName"], params["Item"])]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"])]
        if operation == "TransactWriteItems":
            targets = []
            for entry in params.get("TransactItems", []):
                kind, body = next(iter(entry.items()))
                targets.append((body["TableName"], body["Item"] if kind == "Put" else body["Key"]))
            return targets
        if operation == "BatchWriteItem":
            targets = []
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        targets.append((table, request["PutRequest"]["Item"]))
                    else:
                        targets.append((table, request["DeleteRequest"]["Key"]))
            return targets
        return []

    def _items_before(
        self, operation: str, params: dict[str, Any]
    ) -> dict[tuple[str, tuple[str, ...]], Item]:
        targets = self._write_targets(operation, params)
        return self._fetch(targets) if targets else {}

    # --------------------------------------------------------------------------------- capacity

    def _units(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any] | None,
        before: dict[tuple[str, tuple[str, ...]], Item],
        *,
        applied: bool,
        by_item: defaultdict[str, float],
    ) -> Units:
        units = Units()
        if operation == "GetItem":
            size = item_size((response or {}).get("Item"))
            units.read = read_units(size, consistent=bool(params.get("ConsistentRead")))
        elif operation in ("Query", "Scan"):
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            evaluated = self._evaluated_items(operation, params, response)
            units.read = read_units(sum(item_size(i) for i in evaluated), consistent=consistent)
        elif operation == "BatchGetItem":
            units.read = self._batch_get_units(params, response or {})
        elif operation == "TransactGetItems":
            for result in (response or {}).get("Responses", []):
                units.read += 2 * read_units(item_size((result or {}).get("Item")), consistent=True)
        elif operation in _WRITES:
            units = self._write_units(operation, params, response, before, applied=applied, by_item=by_item)
        return units

    def _evaluated_items(
        self, operation: str, params: dict[str, Any], response: dict[str, Any] | None
    ) -> list[Item]:
        """The items a Query or Scan read: its answer, or (with a filter) the same page unfiltered."""
        if response is None:
            return []
        narrowed = any(p in params for p in ("FilterExpression", "ProjectionExpression", "Select"))
        if not narrowed:
            return list(response.get("Items", []))
        unfiltered = {
            k: v
            for k, v in params.items()
            if k not in ("FilterExpression", "ProjectionExpression", "Select", "ReturnConsumedCapacity")
        }
        used = " ".join(str(params.get(p, "")) for p in ("KeyConditionExpression",))
        for placeholder_map in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if placeholder_map in unfiltered:
                kept = {k: v for k, v in unfiltered[placeholder_map].items() if _mentions(used, k)}
                if kept:
                    unfiltered[placeholder_map] = kept
                else:
                    del unfiltered[placeholder_map]
        with _uncounted():
            side = self._client()
            answer = side.query(**unfiltered) if operation == "Query" else side.scan(**unfiltered)
        return list(answer.get("Items", []))

    def _batch_get_units(self, params: dict[str, Any], response: dict[str, Any]) -> float:
        total = 0.0
        for table, spec in params.get("RequestItems", {}).items():
            consistent = bool(spec.get("ConsistentRead"))
            found = {self._key(table, i): i for i in response.get("Responses", {}).get(table, [])}
            unprocessed = {
                self._key(table, k)
                for k in response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            }
            for key in spec.get("Keys", []):
                position = self._key(table, key)
                if position in unprocessed:
                    continue
                total += read_units(item_size(found.get(position)), consistent=consistent)
        return total

    def _write_units(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any] | None,
        before: dict[tuple[str, tuple[str, ...]], Item],
        *,
        applied: bool,
        by_item: defaultdict[str, float],
    ) -> Units:
        units = Units()
        transactional = operation == "TransactWriteItems"
        entries = _written_entries(operation, params, response, applied=applied)
        updated = [(table, key) for kind, table, key in entries if kind == "Update"]
        after = self._fetch(updated) if updated and applied else {}
        for kind, table, item_or_key in entries:
            position = (table, self._key(table, item_or_key))
            old = before.get(position)
            if kind == "ConditionCheck":
                check = (2 if transactional else 1) * write_cost((), old, old).write_table
                units.write_table += check
                by_item["condition check"] += check
                continue
            new: Item | None
            if kind == "Put":
                new = item_or_key
            elif kind == "Update":
                new = after.get(position, old)
            else:
                new = None
            indexes = self._shape(table).indexes
            cost = write_cost(indexes, old, new, transactional=transactional, applied=applied)
            units.add(cost)
            by_item[item_kind(new or old or item_or_key)] += cost.write_table + cost.write_index
        return units


def _written_entries(
    operation: str, params: dict[str, Any], response: dict[str, Any] | None, *, applied: bool
) -> list[tuple[str, str, Item]]:
    """What a write call writes, as (kind, table, item or key): a batch's unprocessed requests left out."""
    entries: list[tuple[str, str, Item]] = []
    if operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            kind, body = next(iter(entry.items()))
            entries.append((kind, body["TableName"], body["Item"] if kind == "Put" else body["Key"]))
    elif operation == "BatchWriteItem":
        unprocessed = (response or {}).get("UnprocessedItems", {}) if applied else {}
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if request in unprocessed.get(table, []):
                    continue
                if "PutRequest" in request:
                    entries.append(("Put", table, request["PutRequest"]["Item"]))
                else:
                    entries.append(("Delete", table, request["DeleteRequest"]["Key"]))
    else:
        kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
        entries.append((kind, params["TableName"], params["Item"] if kind == "Put" else params["Key"]))
    return entries


def _outbox_events(operation: str, params: dict[str, Any], response: dict[str, Any]) -> list[str]:
    """The types of the events a committed write set going: those of a record's change (its envelope,
    ``change``, of the version it is written with: crm_core.outbox) and event items (``type`` "event")."""
    if operation not in _WRITES:
        return []
    types: list[str] = []
    for kind, _, item in _written_entries(operation, params, response, applied=True):
        if kind != "Put":
            continue
        item_type = item.get("type", {}).get("S")
        if item_type == "event" and "event_type" in item:
            types.append(item["event_type"]["S"])
        elif item_type == "record" and "change" in item:
            change = item["change"]["M"]
            if change.get("version", {}).get("N") == item.get("version", {}).get("N"):
                types += [event["M"]["type"]["S"] for event in change["events"]["L"]]
    return types


def _add_up(total: defaultdict[str, float], more: dict[str, float]) -> None:
    for key, value in more.items():
        total[key] += value


def item_kind(item: Item) -> str:
    """What an item is, for the breakdown of write units: its ``type`` (the table's discriminator), and for
    a side entry what it is kept for (``entry:search``, ``entry:dedupe``, ``entry:tag``, ...)."""
    if "type" not in item:
        # Powertools' idempotency layer writes its own items, without the table's discriminator.
        return "idempotency" if "status" in item or "expiration" in item else "untyped"
    kind = str(item["type"].get("S", "?"))
    if kind != "entry":
        return kind
    parts = str(item.get("PK", {}).get("S", "")).split("#")
    for special in ("search", "dedupe"):
        if special in parts:
            return f"entry:{special}"
    return f"entry:{parts[-2]}" if len(parts) >= 2 else "entry"


def _mentions(expression: str, placeholder: str) -> bool:
    index = expression.find(placeholder)
    while index >= 0:
        end = index + len(placeholder)
        if end >= len(expression) or not (expression[end].isalnum() or expression[end] == "_"):
            return True
        index = expression.find(placeholder, end)
    return False


def _reported_units(response: dict[str, Any]) -> float:
    reported = response.get("ConsumedCapacity") if isinstance(response, dict) else None
    if isinstance(reported, dict):
        reported = [reported]
    return float(sum(float(c.get("CapacityUnits", 0)) for c in reported or []))
