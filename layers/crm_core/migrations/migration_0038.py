"""Migration 0038 (docs/decisions/0038-webhook-fan-out-per-tenant.md): the webhook rule of each tenant that
had a webhook target before the fan-out heard a tenant's events through a rule of its own.

Until then one rule brought every event of every tenant to the fan-out; the deployment that removes it
leaves a tenant's webhooks unheard until its rule is put. For each active webhook target this puts its
tenant's rule, as the event target rules consumer does with a target's change (idempotent: a tenant whose
rule is there is left as it is). Run it right after that deployment; events committed between the
deployment and the tenant's rule are not delivered (their change and event are kept: the target's
`/deliveries` and `/redeliver` reach them by id).
"""

from __future__ import annotations

import functools

from crm_core.migrations import Action, Call, Item, Migration, item_kind, text

WEBHOOK_TARGET = "record:event_target (webhook)"


def kind(item: Item) -> str:
    if item_kind(item) == "record:event_target" and _webhook(item) and not text(item, "archived_at"):
        return WEBHOOK_TARGET
    return item_kind(item)


def _webhook(item: Item) -> bool:
    data = item.get("data") or {}
    fields = data.get("M", {}) if isinstance(data, dict) else {}
    return bool(text(fields, "type") == "webhook")


def step(item: Item) -> Action:
    if kind(item) != WEBHOOK_TARGET:
        return None
    tenant_id = text(item, "tenant_id")
    return Call(lambda: put_rule(tenant_id))


def put_rule(tenant_id: str) -> bool:
    """The tenant's webhook rule, when it is not there; whether it was put."""
    from crm_core import aws
    from crm_core.config import settings
    from crm_core.services.event_target_rules import put_webhook_rule, webhook_rule_name

    events = aws.client("events")
    try:
        events.describe_rule(Name=webhook_rule_name(tenant_id), EventBusName=settings().event_bus_name)
        return False
    except events.exceptions.ResourceNotFoundException:
        put_webhook_rule(tenant_id, _queue_arns())
        return True


@functools.cache
def _queue_arns() -> tuple[str, str]:
    """The fan-out's queue and its dead-letter queue, found by their names (the stack names them as the
    definitions do): the operator's shell running the migration has no function's environment."""
    from crm_core import aws
    from crm_core.definitions import WEBHOOK_EVENTS_QUEUE

    sqs = aws.client("sqs")

    def arn(name: str) -> str:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )

    return arn(WEBHOOK_EVENTS_QUEUE.name), arn(WEBHOOK_EVENTS_QUEUE.dead_letter_name)


MIGRATION = Migration(
    name="0038",
    description="put the webhook rule of each tenant with a webhook target (the fan-out hears a tenant's "
    "events through a rule of its own since decision 0038)",
    kind=kind,
    step=step,
    reads=("type", "object_type", "tenant_id", "data", "archived_at"),
)
