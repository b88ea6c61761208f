"""Consumes partner events from the crm bus; see crm_core.services.partner_events."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.partner_events import handle

handler = sqs_consumer(handle, "partner event")
