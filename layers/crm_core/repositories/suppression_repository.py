"""Addresses no email may be sent to: one item per address, keyed by the tenant and a hash of the
normalized address, so that the list itself holds no address (docs/decisions/0014-erasure.md).

Email sending asks ``is_suppressed(tenant, email)`` (one GetItem) before it sends."""

from __future__ import annotations

import hashlib

from pynamodb.exceptions import DoesNotExist

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
