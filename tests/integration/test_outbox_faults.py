"""A crash between a change's commit and its publication loses nothing: the relay retries from the
stream position it had, so the event still arrives, once."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from crm_core.definitions import OUTBOX_DEAD_LETTER_QUEUE

from crm_local import dlq
from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient


def test_a_failed_publish_is_retried_from_the_stream(
    runtime: LocalRuntime, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.outbox_relay import handler as relay_function

    tap = BusTap(runtime, client.tenant_id)
    publish = relay_function.publish
    injected: list[int] = []

    def bus_down_once(entries: list[dict[str, Any]], events_client: Any) -> None:
        if not injected and any(client.tenant_id in entry["Detail"] for entry in entries):
            injected.append(len(entries))
            raise ConnectionError("the bus is unreachable (injected)")
        publish(entries, events_client)

    monkeypatch.setattr(relay_function, "publish", bus_down_once)
    contact = client.create("contacts", {"email": "survives@example.com"})
    try:
        events = tap.drain(expected=1, timeout=15)
    finally:
        assert runtime.relay is not None
        seen_error, runtime.relay.error = runtime.relay.error, None  # expected here; not a fault of the run
    assert injected, "the fault was never injected"
    assert isinstance(seen_error, ConnectionError)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in events] == [
        ("contact.created", contact["id"])
    ]


def outbox_dead_letters(sqs: Any) -> int:
    return next(row.messages for row in dlq.list_all(sqs) if row.queue == OUTBOX_DEAD_LETTER_QUEUE.name)


def test_a_batch_that_keeps_failing_is_dead_lettered_and_replayed_from_the_stream(
    runtime: LocalRuntime, client: ApiClient, other: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Pipe's settings, locally: the failing record is retried, then its stream position goes to the
    outbox dead-letter queue while the relay goes on with the rest; a redrive publishes it, once."""
    from functions.outbox_relay import handler as relay_function

    relay = runtime.relay
    assert relay is not None
    monkeypatch.setattr(relay, "retry_seconds", 0.01)
    monkeypatch.setattr(relay, "max_retries", 2)
    sqs = boto3.client("sqs")
    assert outbox_dead_letters(sqs) == 0
    tap, other_tap = BusTap(runtime, client.tenant_id), BusTap(runtime, other.tenant_id)
    publish = relay_function.publish
    refused: list[int] = []

    def bus_refuses_this_tenant(entries: list[dict[str, Any]], events_client: Any) -> None:
        # The record's email, not the tenant's id: the tenant's own creation events may still be on their way.
        if any("dead-lettered@example.com" in entry["Detail"] for entry in entries):
            refused.append(len(entries))
            raise ConnectionError("the bus refuses this tenant's events (injected)")
        publish(entries, events_client)

    monkeypatch.setattr(relay_function, "publish", bus_refuses_this_tenant)
    try:
        contact = client.create("contacts", {"email": "dead-lettered@example.com"})
        deadline = time.monotonic() + 20
        while outbox_dead_letters(sqs) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        # The relay went on past the failing record: another tenant's change still arrives.
        survivor = other.create("contacts", {"email": "unblocked@example.com"})
        assert [e["detail"]["data"]["id"] for e in other_tap.drain(expected=1)] == [survivor["id"]]
    finally:
        seen_error, relay.error = relay.error, None  # expected here; not a fault of the run
    assert isinstance(seen_error, ConnectionError)
    # Batches it was in are split first (a split is not a retry); then it is tried alone, and retried twice.
    assert [n for n in refused if n == 1] == [1, 1, 1], "one try and two retries of the single failing record"
    assert outbox_dead_letters(sqs) == 1
    assert tap.drain(expected=0, timeout=1.5) == []

    [letter] = dlq.show(sqs, OUTBOX_DEAD_LETTER_QUEUE.name)
    info = json.loads(letter["body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == relay.stream_arn
    [stuck] = letter["events"]
    assert (stuck["type"], stuck["tenant_id"]) == ("contact.created", client.tenant_id)

    monkeypatch.setattr(relay_function, "publish", publish)  # the cause is fixed
    replay = dlq.replay_outbox(sqs)
    assert (replay.replayed, replay.events, replay.kept) == (1, 1, [])
    assert outbox_dead_letters(sqs) == 0
    events = tap.drain(expected=1, timeout=10)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in events] == [
        ("contact.created", contact["id"])
    ]


def test_a_dead_letter_the_stream_no_longer_holds_is_kept_and_said(runtime: LocalRuntime) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=OUTBOX_DEAD_LETTER_QUEUE.dead_letter_name)["QueueUrl"]
    assert runtime.relay is not None
    old = {
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001",
            "startSequenceNumber": "100",
            "endSequenceNumber": "101",
            "approximateArrivalOfFirstRecord": "2020-01-01T00:00:00Z",
            "approximateArrivalOfLastRecord": "2020-01-01T00:00:00Z",
            "batchSize": 2,
            "streamArn": runtime.relay.stream_arn,
        },
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(old))
    sqs.send_message(QueueUrl=url, MessageBody="not a stream position")
    try:
        replay = dlq.replay_outbox(sqs)
        assert (replay.replayed, replay.events) == (0, 0)
        reasons = sorted(reason.split(": ", 1)[1] for reason in replay.kept)
        assert len(reasons) == 2
        assert reasons[0].startswith("its records left the stream (first arrived 2020-01-01")
        assert reasons[1].startswith("not a stream batch position")
        assert outbox_dead_letters(sqs) == 2, "kept messages stay in the queue"
        time.sleep(0.5)
        shown = sorted(str(m["events"]) for m in dlq.show(sqs, OUTBOX_DEAD_LETTER_QUEUE.name))
        assert shown[0].startswith("its records left the stream")
        assert shown[1].startswith("not a stream batch position")
    finally:
        sqs.purge_queue(QueueUrl=url)
