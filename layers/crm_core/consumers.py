"""Queue consumers: a function fed by an SQS queue, each record's JSON body handed to one service call.

Powertools' batch processor reports the records that raised as partial batch failures: those come back
after the queue's visibility timeout and, after its last try, land in its dead-letter queue.

A consumer of a tenant's background work is given ``hold`` (services/paused_work.py ``holding``): a message
of a suspended tenant is then sent back to its queue for later instead of being processed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm_core import aws, metrics
from crm_core.definitions import QueueDefinition

if TYPE_CHECKING:
    from crm_core.models.record import EventDetail

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def sqs_consumer(
    process: Callable[..., object],
    what: str,
    *,
    with_message_id: bool = False,
    hold: Callable[[dict[str, Any]], str | None] | None = None,
) -> Handler:
    """A Lambda handler that runs ``process`` on each record's body (and, ``with_message_id``, the SQS
    message id, which stays the same when SQS hands the message back) and logs what came of it; ``hold``
    may take a message instead (its outcome, or None to let it run): a suspended tenant's, sent back."""
    logger = Logger()
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        body = json.loads(record.body)
        outcome: object = hold(body) if hold is not None else None
        if outcome is None:
            outcome = process(body, record.message_id) if with_message_id else process(body)
        logger.info(what, extra={"outcome": outcome})

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            response = process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        finally:
            metrics.flush()
        return dict(response)

    return handler


def sqs_batch_consumer(process: Callable[[list[dict[str, Any]]], object], what: str) -> Handler:
    """A Lambda handler that runs ``process`` once on every record's body of the batch (work that is
    written as one result per batch, such as a Parquet file): it succeeds or fails as a whole, and a failed
    batch comes back entire, so ``process`` must give the same result for the same bodies."""
    logger = Logger()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            bodies = [json.loads(record["body"]) for record in event.get("Records", [])]
            outcome = process(bodies)
            logger.info(what, extra={"outcome": outcome, "records": len(bodies)})
        finally:
            metrics.flush()
        return {"batchItemFailures": []}

    return handler


class BusEvent(TypedDict):
    """A crm event as a rule on the bus delivers it to a consumer's queue: EventBridge's envelope (id,
    source, detail-type, ...), around the event as the outbox published it."""

    detail: EventDetail


def send_continuation(queue: QueueDefinition, body: Mapping[str, object], delay_s: int = 0) -> None:
    """The rest of a consumer's work, in a message of its own to the consumer's own queue (found by its
    name, the definition's: ``GetQueueUrl`` + ``SendMessage``), delivered after ``delay_s`` (at most 900)."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
    delay = {"DelaySeconds": delay_s} if delay_s else {}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), **delay)
