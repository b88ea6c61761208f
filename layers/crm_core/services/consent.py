"""Who may be sent an email (API.md "campaigns"): nobody without granted consent, nobody on the tenant's
suppression list (unsubscribed, bounced, complained, erased), nobody without an address.

The one rule every sender asks: ``may_email`` for one contact, ``emailable`` for a page of them (one
BatchGetItem of the suppression list per 100 contacts, strongly consistent: an unsubscribe a moment ago
counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm_core.repositories import suppression_repository


def _consents(contact: Mapping[str, Any]) -> bool:
    """Consent and an address, on the contact as the API shows it (an archived or erased one never)."""
    consent = contact.get("consent") or {}
    return bool(
        contact.get("email")
        and consent.get("email") == "granted"
        and not contact.get("archived")
        and not contact.get("erased_at")
    )


def emailable(tenant_id: str, contacts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Those of ``contacts`` (as the API shows them) that may be sent an email now, in their order."""
    consenting = [contact for contact in contacts if _consents(contact)]
    if not consenting:
        return []
    suppressed: set[str] = set()
    addresses = [str(contact["email"]) for contact in consenting]
    for start in range(0, len(addresses), 100):
        suppressed |= suppression_repository.suppressed_among(tenant_id, addresses[start : start + 100])
    return [contact for contact in consenting if contact["email"] not in suppressed]


def may_email(tenant_id: str, contact: Mapping[str, Any]) -> bool:
    """Whether ``contact`` (as the API shows it) may be sent an email now: granted consent, an address,
    active, not erased, and not on the tenant's suppression list (one consistent GetItem)."""
    if not _consents(contact):
        return False
    return not suppression_repository.is_suppressed(tenant_id, str(contact["email"]))
