"""Delivers queued webhook deliveries: signed, each try logged, the next try queued with a growing delay,
given up to the dead-letter queue after the last."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.webhooks import deliver

handler = sqs_consumer(deliver, "webhook delivery")
