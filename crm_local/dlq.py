"""``crm dlq``: what the dead-letter queues hold, and sending it back, locally or in AWS.

Every queue of ``definitions.QUEUES`` has one (``<name>-dlq``); the outbox Pipe has ``crm-outbox-dlq``.
Queues are found by name, so the same commands work against ``crm dev`` and against a deployed stack
(with AWS credentials in the environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_core.definitions import OUTBOX_DEAD_LETTER_QUEUE, PARTNER_DELIVERIES_QUEUE, QUEUES, QueueDefinition

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


def show(sqs: Any, name: str, limit: int = 10) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, left where they are (they become visible again in a few seconds)."""
    url = _url(sqs, _definition(name).dead_letter_name)
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(max(1, limit // 10 + 1)):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, limit), VisibilityTimeout=5, AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            seen.setdefault(message["MessageId"], {"id": message["MessageId"], "body": message["Body"]})
        if len(seen) >= limit:
            break
    return list(seen.values())[:limit]


def redrive(sqs: Any, name: str, progress: Any = None) -> int:
    """Every message of the dead-letter queue back to its queue (sent first, then deleted: a crash in
    between leaves a copy in both, which the consumers' idempotency absorbs). The number moved."""
    queue = _definition(name)
    if queue == PARTNER_DELIVERIES_QUEUE:
        raise SystemExit(
            "The partner deliveries dead-letter queue holds events a partner's bus refused; send them again "
            "with the event target's redeliver, or fix the partner's bus policy."
        )
    if queue == OUTBOX_DEAD_LETTER_QUEUE:
        raise SystemExit(
            "The outbox dead-letter queue holds the positions of stream batches the relay gave up on, not "
            "messages to send back; replaying them is not supported yet."
        )
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
