"""A suspended tenant's background work waits (API.md section 6 "suspend / resume"; docs/decisions/0034):
its campaign batches do not send, its reminders, SLA timers, quote expiries and contract timers do not
fire, its webhooks are not delivered — held, not lost: the message goes back to its own queue, to be looked
at again ``settings().suspended_hold_s`` later (SQS's longest delay, 15 minutes; a second locally), until
the tenant is resumed (then it runs as it would have) or deleted (then it finds its records gone, as any
work in flight does: docs/decisions/0028).

The check is the tenant's status from the cached read the plans' quotas use (crm_core.plans: one GetItem a
tenant a minute a container), so a suspension reaches every worker within a minute (at once in the process
that made it). A held message is a new message (a SendMessage), not a failure: it never counts towards the
queue's retries or lands in its dead-letter queue however long the suspension lasts. What a held message
costs: one SendMessage and one (batched) consumer invocation every 15 minutes while the tenant is suspended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crm_core import metrics, plans
from crm_core.config import settings
from crm_core.definitions import QueueDefinition

HELD = "held: tenant suspended"


def tenant_of(body: Mapping[str, Any]) -> str | None:
    """The tenant a queue message is for: its own ``tenant_id``, or its bus event's."""
    detail = body.get("detail")
    tenant_id = body.get("tenant_id") or (detail.get("tenant_id") if isinstance(detail, Mapping) else None)
    return str(tenant_id) if tenant_id else None


def held(queue: QueueDefinition, body: Mapping[str, Any]) -> str | None:
    """``HELD`` when the message's tenant is suspended (the message sent again to ``queue``, delayed), None
    when the work may go on."""
    tenant_id = tenant_of(body)
    if tenant_id is None or plans.tenant_status(tenant_id) != "suspended":
        return None
    from crm_core.consumers import send_continuation

    send_continuation(queue, body, delay_s=min(900, settings().suspended_hold_s))
    metrics.count("TenantWorkHeld")
    return HELD


def holding(queue: QueueDefinition) -> Callable[[dict[str, Any]], str | None]:
    """``held`` for the consumer of ``queue`` (crm_core.consumers.sqs_consumer's ``hold``)."""
    return lambda body: held(queue, body)
