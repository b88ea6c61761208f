"""Publishes the events of committed changes to the crm bus: the target of the EventBridge Pipe that reads
the table's stream (and, locally, of crm dev's relay), which also writes what a change's request did not
live to write after its commit (crm_core.outbox.repair_derived). A failure raises, so the whole batch is
retried (split in halves by the Pipe) and nothing is lost; consumers deduplicate on each event's stable
id."""

from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import json

    from aws_lambda_powertools import Logger
    from crm_core import aws, metrics, usage
    from crm_core.outbox import event_entries, publish, repair_derived

    logger = Logger()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(event: list[dict[str, Any]] | dict[str, Any], context: "LambdaContext") -> dict[str, int]:
    # A Pipe sends the batch as a list; a stream event source mapping would send {"Records": [...]}.
    records = event.get("Records", []) if isinstance(event, dict) else event
    repaired = repair_derived(records)
    entries = event_entries(records)
    publish(entries, aws.client("events"))
    # Events published and emails sent, per tenant, as usage lines (crm_core.usage): once published only.
    usage.emit(usage.published(json.loads(entry["Detail"]) for entry in entries))
    metrics.count("EventsPublished", len(entries))
    if repaired:
        metrics.count("ChangesRepaired", repaired)
    metrics.flush()
    logger.info("relayed", extra={"records": len(records), "events": len(entries), "repaired": repaired})
    return {"published": len(entries)}
