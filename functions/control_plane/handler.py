"""The control plane's Lambda entry point: the Chalice app takes API Gateway's (REST API) events; the daily
rule's scheduled event goes to the app's ``billing_export``, the deletion queue's messages to its
``tenant_deletion_step`` (Chalice would deploy each as a function of its own; here one function serves them
all: docs/decisions/0028, 0034)."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)

    from functions.control_plane.app import app, billing_export, tenant_deletion_step


def handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("detail-type") == "Scheduled Event":
        return billing_export(event, context)
    if (event.get("Records") or [{}])[0].get("eventSource") == "aws:sqs":
        return tenant_deletion_step(event, context)
    return app(event, context)
