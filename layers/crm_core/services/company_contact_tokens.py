"""Contacts are found by their company's current name: when a company is renamed, archived or restored, a
consumer of its events brings the company token of each of its active contacts in step.

This is index maintenance, not a change of the contacts: what the API shows of a contact stays the same,
so its version stays and no ``contact.updated`` is published (``RecordService.refresh_related``).

It converges from state (decision 0005), not from the event: the company's current name (none when it is
archived or gone) and each contact's current item are read, so a repeated, late or reordered message
finds the tokens right and writes nothing. A message does at most ``CONTACTS_PER_MESSAGE`` contacts and
queues the rest as a continuation of itself, holding its place in the company's list of contacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, final

from crm_core.auth import Principal
from crm_core.consumers import send_continuation
from crm_core.context import RequestContext
from crm_core.definitions import COMPANY_CONTACT_TOKENS_QUEUE
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.repositories.transaction import WriteConflict
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import record_data

if TYPE_CHECKING:
    from crm_core.consumers import BusEvent

PAGE_SIZE = 100  # one Query of the parent index and one BatchGetItem (at most 100 keys) per page
CONTACTS_PER_MESSAGE = 200  # then a continuation message: each message's work is bounded
WRITE_ATTEMPTS = 3
# What a company's event must have changed for its contacts' tokens to change with it.
WATCHED_CHANGES = frozenset({"name", "archived"})


@final  # no "detail": what tells it from a company's event on the same queue
class TokensContinuation(TypedDict):
    """The rest of a company's contacts, as ``_continue`` queues them."""

    tenant_id: str
    company_id: str
    start: dict[str, str] | None  # a position in the company's list of contacts; None: the first


def handle(message: BusEvent | TokensContinuation) -> str:
    """One queue message: a company event delivered by the rule on the crm bus, or a continuation."""
    if "detail" in message:
        detail = message["detail"]
        if not WATCHED_CHANGES & set(detail.get("changes") or {}):
            return "nothing to do"
        return refresh(detail["tenant_id"], detail["data"]["id"])
    return refresh(message["tenant_id"], message["company_id"], message.get("start"))


def refresh(tenant_id: str, company_id: str, start: dict[str, str] | None = None) -> str:
    """Bring the company token of the company's active contacts in step with the company, from ``start``
    (a position in its list of contacts; None: the first), at most ``CONTACTS_PER_MESSAGE`` of them."""
    company = repo.get_record(tenant_id, "company", company_id, consistent=True)
    ctx = RequestContext(Principal.system(tenant_id, "company-contact-tokens"))
    # What a contact's references resolve against (services/references.py): this read, for every contact.
    active = company is not None and company.archived_at is None
    ctx.lookups[("company", company_id)] = company if active else None
    seen = refreshed = 0
    while seen < CONTACTS_PER_MESSAGE:
        limit = min(PAGE_SIZE, CONTACTS_PER_MESSAGE - seen)
        ids, start = CONTACTS.ids_referring(tenant_id, "company_id", company_id, limit=limit, start_key=start)
        current = repo.batch_get_records(tenant_id, "contact", ids, consistent=True)
        for contact_id in ids:
            refreshed += _refresh_contact(ctx, company_id, current.get(contact_id))
        seen += len(ids)
        if start is None:
            return f"{refreshed} of {seen} contacts refreshed"
    _continue(tenant_id, company_id, start)
    return f"{refreshed} of {seen} contacts refreshed; the rest continues"


def _refresh_contact(ctx: RequestContext, company_id: str, item: RecordItem | None) -> bool:
    """True when the contact's tokens were written, False when they were right (or are not ours)."""
    for _ in range(WRITE_ATTEMPTS):
        if item is None or item.archived_at is not None:
            return False  # an archived contact keeps no search entries
        data = record_data(item)
        if data.get("company_id") != company_id:
            return False  # moved to another company since the list was read: that change set its tokens
        # The contact's facts resolved afresh (nothing carried over), as the contact type's rule says.
        related = CONTACTS.spec.resolve(ctx, data, set(), {})
        try:
            return CONTACTS.refresh_related(item, related)
        except WriteConflict:
            item = repo.get_record(ctx.tenant_id, "contact", item.id, consistent=True)
    raise RuntimeError(f"contact {item.id if item else '?'} kept changing; the message will be tried again")


def _continue(tenant_id: str, company_id: str, start: dict[str, str] | None) -> None:
    """The rest of the company's contacts, in a message of their own to the same queue."""
    continuation: TokensContinuation = {"tenant_id": tenant_id, "company_id": company_id, "start": start}
    send_continuation(COMPANY_CONTACT_TOKENS_QUEUE, continuation)
