"""Publishes outbox events to the crm bus: the target of the EventBridge Pipe that reads the table's
stream (and, locally, of crm dev's relay). A failure raises, so the whole batch is retried (split in
halves by the Pipe) and nothing is lost; consumers deduplicate on each event's stable id."""

from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    from aws_lambda_powertools import Logger
    from crm_core import aws, metrics
    from crm_core.outbox import event_entries, publish

    logger = Logger()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(event: list[dict[str, Any]] | dict[str, Any], context: "LambdaContext") -> dict[str, int]:
    # A Pipe sends the batch as a list; a stream event source mapping would send {"Records": [...]}.
    records = event.get("Records", []) if isinstance(event, dict) else event
    entries = event_entries(records)
    publish(entries, aws.client("events"))
    metrics.count("EventsPublished", len(entries))
    metrics.flush()
    logger.info("relayed", extra={"records": len(records), "events": len(entries)})
    return {"published": len(entries)}
