"""Consumes activity events (a rule on the crm bus feeds its queue) and keeps each activity's reminder
schedule in step with the activity."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.reminders import sync_schedule

handler = sqs_consumer(
    lambda event: sync_schedule(event["detail"]["tenant_id"], event["detail"]["data"]["id"]),
    "reminder schedule",
)
