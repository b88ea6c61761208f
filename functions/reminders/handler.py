"""Consumes due reminders and timers (each schedule sends one message to its queue): the owner's
notification and the ``activity.reminder_due`` event, a ticket's SLA warning or breach, a sent quote's
expiry, or a contract's renewal reminder, expiry or overdue instalments, exactly once however often a
message arrives."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.definitions import REMINDERS_QUEUE
    from crm_core.services.paused_work import holding
    from crm_core.services.reminders import fire


def due(message: dict[str, Any]) -> str:
    if "quote_id" in message:
        from crm_core.services.quotes import QUOTES  # loaded when a quote's expiry comes

        return QUOTES.expire(message["tenant_id"], message["quote_id"], message["at"])
    if "ticket_id" in message:
        from crm_core.services.ticket_sla import fire as fire_timer  # loaded when a ticket's timer comes

        return fire_timer(message["tenant_id"], message["ticket_id"], message["timer"], message["at"])
    if "contract_id" in message:
        from crm_core.services.contract_timers import fire as fire_contract  # loaded when one comes

        return fire_contract(message["tenant_id"], message["contract_id"], message["timer"], message["at"])
    return fire(message["tenant_id"], message["activity_id"], message["remind_at"])


# A suspended tenant's due reminders and timers wait until it is resumed (services/paused_work.py).
handler = sqs_consumer(due, "reminder", hold=holding(REMINDERS_QUEUE))
