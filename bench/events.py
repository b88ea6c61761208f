"""Event figures on the local runtime: how fast the outbox relay publishes, and how long an event takes
from its commit to a partner's queue (a rule on the crm bus delivering to SQS, as a partner sets up)."""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime
from typing import Any

import boto3
import requests
from crm_core.services.tenants import create_tenant

from crm_local.runtime import LocalRuntime


def _partner_queue(runtime: LocalRuntime, tenant_id: str) -> str:
    assert runtime.instance is not None
    bus = runtime.instance.resources["event_bus_name"]
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url: str = sqs.create_queue(QueueName=f"bench-partner-{tenant_id.lower()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = f"bench-partner-{tenant_id.lower()}"
    events.put_rule(
        Name=name,
        EventBusName=bus,
        EventPattern=json.dumps(
            {"source": ["crm"], "detail-type": ["contact.created"], "detail": {"tenant_id": [tenant_id]}}
        ),
    )
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _seconds(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def measure(runtime: LocalRuntime, *, delays: int = 100, burst: int = 500) -> dict[str, Any]:
    tenant = create_tenant("Event bench")
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {tenant.api_key}", "Content-Type": "application/json"})
    api = runtime.api_url
    sqs = boto3.client("sqs")
    queue = _partner_queue(runtime, tenant.tenant_id)

    # Commit to partner queue: the event's occurred_at (stamped just before its commit) to its arrival.
    delays_ms: list[float] = []
    for n in range(delays):
        created = session.post(f"{api}/v1/contacts", data=json.dumps({"email": f"delay{n}@bench.example"}))
        assert created.status_code == 201, created.text
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            arrived = time.time()
            if messages:
                break
            time.sleep(0.005)
        for message in messages:
            detail = json.loads(message["Body"])["detail"]
            delays_ms.append((arrived - _seconds(detail["occurred_at"])) * 1000)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    # Relay throughput: commit a burst with the relay paused, then time the relay publishing all of it.
    relay = runtime.relay
    relay.stop()
    for start in range(0, burst, 100):
        inputs = [{"email": f"burst{n}@bench.example"} for n in range(start, min(burst, start + 100))]
        session.post(f"{api}/v1/contacts/batch/create", data=json.dumps({"inputs": inputs}))
    started = time.perf_counter()
    published = 0
    while published < burst:
        count = relay.poll_once()
        if count == 0 and published:
            break
        published += count
    elapsed = time.perf_counter() - started
    return {
        "commit_to_partner_queue_ms": {
            "median": round(statistics.median(delays_ms), 1),
            "p90": round(sorted(delays_ms)[int(len(delays_ms) * 0.9) - 1], 1),
            "samples": len(delays_ms),
        },
        "relay": {
            "events": published,
            "seconds": round(elapsed, 2),
            "events_per_second": round(published / elapsed, 1),
        },
        "method": "local runtime (moto server); the relay polls the stream every 0.1 s when idle; delay = "
        "arrival in the partner's SQS queue minus the event's occurred_at; throughput = a burst of "
        "contact.created events committed with the relay paused, then relayed (PutEvents in tens, as the "
        "Pipe's batches).",
    }
