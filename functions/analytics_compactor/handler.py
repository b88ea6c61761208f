"""Consumes the analytics compaction queue (a daily schedule's run, and the continuations it queues): each
tenant's past days' analytics files merged into one per object and day, and its storage measured as a usage
line (crm_core.services.analytics_export, docs/decisions/0026). An operator's ``{"reexport": ...}`` message
is a step of the re-export from DynamoDB's export to S3 instead (crm_core.services.table_export)."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services import table_export
    from crm_core.services.analytics_export import on_compaction_message


def _step(body: dict[str, Any]) -> str:
    return table_export.on_message(body) if "reexport" in body else on_compaction_message(body)


handler = sqs_consumer(_step, "analytics compaction")
