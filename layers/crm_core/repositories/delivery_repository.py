"""DynamoDB access for webhook deliveries' claims (in the webhook target's partition)."""

from __future__ import annotations

import time

from pynamodb.exceptions import PutError

from crm_core.repositories import keys
from crm_core.repositories.table import DeliveryClaimItem

CLAIM_SK_PREFIX = "DLVTRY#"
# Longer than every retry of a delivery together (WEBHOOK_RETRY_DELAYS_S: about 32 minutes), with margin.
CLAIM_KEPT_S = 3 * 24 * 3600
# A claim older than this may be taken over: its message died (a crash, then the dead-letter queue) and
# is sent again by a redrive, as a new message. Duplicates of a message arrive within seconds.
CLAIM_LEASE_S = 600


def claim_try(tenant_id: str, target_id: str, delivery_id: str, attempt: int, message_id: str) -> bool:
    """One conditional PutItem: whether the queue message ``message_id`` may make try ``attempt`` of the
    delivery. The first message to claim it may, and so may that same message again (SQS hands a message
    back after a crash), or any message once the claim is older than ``CLAIM_LEASE_S``; another message
    for the same try within that time is a duplicate."""
    now = int(time.time())
    claim = DeliveryClaimItem(
        keys.record_pk(tenant_id, "event_target", target_id),
        f"{CLAIM_SK_PREFIX}{delivery_id}#{attempt}",
        message_id=message_id,
        claimed_at=now,
        expires_at=now + CLAIM_KEPT_S,
    )
    try:
        claim.save(
            condition=DeliveryClaimItem.PK.does_not_exist()
            | (DeliveryClaimItem.message_id == message_id)
            | (DeliveryClaimItem.claimed_at < now - CLAIM_LEASE_S)
        )
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
