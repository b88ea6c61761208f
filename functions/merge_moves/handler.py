"""Consumes merges (a rule on the crm bus feeds its queue with contact.merged and company.merged; it also
queues its own continuations) and moves what still refers to the merged duplicate to the survivor."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.merge_moves import handle

handler = sqs_consumer(handle, "merge moves")
