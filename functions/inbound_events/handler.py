"""Consumes partner events from the crm bus; see crm_core.services.inbound_events."""

import json
from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from crm_core.services.inbound_events import handle

    logger = Logger()
    processor = BatchProcessor(event_type=EventType.SQS)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def record_handler(record: SQSRecord) -> None:
    event = json.loads(record.body)
    outcome = handle(event)
    logger.info("partner event", extra={"source": event.get("source"), "outcome": outcome})


def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
