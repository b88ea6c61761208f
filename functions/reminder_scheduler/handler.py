"""Consumes activity, ticket, quote and contract events (rules on the crm bus feed its queue) and keeps
each activity's reminder schedule, each ticket's SLA timers, each sent quote's expiry and each contract's
timers in step with the record."""

from typing import Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.reminders import sync_schedule


def keep_in_step(event: dict[str, Any]) -> object:
    detail = event["detail"]
    if str(detail["type"]).startswith("quote."):
        from crm_core.services.quotes import sync_expiry  # the quotes' rules, loaded when one comes

        return sync_expiry(detail["tenant_id"], detail["data"]["id"])
    if str(detail["type"]).startswith("ticket."):
        from crm_core.services.ticket_sla import sync_timers  # the tickets' rules, loaded when one comes

        return sync_timers(detail["tenant_id"], detail["data"]["id"])
    if str(detail["type"]).startswith("contract."):
        from crm_core.services.contract_timers import sync_timers as sync_contract  # loaded when one comes

        return sync_contract(detail["tenant_id"], detail["data"]["id"])
    return sync_schedule(detail["tenant_id"], detail["data"]["id"])


handler = sqs_consumer(keep_in_step, "reminder schedule")
