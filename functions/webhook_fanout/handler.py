"""Consumes the events of each tenant that has a webhook target (the tenant's own rule on the bus feeds its
queue: docs/decisions/0038) and queues one delivery for each of the tenant's webhook targets that wants its
type."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.webhooks import fan_out

handler = sqs_consumer(fan_out, "webhook fan-out")
