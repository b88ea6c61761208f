"""Consumes campaign events (scheduled, sending, cancelled), schedules' firing and the fan-out's own next
turns, and deal.won for attribution (crm_core.services.campaign_sends)."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.definitions import CAMPAIGN_EVENTS_QUEUE
    from crm_core.services.campaign_sends import on_message
    from crm_core.services.paused_work import holding

# A suspended tenant's scheduled starts and fan-out turns wait until it is resumed (services/paused_work.py).
handler = sqs_consumer(on_message, "campaign event", hold=holding(CAMPAIGN_EVENTS_QUEUE))
