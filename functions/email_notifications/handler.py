"""Consumes SES's events of the campaigns' configuration set (through SNS): deliveries, bounces and
complaints, the last two suppressing the address (crm_core.services.campaign_sends)."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.campaign_sends import on_ses_notification

handler = sqs_consumer(on_ses_notification, "email notification")
