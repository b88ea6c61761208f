"""Consumes erasures (a rule on the crm bus feeds its queue with contact.erased) and scrubs the erased
person's copies: linked activities' text, timelines, audit, notifications, delivery logs, idempotency
records (services/privacy.py, docs/decisions/0016-erasure.md)."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.privacy import handle_erased

handler = sqs_consumer(handle_erased, "erasure scrub")
