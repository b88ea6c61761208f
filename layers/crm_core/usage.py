"""Usage metering (docs/decisions/0026-usage-metering.md): what each tenant used, per UTC day, collected
without a DynamoDB write per request.

Everything metered is a *usage line*: one JSON object on one line of the function's log, marked with
``"crm_usage": 1`` so that a CloudWatch Logs subscription filter (``{ $.crm_usage = 1 }``) sends exactly
these lines to Firehose, which writes them to the analytics bucket under the tenant's ``object=usage``
partition (infra/usage.py). Locally ``crm dev`` installs a sink (``set_sink``) that gathers the same lines
and writes them to the same place in batches (crm_local/usage_writer.py).

- ``api``: one line per API request that carried a tenant's credential, written by ``crm_core.http.app``:
  its route, status, and the DynamoDB read and write units the request consumed. The units come from
  DynamoDB's own answers (``ReturnConsumedCapacity=TOTAL``, which pynamodb already asks for on every call
  and which is free), summed by a botocore handler into the request's ``Meter``: no extra call.
- ``event``: events published, counted per tenant by the outbox relay for each batch it publishes.
- ``email``: emails sent (their ``email.sent`` events), counted in the same place.
- ``storage``: the daily compaction's measure of what the tenant keeps (see the decision record).
"""

from __future__ import annotations

import contextvars
import json
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crm_core.ids import utc_now

MARK = "crm_usage"  # the key the subscription filter matches
KINDS = ("api", "event", "email", "storage")

# DynamoDB operations whose units are reads; every other metered operation's are writes.
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
# Operations that accept ReturnConsumedCapacity.
METERED_OPERATIONS = READ_OPERATIONS | frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
# What one record keeps in the table, in bytes: the record, its search entries, unique markers, timeline and
# event items (DynamoDB's item size: attribute names and values), measured by ``python -m bench.usage
# --item-sizes`` (20 records of each type made through the API on the local runtime). The storage measure
# is the tenant's records times these, plus its analytics files' bytes (docs/decisions/0026).
ITEM_BYTES = {"contacts": 4585, "companies": 2931, "deals": 3408, "activities": 2704, "tickets": 2828}
# A transaction's write costs two units per item of up to 1 KB: what the meter counts when an answer
# carries no capacity (the local endpoint answers TransactWriteItems without it).
TRANSACTION_UNITS_PER_ITEM = 2.0


@dataclass
class Meter:
    """The DynamoDB units one request consumed (shared by the threads the request fans out to)."""

    read_units: float = 0.0
    write_units: float = 0.0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, operation: str, units: float, read: float | None = None, write: float | None = None
    ) -> None:
        with self._lock:
            self.calls += 1
            if read is not None or write is not None:
                self.read_units += read or 0.0
                self.write_units += write or 0.0
            elif operation in READ_OPERATIONS:
                self.read_units += units
            else:
                self.write_units += units


_meter: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("crm_usage_meter", default=None)


@contextmanager
def metered() -> Iterator[Meter]:
    """Counts the DynamoDB units of every call made in this context into the meter it yields (and in the
    copies of the context a request's worker threads run in: they share the meter)."""
    meter = Meter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


# ------------------------------------------------------------------------------------ botocore handlers


def _ask_for_capacity(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params``: ask DynamoDB for the call's units (pynamodb already does; boto3 clients
    do not), and note a transaction's size for the answer that lacks them."""
    if _meter.get() is None or model.name not in METERED_OPERATIONS:
        return
    params.setdefault("ReturnConsumedCapacity", "TOTAL")
    if model.name == "TransactWriteItems":
        context["crm_transact_items"] = len(params.get("TransactItems") or ())


def _count_capacity(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """``after-call``: the call's units into the current request's meter."""
    meter = _meter.get()
    if meter is None or model.name not in METERED_OPERATIONS or not isinstance(parsed, dict):
        return
    consumed = parsed.get("ConsumedCapacity")
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    if not entries and model.name == "TransactWriteItems" and "Error" not in parsed:
        meter.add(model.name, TRANSACTION_UNITS_PER_ITEM * context.get("crm_transact_items", 0))
        return
    for entry in entries:
        meter.add(
            model.name,
            float(entry.get("CapacityUnits") or 0.0),
            read=_number(entry.get("ReadCapacityUnits")),
            write=_number(entry.get("WriteCapacityUnits")),
        )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


_HANDLERS = (
    ("provide-client-params.dynamodb", _ask_for_capacity),
    ("after-call.dynamodb", _count_capacity),
)


def install() -> None:
    """Every botocore session made from now on (boto3's, and the one pynamodb makes per thread) counts its
    DynamoDB clients' units into the current meter. Called where the table's models are defined, before
    any DynamoDB client exists. Outside a meter the handlers return at once."""
    from botocore import handlers

    for handler in _HANDLERS:
        if handler not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.append(handler)


# ------------------------------------------------------------------------------------------ usage lines


def line(
    kind: str,
    tenant_id: str,
    quantity: int = 1,
    *,
    route: str | None = None,
    status: int | None = None,
    read_units: float = 0.0,
    write_units: float = 0.0,
    at: str | None = None,
) -> dict[str, Any]:
    """One usage line (the columns of the ``usage`` object: crm_core.reports.columns.USAGE)."""
    return {
        MARK: 1,
        "tenant_id": tenant_id,
        "at": at or utc_now(),
        "kind": kind,
        "quantity": quantity,
        "route": route,
        "status": status,
        "read_units": round(read_units, 4),
        "write_units": round(write_units, 4),
    }


def _print_lines(lines: list[dict[str, Any]]) -> None:
    """In Lambda: one line of the log each (the subscription filter takes them to S3)."""
    text = "".join(json.dumps(one, separators=(",", ":")) + "\n" for one in lines)
    sys.stdout.write(text)
    sys.stdout.flush()


_sink: Callable[[list[dict[str, Any]]], None] = _print_lines


def set_sink(sink: Callable[[list[dict[str, Any]]], None] | None) -> None:
    """Where usage lines go: the log (the default, as in AWS) or ``crm dev``'s writer."""
    global _sink
    _sink = sink or _print_lines


def emit(lines: Iterable[dict[str, Any]]) -> None:
    batch = list(lines)
    if batch:
        _sink(batch)


def published(details: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The usage lines of a batch of published events: per tenant, the events, and the emails sent (the
    ``email.sent`` events, one per email the sender handed to SES)."""
    events: dict[str, int] = {}
    emails: dict[str, int] = {}
    for detail in details:
        tenant_id = detail.get("tenant_id")
        if not tenant_id:
            continue
        events[tenant_id] = events.get(tenant_id, 0) + 1
        if detail.get("type") == "email.sent":
            emails[tenant_id] = emails.get(tenant_id, 0) + 1
    now = utc_now()
    return [line("event", t, n, at=now) for t, n in sorted(events.items())] + [
        line("email", t, n, at=now) for t, n in sorted(emails.items())
    ]
