"""The price of a million API calls, from the units and events the bench measured for each endpoint.

The mix of calls, the prices (with their date and source) and the assumptions about what is not measured
locally (Lambda durations, how full batches are) are data in ``bench/cost_model.toml``. What each call
costs is measured: its DynamoDB read and write units (table and indexes apart) and the outbox events it
committed. An event's price follows what the deployed stack does with it (``crm_core.definitions``): the
Pipe reads it from the table's stream, the outbox relay puts it on the bus, and every rule it matches
queues it for a consumer.

``bench/cost_baseline.json`` holds the same measurements from before issue 11's write-path work, so the
printout shows the price and each write's units before and now, side by side.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_core.definitions import (
    ANALYTICS_QUEUE,
    API_FUNCTIONS,
    AUTHORIZER,
    CONSUMERS,
    EVENT_SOURCE,
    OUTBOX_RELAY,
    RULES,
    WEBHOOK_EVENTS_QUEUE,
    ConsumerDefinition,
)

(WEBHOOK_FAN_OUT,) = [c for c in CONSUMERS if c.queue == WEBHOOK_EVENTS_QUEUE]
MODEL_FILE = Path(__file__).with_name("cost_model.toml")
BASELINE_FILE = Path(__file__).with_name("cost_baseline.json")
CALLS = 1_000_000

# The components of the price, in the order they are printed.
COMPONENTS = (
    "DynamoDB reads",
    "DynamoDB reads (authorizer)",
    "DynamoDB writes (table)",
    "DynamoDB writes (indexes)",
    "API Gateway (HTTP API)",
    "Lambda (API functions)",
    "Lambda (authorizer)",
    "Events (Pipe, EventBridge, relay)",
    "Event consumers (SQS, Lambda, reads)",
    "CloudWatch Logs",
)


@dataclass(frozen=True)
class CostModel:
    prices: Mapping[str, Any]
    mix: Mapping[str, float]  # endpoint key -> percent of calls
    lambdas: Mapping[str, float]
    events: Mapping[str, float]
    logs: Mapping[str, float]
    goals: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> CostModel:
        data = tomllib.loads(path.read_text())
        model = cls(data["prices"], data["mix"], data["lambda"], data["events"], data["logs"], data["goals"])
        if abs(sum(model.mix.values()) - 100) > 1e-9:
            raise ValueError(f"{path.name}: the mix adds up to {sum(model.mix.values())} %, not 100 %")
        return model


@dataclass
class Price:
    """Dollars per million calls of the mix, by component; and the events a million calls publish."""

    dollars: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0.0))
    events: float = 0.0
    missing: list[str] = field(default_factory=list)  # mix endpoints the measurements lack

    @property
    def total(self) -> float:
        return sum(self.dollars.values())


def _gb_seconds(memory_mb: int, ms: float) -> float:
    return memory_mb / 1024 * ms / 1000


def billed_ms(model: CostModel, measured: Mapping[str, Any]) -> float:
    """An API call's billed Lambda duration: the handler's measured CPU time at the function's share of a
    vCPU, plus the wait for each of its DynamoDB calls, in whole milliseconds as Lambda bills."""
    memory = _function_memory(measured["label"])
    cpu_share = min(1.0, memory / model.lambdas["full_cpu_memory_mb"])
    waiting = measured["dynamodb_calls_total"] * model.lambdas["dynamodb_call_ms"]
    return float(math.ceil(measured["handler_cpu_ms"] / cpu_share + waiting))


def _function_memory(label: str) -> int:
    """The memory of the API function serving an endpoint label such as ``GET /contacts/{id}`` (under
    /v1) or ``GET /q/{token} (public page)`` (a public function's own route)."""
    segment = label.split()[1].split("?")[0].strip("/").split("/")[0]
    for function in API_FUNCTIONS:
        public = {route.split()[-1].strip("/").split("/")[0] for route in function.routes if function.public}
        if f"ANY /v1/{segment}" in function.routes or segment in public:
            return function.memory_mb
    raise KeyError(f"no API function serves {label!r}")


def consumers_of(event_type: str) -> list[ConsumerDefinition]:
    """The queue consumers an event of this type reaches through the bus's own rules (the webhook fan-out
    is reached through its tenant's rule: ``webhook_event_share``)."""
    found = []
    for rule in RULES:
        pattern = rule.event_pattern
        if EVENT_SOURCE not in pattern.get("source", [EVENT_SOURCE]):
            continue
        types = pattern.get("detail-type")
        if types is not None and not any(_matches(matcher, event_type) for matcher in types):
            continue
        found += [c for c in CONSUMERS if c.queue == rule.queue]
    return found


def _matches(matcher: Any, value: str) -> bool:
    """An EventBridge pattern's value: the string itself, or ``{"prefix": ...}``."""
    if isinstance(matcher, dict):
        return value.startswith(str(matcher["prefix"]))
    return bool(matcher == value)


def _consumer_dollars(price: Price, model: CostModel, consumer: ConsumerDefinition, messages: float) -> None:
    """A consumer's share of ``messages`` queued to it: their SQS requests, its invocations, its log lines;
    for the analytics exporter, the files each batch writes."""
    p, lam, ev = model.prices, model.lambdas, model.events
    per_batch = (
        lam["messages_per_windowed_batch"] if consumer.batch_window_s else lam["messages_per_consumer_batch"]
    )
    batches = messages / min(consumer.batch_size, per_batch)
    if consumer.queue == ANALYTICS_QUEUE:
        price.dollars["Event consumers (SQS, Lambda, reads)"] += (
            batches * ev["analytics_files_per_batch"] * p["s3_put_per_thousand"] / 1e3
        )
    sqs = messages * ev["sqs_requests_per_message"] + batches * ev["sqs_requests_per_batch"]
    invocation = p["lambda_request_per_million"] / 1e6
    price.dollars["Event consumers (SQS, Lambda, reads)"] += sqs * p[
        "sqs_request_per_million"
    ] / 1e6 + batches * (
        invocation + _gb_seconds(512, lam["consumer_ms_per_batch"]) * p["lambda_gb_second_arm64"]
    )
    price.dollars["CloudWatch Logs"] += (
        batches * model.logs["bytes_per_batch"] / 1e9 * p["logs_ingested_per_gb"]
    )


def _add_events(price: Price, model: CostModel, events: Mapping[str, int], calls: float) -> None:
    p, lam, ev = model.prices, model.lambdas, model.events
    invocation = p["lambda_request_per_million"] / 1e6
    gb_second = p["lambda_gb_second_arm64"]
    log_bytes = model.logs["bytes_per_batch"] / 1e9 * p["logs_ingested_per_gb"]
    for event_type, count in events.items():
        published = calls * count
        price.events += published
        relay_batches = published / lam["events_per_relay_batch"]
        price.dollars["Events (Pipe, EventBridge, relay)"] += published * (
            p["pipes_request_per_million"] + p["eventbridge_event_per_million"]
        ) / 1e6 + relay_batches * (
            invocation + _gb_seconds(OUTBOX_RELAY.memory_mb, lam["relay_ms_per_batch"]) * gb_second
        )
        price.dollars["Events (Pipe, EventBridge, relay)"] += (
            published * ev["relay_read_units_per_event"] * p["dynamodb_read_unit_per_million"] / 1e6
        )
        price.dollars["CloudWatch Logs"] += relay_batches * log_bytes
        for consumer in consumers_of(event_type):
            _consumer_dollars(price, model, consumer, published)
        # The events of tenants with a webhook target reach the fan-out, which reads the tenant's targets.
        heard = published * ev["webhook_event_share"]
        _consumer_dollars(price, model, WEBHOOK_FAN_OUT, heard)
        price.dollars["Event consumers (SQS, Lambda, reads)"] += (
            heard * ev["fanout_read_units_per_event"] * p["dynamodb_read_unit_per_million"] / 1e6
        )


def price_of_mix(
    model: CostModel,
    measured: Mapping[str, Mapping[str, Any]],
    durations: Mapping[str, float] | None = None,
) -> Price:
    """The price of ``CALLS`` calls in the model's mix, from each endpoint's measurement (its ``rcu``,
    ``wcu_table``, ``wcu_index``, ``events``, ``label``, and for its Lambda duration ``handler_cpu_ms``
    and ``dynamodb_calls_total``, unless ``durations`` gives each endpoint's billed ms)."""
    p, lam = model.prices, model.lambdas
    price = Price()
    invocation = p["lambda_request_per_million"] / 1e6
    gb_second = p["lambda_gb_second_arm64"]
    logs = model.logs
    call_log_bytes = logs["access_log_bytes_per_request"] + logs["api_function_bytes_per_call"]
    for key, percent in model.mix.items():
        m = measured.get(key)
        if m is None:
            price.missing.append(key)
            continue
        calls = CALLS * percent / 100
        price.dollars["DynamoDB reads"] += calls * m["rcu"] * p["dynamodb_read_unit_per_million"] / 1e6
        write = p["dynamodb_write_unit_per_million"] / 1e6
        price.dollars["DynamoDB writes (table)"] += calls * m["wcu_table"] * write
        price.dollars["DynamoDB writes (indexes)"] += calls * m["wcu_index"] * write
        price.dollars["API Gateway (HTTP API)"] += calls * p["http_api_request_per_million"] / 1e6
        ms = durations[key] if durations is not None else billed_ms(model, m)
        memory = _function_memory(m["label"])
        price.dollars["Lambda (API functions)"] += calls * (invocation + _gb_seconds(memory, ms) * gb_second)
        authorized = calls * lam["authorizer_miss_share"]
        price.dollars["DynamoDB reads (authorizer)"] += (
            authorized * float(m.get("authorizer_rcu") or 0) * p["dynamodb_read_unit_per_million"] / 1e6
        )
        price.dollars["Lambda (authorizer)"] += authorized * (
            invocation + _gb_seconds(AUTHORIZER.memory_mb, lam["authorizer_ms"]) * gb_second
        )
        price.dollars["CloudWatch Logs"] += calls * call_log_bytes / 1e9 * p["logs_ingested_per_gb"]
        _add_events(price, model, m.get("events") or {}, calls)
    return price


# Which promise each kind of item a write keeps is for (the bench's "What the writes keep" table): the
# price of the writes is the sum of these, so a cut below it is a promise given up.
WRITE_ITEM_PURPOSES = {
    "record": "the record (a transaction's twice), and the index entries of the lists, filters and sorts "
    "API.md names",
    "audit": "the audit trail, by object, by actor and the tenant's (/v1/audit-events, decision 0010)",
    "timeline": "timelines: the record's own and each record it links to (API.md timelines)",
    "entry:search": "type-ahead q in one Query a page (API.md contacts; ARCHITECTURE.md search)",
    "duplicate_pair": "/v1/contacts/duplicates: a new contact's namesakes (none when it has none)",
    "unique": "unique values: a second email or domain is 409 with existing_id (API.md contacts)",
    "record_count": "a list's total, and the plans' contact quota",
    "board_total": "the board's count, total and weighted_total per stage (API.md pipelines)",
    "entry:tag": "the tag filter (API.md contacts)",
    "idempotency": "Idempotency-Key: a retry returns the first response (API.md)",
}
OTHER_ENTRY_PURPOSE = (
    "a filter through a list field or a second link (a deal's pipeline and status, an activity's contact)"
)


def writes_by_item(model: CostModel, measured: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """The price of the mix's writes by the kind of item written, most first."""
    write = model.prices["dynamodb_write_unit_per_million"] / 1e6
    found: dict[str, float] = {}
    for key, percent in model.mix.items():
        m = measured.get(key)
        for kind, units in ((m or {}).get("write_units_by_item") or {}).items():
            found[kind] = found.get(kind, 0.0) + CALLS * percent / 100 * float(units) * write
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def write_units(measured: Mapping[str, Any]) -> float:
    return float(measured["wcu_table"]) + float(measured["wcu_index"])


def load_baseline(path: Path = BASELINE_FILE) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def baseline_of(endpoints: list[dict[str, Any]], size: str, note: str, commit: str | None) -> dict[str, Any]:
    """What ``bench/cost_baseline.json`` keeps of a run: per endpoint, its units and events."""
    kept = ("label", "rcu", "wcu_table", "wcu_index", "events", "write_units_by_item")
    return {
        "note": note,
        "commit": commit,
        "size": size,
        "endpoints": {
            e["key"]: {k: (e[size] or {}).get(k) if k != "label" else e["label"] for k in kept}
            for e in endpoints
            if e.get(size)
        },
    }
