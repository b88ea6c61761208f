"""Where the local endpoint (moto) differs from DynamoDB in a way the CRM's guarantees depend on.

moto 5.2 applies a ``TransactWriteItems`` item by item, writing stream records as it goes, and on a failed
condition restores a deep copy of the whole table taken before it started. Two things follow that real
DynamoDB never does: a stream reader can see records of a transaction that did not commit (the outbox
relay would publish an event for a change that never happened), and the restored stream drops sequence
numbers the reader already passed. The copy also costs time in proportion to the table on every
transaction.

DynamoDB checks every condition first and writes nothing unless all hold; this does the same for
transactions of Put, Delete, Update and ConditionCheck operations.

moto's EventBridge also leaves the envelope's ``account`` out of what a rule delivers to its targets (its
default input template has no place for it). EventBridge always sends it, and the inbound partner events
are accepted by it (crm_core.services.partner_events); the template gets it back.

And moto delivers to a rule's targets inside the ``PutEvents`` call that matched the rule. For a target
that is another bus (a partner's) two things follow that EventBridge never does: a bus that cannot take
the event (it does not exist, or refuses) lets its error escape from ``PutEvents``, so the relay's
publication fails, is retried, and every other rule's targets get the event again; and the relay, which
publishes every tenant's events, waits for every partner bus of every tenant, so one tenant's many or slow
partner buses hold up everyone's events. EventBridge accepts the event first and delivers to targets after,
each on its own: a failed target is retried and then sent to the target's dead-letter queue, and never
fails or slows the ``PutEvents``. Here ``PutEvents`` returns once the bus's other targets (queues) have the
event, and its partner-bus deliveries are made after it in a lane of their tenant (one background thread
per tenant with deliveries waiting), each delivery on its own, what fails to the target's dead-letter queue
at once: a tenant's refused or slow partner buses delay only that tenant's partner deliveries. moto also
takes a ``PutEvents`` whose ``EventBusName`` is another account's bus ARN (a redrive to a partner's bus) to
the caller's own bus of that name; here it goes to that account's bus, as in EventBridge.

Last, moto's backends are not thread-safe, and its server answers requests on many threads: a Query
walking a table while a write adds to it, or a ``PutEvents`` walking a bus's rules while a rule is added,
fails with "changed size during iteration" (a 500 the client retries; for ``PutEvents``, after some rules
were already served, so an event was delivered twice). DynamoDB and EventBridge serve each request as if
alone; here each of those services takes its requests one at a time (the table and its stream under one
lock, the buses under another). SQS stays concurrent (clients long-poll it), but moto's receive of a queue
walks its messages unguarded: two receives at once can hand out the same message (and the second fails on
a message the first moved to the dead-letter queue, "list.remove(x): x not in list"). Here a queue's
receives and deletes take that queue's lock, one pass at a time, and a long poll waits between passes
outside it: SQS never hands a message to two receivers within its visibility timeout.

The item changes a DynamoDB request committed are handed to ``commit_listeners`` (``crm dev --data``'s
journal) once the request succeeded, still under the table lock, so in commit order: each change exactly as
the table's stream records it, and nothing of a request that failed. What a listener returns is called
after the lock is released and before the answer goes out (to wait for the disk without holding up the
other requests).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_installed = False
_lock = threading.Lock()
# The EventBridge backends take one request at a time (see _install_request_locks); partner deliveries
# made after a PutEvents (_install_target_dead_letters) take the same lock, one delivery at a time.
_buses_lock = threading.RLock()
# DynamoDB and its stream take their requests one at a time under this lock (see above).
table_lock = threading.RLock()


@dataclass(frozen=True)
class ItemChange:
    """One item's committed change, as the table's stream records it (DynamoDB JSON)."""

    table_name: str
    keys: dict[str, Any]
    new_image: dict[str, Any] | None  # None: the item was deleted
    inserted: bool  # the item did not exist before
    old_image: dict[str, Any] | None = None  # the item before (None: inserted)

    def stream_record(self) -> dict[str, Any]:
        """The parts of the stream record the outbox filter reads."""
        event_name = "REMOVE" if self.new_image is None else "INSERT" if self.inserted else "MODIFY"
        record: dict[str, Any] = {"eventName": event_name, "dynamodb": {"Keys": self.keys}}
        if self.new_image is not None:
            record["dynamodb"]["NewImage"] = self.new_image
        if self.old_image is not None:
            record["dynamodb"]["OldImage"] = self.old_image
        return record


# Each is called with the changes of every DynamoDB request that changed items and succeeded, in commit
# order; then what it returned, before the answer. One that raises fails the request (its answer is an
# error: nothing is acknowledged that is not kept).
commit_listeners: list[Callable[[list[ItemChange]], Callable[[], None] | None]] = []
_request = threading.local()  # .changes: the item changes of the DynamoDB request this thread serves


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    moto_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100 or any(
            set(item) - {"Put", "Delete", "Update", "ConditionCheck"} for item in transact_items
        ):
            return moto_transact(self, transact_items)
        with _lock:
            planned: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
            reasons: list[tuple[Any, Any, Any]] = []
            seen: set[tuple[str, str]] = set()
            for item in transact_items:
                op_type, op = next(iter(item.items()))
                table_name = op["TableName"]
                key = _operation_key(self.get_table(table_name), op_type, op)
                identity = (str(table_name), str(dict(sorted(key.items()))))
                if identity in seen:
                    raise MultipleTransactionsException()
                seen.add(identity)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                ).expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    reasons.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                else:
                    reasons.append((None, None, None))
                planned.append((op_type, table_name, key, op))
            if any(code is not None for code, _, _ in reasons):
                raise TransactionCanceledException(reasons)
            _apply_operations(self, planned)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _install_change_capture()
    _install_event_account()
    _install_target_dead_letters()
    _install_request_locks()
    _install_queue_locks()
    _installed = True


def _operation_key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    """The key of the item a transaction's operation is on (a Put names it in its item)."""
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _apply_operations(backend: Any, planned: list[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> None:
    """A transaction's writes, once every condition in it has held (a ConditionCheck writes nothing)."""
    for op_type, table_name, key, op in planned:
        if op_type == "Put":
            backend.put_item(table_name, op["Item"])
        elif op_type == "Delete":
            backend.delete_item(table_name, key)
        elif op_type == "Update":
            backend.update_item(
                table_name,
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=op.get("ExpressionAttributeNames"),
                expression_attribute_values=op.get("ExpressionAttributeValues"),
            )


def _install_change_capture() -> None:
    """Every committed put, update and delete of an item of a table with a stream passes through its stream
    shard; note it for the request being served (not for changes made outside a request)."""
    from moto.dynamodb.models.table import StreamShard

    moto_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        moto_add(self, old, new)
        changes = getattr(_request, "changes", None)
        if changes is None:
            return
        table = self.table
        item = new if new is not None else old
        keys = {table.hash_key_attr: item.hash_key.to_json()}
        if table.range_key_attr is not None:
            keys[table.range_key_attr] = item.range_key.to_json()
        # The image is taken now: moto goes on changing the same item object later in the request.
        image = new.to_json()["Attributes"] if new is not None else None
        old_image = old.to_json()["Attributes"] if old is not None else None
        changes.append(ItemChange(table.name, keys, image, inserted=old is None, old_image=old_image))

    StreamShard.add = add  # type: ignore[method-assign]


def _install_event_account() -> None:
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        # moto fills <account> from the event's own "account" ($.account is in its default paths map).
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"source": "<source>", ', '"source": "<source>", "account": "<account>", ', 1
        )
        assert '"account"' in EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE, "moto's template changed"


class _Lanes:
    """Work run in the background, in order within a key and independently across keys: one thread per key
    that has work waiting, ended when its work is done."""

    def __init__(self) -> None:
        self._waiting: dict[str, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, work: Callable[[], None]) -> None:
        with self._lock:
            lane = self._waiting.get(key)
            if lane is not None:
                lane.append(work)
                return
            self._waiting[key] = deque([work])
        threading.Thread(target=self._run, args=(key,), name=f"partner-deliveries-{key}", daemon=True).start()

    def _run(self, key: str) -> None:
        while True:
            with self._lock:
                lane = self._waiting[key]
                if not lane:
                    del self._waiting[key]
                    return
                work = lane.popleft()
            work()

    def idle(self) -> bool:
        with self._lock:
            return not self._waiting


partner_deliveries = _Lanes()


def _install_target_dead_letters() -> None:
    from moto.events.models import EventsBackend, Rule, events_backends

    moto_send = Rule.send_to_targets
    moto_put_events = EventsBackend.put_events

    def deliver_to_bus(rule: Any, target: dict[str, Any], event: Any, transform: bool) -> None:
        only = copy.copy(rule)  # the rule as it was matched, with this one target
        only.targets = [target]
        try:
            with _buses_lock:
                moto_send(only, event, transform)
        except Exception as error:
            _dead_letter(rule, target, dict(event), error)

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        buses = [t for t in self.targets if ":event-bus/" in t["Arn"]]
        if not buses:
            return moto_send(self, original_event, transform_input)
        if not self.event_pattern.matches_event(original_event):
            return None
        others = copy.copy(self)
        others.targets = [t for t in self.targets if t not in buses]
        if others.targets:
            moto_send(others, original_event, transform_input)
        lane = str((original_event.get("detail") or {}).get("tenant_id") or self.arn)
        for target in buses:
            event = copy.deepcopy(original_event)

            def work(target: dict[str, Any] = target, event: Any = event) -> None:
                deliver_to_bus(self, target, event, transform_input)

            partner_deliveries.submit(lane, work)
        return None

    def put_events(self: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any] | None] = [None] * len(entries)
        own: list[int] = []
        for position, entry in enumerate(entries):
            name = str(entry.get("EventBusName") or "")
            if name.startswith("arn:") and ":event-bus/" in name:
                _, _, _, region, account, _ = name.split(":", 5)
                if (account, region) != (self.account_id, self.region_name):
                    answers[position] = moto_put_events(events_backends[account][region], [entry])[0]
                    continue
            own.append(position)
        if own:
            for position, answer in zip(own, moto_put_events(self, [entries[p] for p in own]), strict=True):
                answers[position] = answer
        return [answer or {} for answer in answers]

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    EventsBackend.put_events = put_events  # type: ignore[method-assign,assignment]


def _dead_letter(rule: Any, target: dict[str, Any], event: dict[str, Any], error: Exception) -> None:
    """The event as EventBridge dead-letters one its target refused, on the target's dead-letter queue
    (none: dropped, as EventBridge drops it after its retries)."""
    import json

    from moto.sqs import sqs_backends

    arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not arn:
        return
    _, _, _, region, account, queue_name = arn.split(":", 5)
    queue = sqs_backends[account][region].get_queue(queue_name)
    # The attributes EventBridge puts on a dead-lettered event; a missing bus is not retried.
    missing = "ResourceNotFound" in type(error).__name__
    attributes = {
        "RULE_ARN": rule.arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": "NO_RESOURCE" if missing else "TARGET_ERROR",
        "ERROR_MESSAGE": str(error)[:256],
        "RETRY_ATTEMPTS": "0",
    }
    sqs_backends[account][region].send_message(
        queue.name,
        json.dumps(event, default=str),
        message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


_queue_locks: dict[str, threading.Lock] = {}
_queue_locks_lock = threading.Lock()


def _queue_lock(queue_name: str) -> threading.Lock:
    with _queue_locks_lock:
        return _queue_locks.setdefault(queue_name, threading.Lock())


def _install_queue_locks() -> None:
    from moto.sqs.models import SQSBackend

    moto_receive, moto_delete = SQSBackend.receive_message, SQSBackend.delete_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with _queue_lock(queue_name):  # one pass, no wait: moto's own loop ends after it
                received: list[Any] = moto_receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            left = deadline - time.monotonic()
            if received or left <= 0:
                return received
            started = time.monotonic()
            self.get_queue(queue_name).wait_for_messages(min(1.0, left))
            if time.monotonic() - started < 0.01:  # visible but not to be had (a FIFO group in flight)
                time.sleep(0.01)

    def delete_message(self: Any, queue_name: str, receipt_handle: str) -> None:
        with _queue_lock(queue_name):
            moto_delete(self, queue_name, receipt_handle)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.delete_message = delete_message  # type: ignore[method-assign]


# Requests these services failed with an error of moto's own (not an AWS error they answer on purpose):
# the test session fails if there is any.
internal_errors: list[str] = []


def _install_request_locks() -> None:
    from moto.core.exceptions import ServiceException
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.events.responses import EventsHandler
    from werkzeug.exceptions import HTTPException

    for handler, lock in (
        (DynamoHandler, table_lock),
        (DynamoDBStreamsHandler, table_lock),
        (EventsHandler, _buses_lock),
    ):
        moto_call_action = handler.call_action

        def call_action(self: Any, _call: Any = moto_call_action, _lock: Any = lock) -> Any:
            then: list[Callable[[], None]] = []
            try:
                with _lock:
                    _request.changes = [] if isinstance(self, DynamoHandler) and commit_listeners else None
                    answer = _call(self)
                    changes, status = _request.changes, answer[0]
                    if changes and int(status) < 400:
                        then = [f for listener in commit_listeners if (f := listener(changes)) is not None]
                for finish in then:
                    finish()
                return answer
            except (ServiceException, HTTPException):
                raise
            except Exception as error:
                internal_errors.append(f"{type(self).__name__}: {error!r}")
                raise
            finally:
                _request.changes = None

        handler.call_action = call_action  # type: ignore[method-assign]
