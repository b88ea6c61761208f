"""The bench's price of a million calls (bench/cost.py): the model's data holds together, and the price
follows the measured units and events the way AWS bills them."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost
from bench.endpoints import ENDPOINTS

MODEL = cost.CostModel.load()


def test_the_mix_names_measured_endpoints_and_adds_up_to_every_call() -> None:
    keys = {key for key, _ in ENDPOINTS}
    assert set(MODEL.mix) <= keys, set(MODEL.mix) - keys
    assert sum(MODEL.mix.values()) == pytest.approx(100)


def test_the_baseline_measured_every_endpoint_of_the_mix() -> None:
    baseline = cost.load_baseline()
    assert baseline is not None
    assert set(MODEL.mix) <= set(baseline["endpoints"])
    assert baseline["commit"] and baseline["note"]
    measured = baseline["endpoints"]
    reads = sum(share for key, share in MODEL.mix.items() if not cost.write_units(measured[key]))
    assert reads == pytest.approx(70)  # the mix the model file documents: 70 % reads, 30 % writes


def _one_endpoint_model(key: str) -> cost.CostModel:
    return cost.CostModel(MODEL.prices, {key: 100}, MODEL.lambdas, MODEL.events, MODEL.logs, MODEL.goals)


def _measured(label: str, *, rcu: float = 0, table: float = 0, index: float = 0, **events: int) -> Any:
    return {
        "label": label,
        "rcu": rcu,
        "wcu_table": table,
        "wcu_index": index,
        "events": events,
        "handler_cpu_ms": 10.0,
        "dynamodb_calls_total": 2,
    }


def test_write_units_are_priced_per_unit_and_split_between_table_and_indexes() -> None:
    model = _one_endpoint_model("contact.patch")
    small = cost.price_of_mix(model, {"contact.patch": _measured("PATCH /contacts/{id}", table=4, index=2)})
    large = cost.price_of_mix(model, {"contact.patch": _measured("PATCH /contacts/{id}", table=8, index=2)})
    per_unit = MODEL.prices["dynamodb_write_unit_per_million"]  # a million calls: dollars per unit
    assert large.dollars["DynamoDB writes (table)"] - small.dollars[
        "DynamoDB writes (table)"
    ] == pytest.approx(4 * per_unit)
    assert small.dollars["DynamoDB writes (indexes)"] == pytest.approx(2 * per_unit)
    assert small.total == pytest.approx(sum(small.dollars.values()))
    assert small.dollars["API Gateway (HTTP API)"] == pytest.approx(
        MODEL.prices["http_api_request_per_million"]
    )


def test_each_event_costs_the_pipe_the_bus_and_its_consumers() -> None:
    model = _one_endpoint_model("activity.create")
    label = "POST /activities"
    quiet = cost.price_of_mix(model, {"activity.create": _measured(label, table=1)})
    one = cost.price_of_mix(model, {"activity.create": _measured(label, table=1, **{"activity.created": 1})})
    assert quiet.events == 0 and one.events == cost.CALLS
    bus = MODEL.prices["pipes_request_per_million"] + MODEL.prices["eventbridge_event_per_million"]
    assert one.dollars["Events (Pipe, EventBridge, relay)"] > bus
    assert (
        one.dollars["Event consumers (SQS, Lambda, reads)"]
        > 0
        == quiet.dollars["Event consumers (SQS, Lambda, reads)"]
    )


def test_an_event_reaches_the_consumers_whose_rules_match_it() -> None:
    # The analytics exporter hears every record's event (a prefix of its type matches); an activity's also
    # the reminder scheduler, a company's the contacts' company tokens. The webhook fan-out is reached
    # through its tenant's rule, no rule of the stack's (decision 0038).
    assert len(cost.consumers_of("contact.updated")) == 1
    assert len(cost.consumers_of("activity.created")) == 2
    assert len(cost.consumers_of("company.updated")) == 2


def test_the_webhook_fan_out_is_priced_for_the_share_of_events_whose_tenant_has_a_webhook() -> None:
    model = _one_endpoint_model("activity.create")
    measured = {"activity.create": _measured("POST /activities", table=1, **{"activity.created": 1})}

    def consumers(share: float) -> float:
        events = {**model.events, "webhook_event_share": share}
        shared = cost.CostModel(model.prices, model.mix, model.lambdas, events, model.logs, model.goals)
        return cost.price_of_mix(shared, measured).dollars["Event consumers (SQS, Lambda, reads)"]

    none, every = consumers(0.0), consumers(1.0)
    assert consumers(0.25) - none == pytest.approx((every - none) / 4)
    # Its queue's requests, its invocations and its Query of the tenant's targets, for every event heard.
    fan_out_read = 0.5 * MODEL.prices["dynamodb_read_unit_per_million"]
    sqs = 2 * MODEL.prices["sqs_request_per_million"]  # a send, half a receive and half a delete
    assert every - none > fan_out_read + sqs


def test_an_unmeasured_endpoint_of_the_mix_is_named_not_priced_at_zero() -> None:
    price = cost.price_of_mix(MODEL, {})
    assert set(price.missing) == set(MODEL.mix)


def test_a_lambdas_billed_time_is_its_cpu_at_its_share_of_a_vcpu_and_its_waits() -> None:
    call = _measured("GET /contacts/{id}")  # 10 ms of CPU, 2 DynamoDB calls
    share = min(1.0, 1024 / MODEL.lambdas["full_cpu_memory_mb"])  # the contacts function has 1,024 MB
    expected = 10.0 / share + 2 * MODEL.lambdas["dynamodb_call_ms"]
    assert cost.billed_ms(MODEL, call) == pytest.approx(expected, abs=1)
    slower = {**call, "handler_cpu_ms": 20.0}
    assert cost.billed_ms(MODEL, slower) > cost.billed_ms(MODEL, call)


def test_the_writes_by_kind_of_item_add_up_to_the_writes_of_the_price() -> None:
    baseline = cost.load_baseline()
    assert baseline is not None
    measured = baseline["endpoints"]
    by_item = cost.writes_by_item(MODEL, measured)
    price = cost.price_of_mix(MODEL, measured, durations={key: 10.0 for key in MODEL.mix})
    writes = price.dollars["DynamoDB writes (table)"] + price.dollars["DynamoDB writes (indexes)"]
    assert sum(by_item.values()) == pytest.approx(writes)
    assert list(by_item.values()) == sorted(by_item.values(), reverse=True)
    # Every call a contact create: its units of each kind, at a write unit's price, a million times.
    one = cost.writes_by_item(
        _one_endpoint_model("contact.create"),
        {"contact.create": {"write_units_by_item": {"entry:search": 8, "record": 2}}},
    )
    assert one == pytest.approx(
        {
            "entry:search": 8 * MODEL.prices["dynamodb_write_unit_per_million"],
            "record": 2 * MODEL.prices["dynamodb_write_unit_per_million"],
        }
    )
