"""Sends a batch of a campaign's recipients through SES, each at most once
(crm_core.services.campaign_sends)."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.campaign_sends import send_batch

handler = sqs_consumer(send_batch, "campaign batch")
