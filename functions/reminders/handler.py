"""Consumes due reminders (each activity's schedule sends one message to its queue): the owner's
notification and the ``activity.reminder_due`` event, exactly once however often a message arrives."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.reminders import fire

handler = sqs_consumer(lambda due: fire(due["tenant_id"], due["activity_id"], due["remind_at"]), "reminder")
