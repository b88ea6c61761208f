"""Writes the records' committed changes (a rule on the crm bus feeds its queue with every deal, contact,
company, activity and pipeline event) to the analytics Parquet files, one file a micro-batch per tenant,
object and day (crm_core.services.analytics_export, docs/decisions/0020-reports-and-analytics.md)."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_batch_consumer
    from crm_core.services.analytics_export import export_events


def _export(bodies: list[dict[str, Any]]) -> list[str]:
    return export_events(body["detail"] for body in bodies if isinstance(body.get("detail"), dict))


handler = sqs_batch_consumer(_export, "analytics export")
