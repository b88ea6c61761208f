"""``crm dlq``: what the dead-letter queues hold, and sending it back, locally or in AWS.

Every queue of ``definitions.QUEUES`` has one (``<name>-dlq``); the outbox Pipe has ``crm-outbox-dlq``.
Queues are found by name, so the same commands work against ``crm dev`` and against a deployed stack
(with AWS credentials in the environment).

The outbox Pipe's dead letters are stream positions, not messages: redriving them reads those records
from the table's stream again and publishes their events with the relay function's code
(``outbox_dead_letters``). Events keep their ids, so a consumer that already had one ignores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_core.definitions import (
    OUTBOX_BATCH_SIZE,
    OUTBOX_DEAD_LETTER_QUEUE,
    OUTBOX_RELAY,
    PARTNER_DELIVERIES_QUEUE,
    QUEUES,
    QueueDefinition,
)

ALL = (*QUEUES, OUTBOX_DEAD_LETTER_QUEUE, PARTNER_DELIVERIES_QUEUE)


@dataclass(frozen=True)
class DeadLetters:
    queue: str
    dead_letter_queue: str
    messages: int


def _definition(name: str) -> QueueDefinition:
    for queue in ALL:
        if name in (queue.name, queue.dead_letter_name):
            return queue
    known = ", ".join(q.name for q in ALL)
    raise SystemExit(f"No queue named {name!r}; the queues with dead-letter queues are: {known}")


def _url(sqs: Any, name: str) -> str:
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def list_all(sqs: Any) -> list[DeadLetters]:
    found = []
    for queue in ALL:
        attributes = sqs.get_queue_attributes(
            QueueUrl=_url(sqs, queue.dead_letter_name), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        found.append(
            DeadLetters(queue.name, queue.dead_letter_name, int(attributes["ApproximateNumberOfMessages"]))
        )
    return found


# A look holds the messages back from other readers this long at most; show() gives them back at once.
PEEK_SECONDS = 30


def show(sqs: Any, name: str, limit: int = 10, streams: Any = None) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, left where they are and visible again as soon as they have been read (so
    a second look, a redrive or ``dlq list`` right after sees them all). An outbox dead letter also lists
    the events of its stream range (while the stream holds them); a partner delivery names the bus that
    refused it and why."""
    queue = _definition(name)
    url = _url(sqs, queue.dead_letter_name)
    seen: dict[str, dict[str, Any]] = {}
    receipts: list[str] = []
    try:
        # Messages held back while being read, so that each receive brings others (SQS hands out a sample).
        while len(seen) < limit:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=PEEK_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            receipts += [m["ReceiptHandle"] for m in batch]
            if not fresh:
                break
            for message in fresh:
                seen[message["MessageId"]] = _shown(queue, message, streams)
    finally:
        _visible_again(sqs, url, receipts)
    return list(seen.values())[:limit]


def _shown(queue: QueueDefinition, message: dict[str, Any], streams: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": message["MessageId"], "body": message["Body"]}
    if queue == OUTBOX_DEAD_LETTER_QUEUE:
        shown["events"] = _outbox_events(message["Body"], streams)
    elif queue == PARTNER_DELIVERIES_QUEUE:
        attributes = message.get("MessageAttributes") or {}
        for key in ("TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE"):
            if key in attributes:
                shown[key.lower()] = attributes[key].get("StringValue")
    return shown


def _visible_again(sqs: Any, url: str, receipts: list[str]) -> None:
    for start in range(0, len(receipts), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
            for n, receipt in enumerate(receipts[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def _outbox_events(body: str, streams: Any) -> list[dict[str, Any]] | str:
    """The events an outbox dead letter stands for (id, type, tenant, time), or why they can't be listed."""
    import json

    import boto3
    from crm_core.outbox import event_entries

    from crm_local.outbox_dead_letters import NotABatchPosition, parse, read

    try:
        position = parse(body)
    except NotABatchPosition as error:
        return str(error)
    if position.expired():
        return "its records left the stream (it keeps them 24 hours)"
    events = []
    for entry in event_entries(read(streams or boto3.client("dynamodbstreams"), position)):
        detail = json.loads(entry["Detail"])
        events.append({key: detail.get(key) for key in ("id", "type", "tenant_id", "occurred_at")})
    return events


def redrive(sqs: Any, name: str, progress: Any = None) -> int:
    """Every message of the dead-letter queue back to its queue (sent first, then deleted: a crash in
    between leaves a copy in both, which the consumers' idempotency absorbs). The number moved."""
    queue = _definition(name)
    if queue == PARTNER_DELIVERIES_QUEUE:
        return replay_partner_deliveries(sqs, progress=progress).replayed
    if queue == OUTBOX_DEAD_LETTER_QUEUE:
        return replay_outbox(sqs, progress=progress).replayed
    source, dead = _url(sqs, queue.name), _url(sqs, queue.dead_letter_name)
    moved = 0
    while True:
        batch = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        if not batch:
            return moved
        for message in batch:
            sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            if progress is not None:
                progress(moved)


@dataclass
class Replay:
    replayed: int = 0  # dead letters whose events were published again, and deleted
    events: int = 0
    kept: list[str] = field(default_factory=list)  # why each dead letter left in the queue stayed


class Kept(Exception):
    """This dead letter cannot be replayed now; it stays in the queue, and this says why."""


def _replay(
    sqs: Any, queue: QueueDefinition, replay_one: Callable[[dict[str, Any]], int], progress: Any
) -> Replay:
    """``replay_one`` each message of the queue's dead-letter queue (it answers the events it published, or
    raises ``Kept``), deleting those replayed. What is kept becomes visible again at the end."""
    dead = _url(sqs, queue.dead_letter_name)
    outcome = Replay()
    seen: set[str] = set()
    kept_receipts: list[str] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                outcome.events += replay_one(message)
            except Kept as reason:
                outcome.kept.append(f"{message['MessageId']}: {reason}")
                kept_receipts.append(message["ReceiptHandle"])
                continue
            sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
            outcome.replayed += 1
            if progress is not None:
                progress(outcome.replayed)
    _visible_again(sqs, dead, kept_receipts)  # back in view at once, for `crm dlq list` and the next redrive
    return outcome


def replay_outbox(sqs: Any, streams: Any = None, progress: Any = None, now: datetime | None = None) -> Replay:
    """Publish again the events of every batch in the outbox dead-letter queue, then delete its message.

    A message whose records the stream no longer holds (it keeps them 24 hours) or that is not a batch
    position stays in the queue, with the reason in ``kept``; nothing else could bring those events back,
    so it is not dropped silently.
    """
    import boto3

    from crm_local.gateway import LambdaContext, load_handler
    from crm_local.outbox_dead_letters import NotABatchPosition, parse, read
    from crm_local.relay import kept_by_pipe

    streams = streams or boto3.client("dynamodbstreams")
    relay = load_handler(OUTBOX_RELAY)

    def replay_one(message: dict[str, Any]) -> int:
        try:
            position = parse(message["Body"])
        except NotABatchPosition as error:
            raise Kept(str(error)) from error
        if position.expired(now):
            raise Kept(
                f"its records left the stream (first arrived {position.first_arrival.isoformat()}; "
                "the stream keeps them 24 hours)"
            )
        records = [r for r in read(streams, position) if kept_by_pipe(r)]
        published = 0
        try:
            for start in range(0, len(records), OUTBOX_BATCH_SIZE):
                part = records[start : start + OUTBOX_BATCH_SIZE]
                published += int(relay(part, LambdaContext("redrive", "dlq"))["published"])
        except Exception as error:  # still failing: the message stays for the next redrive
            raise Kept(f"publishing failed again ({error!r})") from error
        return published

    return _replay(sqs, OUTBOX_DEAD_LETTER_QUEUE, replay_one, progress)


def replay_partner_deliveries(sqs: Any, events: Any = None, progress: Any = None) -> Replay:
    """Send every event a partner's bus refused to that bus again (``TARGET_ARN``, as EventBridge names the
    target on each dead letter), then delete its message. The event keeps its ``detail.id``, by which the
    partner tells a repeat. An event about a person erased since goes redacted, as a webhook's late try
    (``webhooks.without_erased_data``: one GetItem of the table, for a contact's or an activity's event).
    What the bus refuses again stays, with the reason."""
    import json

    import boto3
    from crm_core.services.webhooks import without_erased_data

    events = events or boto3.client("events")

    def replay_one(message: dict[str, Any]) -> int:
        target = ((message.get("MessageAttributes") or {}).get("TARGET_ARN") or {}).get("StringValue")
        try:
            event = json.loads(message["Body"])
            detail = event["detail"]
            if isinstance(detail, dict) and detail.get("tenant_id"):
                detail = without_erased_data(str(detail["tenant_id"]), detail)
            entry = {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(detail, separators=(",", ":")),
            }
        except (ValueError, KeyError, TypeError) as error:
            raise Kept(f"not an EventBridge event ({error!r})") from error
        if not target or ":event-bus/" not in target:
            raise Kept("no partner bus named in its TARGET_ARN attribute")
        try:
            response = events.put_events(Entries=[{**entry, "EventBusName": target}])
        except Exception as error:
            raise Kept(f"{target} refused it again ({error!r})") from error
        if response.get("FailedEntryCount"):
            raise Kept(f"{target} refused it again ({response['Entries'][0].get('ErrorCode')})")
        return 1

    return _replay(sqs, PARTNER_DELIVERIES_QUEUE, replay_one, progress)
