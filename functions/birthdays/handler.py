"""Consumes the birthdays queue (an hourly schedule's sweep, and each tenant's day it queues): owners are
told of their contacts' birthdays on the day in their own time zone, once."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.birthdays import handle

handler = sqs_consumer(handle, "birthdays")
