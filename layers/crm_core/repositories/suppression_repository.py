"""Addresses no email may be sent to: one item per address, keyed by the tenant and a hash of the
normalized address, so that the list itself holds no address (docs/decisions/0014-erasure.md).

Email sending asks ``is_suppressed(tenant, email)`` (one GetItem) before it sends. Reasons: ``unsubscribed``
(the person's own act, which the person alone lifts: ``lift_unsubscribe``), ``hard_bounce``, ``complaint``,
``erased`` (never lifted). An unsubscription never replaces a stronger reason (``unsubscribe_update``)."""

from __future__ import annotations

import hashlib

from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.expressions.update import Action

from crm_core.repositories import keys
from crm_core.repositories.table import SuppressionItem


def normalized(email: str) -> str:
    """An address as it is compared: trimmed, lower case (as the contact email's unique marker keys it)."""
    return email.strip().lower()


def email_hash(tenant_id: str, email: str) -> str:
    """SHA-256 of the tenant and the normalized address: the same address hashes differently in each
    tenant, so one tenant's list says nothing of another's."""
    return hashlib.sha256(f"{tenant_id}\n{normalized(email)}".encode()).hexdigest()


def suppression_item(tenant_id: str, email: str, *, reason: str, suppressed_at: str) -> SuppressionItem:
    """The item that suppresses ``email`` (not yet saved: written in the transaction of what causes it)."""
    return SuppressionItem(
        keys.suppression_pk(tenant_id, email_hash(tenant_id, email)),
        keys.SUPPRESSED_SK,
        reason=reason,
        suppressed_at=suppressed_at,
    )


def suppress(tenant_id: str, email: str, *, reason: str, suppressed_at: str) -> None:
    """``email`` suppressed on its own (one PutItem: what causes it writes nothing else)."""
    suppression_item(tenant_id, email, reason=reason, suppressed_at=suppressed_at).save()


UNSUBSCRIBED = "unsubscribed"


def unsubscribe_update(
    tenant_id: str, email: str, *, suppressed_at: str
) -> tuple[SuppressionItem, list[Action]]:
    """The item and the UpdateItem actions that suppress ``email`` as unsubscribed, for a ChangeSet: the
    reason and time of a suppression already there (a bounce, a complaint, an erasure) are kept."""
    item = SuppressionItem(keys.suppression_pk(tenant_id, email_hash(tenant_id, email)), keys.SUPPRESSED_SK)
    return item, [
        SuppressionItem.reason.set(SuppressionItem.reason | UNSUBSCRIBED),
        SuppressionItem.suppressed_at.set(SuppressionItem.suppressed_at | suppressed_at),
        SuppressionItem.item_type.set(SuppressionItem),
    ]


def suppression_reason(tenant_id: str, email: str) -> str | None:
    """Why ``email`` is suppressed in this tenant (None: it is not): one strongly consistent GetItem."""
    try:
        item = SuppressionItem.get(
            keys.suppression_pk(tenant_id, email_hash(tenant_id, email)),
            keys.SUPPRESSED_SK,
            consistent_read=True,
        )
    except DoesNotExist:
        return None
    return str(item.reason)


def lift_unsubscribe(tenant_id: str, email: str) -> bool:
    """The address's suppression removed if, and only if, it is an unsubscription (one conditional
    DeleteItem): True when the address is no longer suppressed (lifted now or not suppressed at all), False
    when another reason holds it (a bounce, a complaint, an erasure: never lifted this way)."""
    item = SuppressionItem(keys.suppression_pk(tenant_id, email_hash(tenant_id, email)), keys.SUPPRESSED_SK)
    try:
        item.delete(condition=SuppressionItem.PK.does_not_exist() | (SuppressionItem.reason == UNSUBSCRIBED))
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def is_suppressed(tenant_id: str, email: str) -> bool:
    """Whether no email may be sent to ``email`` in this tenant: one strongly consistent GetItem."""
    try:
        SuppressionItem.get(
            keys.suppression_pk(tenant_id, email_hash(tenant_id, email)),
            keys.SUPPRESSED_SK,
            consistent_read=True,
        )
    except DoesNotExist:
        return False
    return True


def suppressed_among(tenant_id: str, emails: list[str]) -> set[str]:
    """Which of ``emails`` no email may be sent to (as given): strongly consistent BatchGetItems, one per
    100 distinct addresses."""
    from crm_core.repositories.record_repository import get_items

    by_pk = {keys.suppression_pk(tenant_id, email_hash(tenant_id, email)): email for email in emails}
    found = get_items([(pk, keys.SUPPRESSED_SK) for pk in by_pk], consistent=True)
    held = {item.PK for item in found if isinstance(item, SuppressionItem)}
    return {email for pk, email in by_pk.items() if pk in held}
