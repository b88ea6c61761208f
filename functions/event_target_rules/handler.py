"""Consumes event target changes and keeps each EventBridge target's rule on the crm bus in step."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.event_target_rules import sync_rule

handler = sqs_consumer(
    lambda event: sync_rule(event["detail"]["tenant_id"], event["detail"]["data"]["id"]), "event target rule"
)
