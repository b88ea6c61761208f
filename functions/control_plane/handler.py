"""The control plane's Lambda entry point: the Chalice app takes API Gateway's (REST API) events; the daily
rule's scheduled event goes to the app's ``billing_export``, the deletion queue's messages to its
``tenant_deletion_step``, the billing queue's to its ``billing_export_page`` (Chalice would deploy each as a
function of its own; here one function serves them all: docs/decisions/0028, 0034)."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)

    from functions.control_plane.app import (
        BILLING_QUEUE,
        app,
        billing_export,
        billing_export_page,
        tenant_deletion_step,
    )


def handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("detail-type") == "Scheduled Event":
        return billing_export(event, context)
    record = (event.get("Records") or [{}])[0]
    if record.get("eventSource") == "aws:sqs":
        # The queue by its ARN's last part, its name (batches of one: every record is of the same queue).
        if str(record.get("eventSourceARN", "")).rsplit(":", 1)[-1] == BILLING_QUEUE:
            return billing_export_page(event, context)
        return tenant_deletion_step(event, context)
    return app(event, context)
