"""Sends a batch of a campaign's recipients through SES, each at most once
(crm_core.services.campaign_sends); and a resolved ticket's satisfaction survey, once per resolution (a
``ticket.resolved`` from the bus: crm_core.services.surveys)."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.definitions import CAMPAIGN_SENDS_QUEUE
    from crm_core.services.campaign_sends import send_batch
    from crm_core.services.paused_work import holding
    from crm_core.services.surveys import on_ticket_event


def _message(body: dict[str, Any]) -> str:
    if "detail" in body:  # an event from the bus: a resolved ticket
        return on_ticket_event(body["detail"])
    return send_batch(body)


# A suspended tenant's batches wait in the queue until it is resumed (services/paused_work.py).
handler = sqs_consumer(_message, "campaign batch", hold=holding(CAMPAIGN_SENDS_QUEUE))
