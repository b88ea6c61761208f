"""Consumes company changes (a rule on the crm bus feeds its queue; it also queues its own continuations)
and keeps the company token of each of the company's contacts in step with the company's current name."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.company_contact_tokens import handle

handler = sqs_consumer(handle, "company contact tokens")
