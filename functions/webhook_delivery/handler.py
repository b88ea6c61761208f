"""Delivers queued webhook deliveries: signed, each try logged, the next try queued with a growing delay,
given up to the dead-letter queue after the last."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.definitions import WEBHOOK_DELIVERIES_QUEUE
    from crm_core.services.paused_work import holding
    from crm_core.services.webhooks import deliver

# The message id tells a message handed back after a crash (same id: it may try again) from a duplicate.
# A suspended tenant's deliveries wait in the queue until it is resumed (services/paused_work.py).
handler = sqs_consumer(
    deliver, "webhook delivery", with_message_id=True, hold=holding(WEBHOOK_DELIVERIES_QUEUE)
)
