"""The public tracking links of campaign emails (no credential): ``/t/{token}/open`` (a 1x1 GIF),
``/t/{token}/click?u=`` (a redirect, only to a link of the campaign's body) and ``/t/{token}/unsubscribe``
(a page with a confirm button; its POST, also RFC 8058's one-click POST, suppresses the address and denies
consent). The token is signed (crm_core.signing) and names the tenant, the campaign and the contact; a
forged or altered one, or one naming no recipient of the campaign, is 404. Each records its
``email.opened|clicked|unsubscribed`` once per recipient (campaign_sends.record_once)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from crm_core.errors import ProblemError
from crm_core.ids import utc_now
from crm_core.repositories import campaign_repository as campaigns_repo
from crm_core.repositories import record_repository as repo
from crm_core.repositories import suppression_repository
from crm_core.repositories.transaction import ChangeSet
from crm_core.services import campaigns
from crm_core.services.campaign_sends import TRACKING_PURPOSE, record_once, system_context
from crm_core.services.contacts import CONTACTS
from crm_core.services.records import record_data
from crm_core.signing import verify_carrying_tenant

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@dataclass(frozen=True)
class Recipient:
    tenant_id: str
    campaign_id: str
    contact_id: str


def _not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such link.")


def recipient_of(token: str) -> Recipient:
    """Whom a token names: 404 when it is forged or names no recipient the campaign was sent to."""
    verified = verify_carrying_tenant(TRACKING_PURPOSE, token)
    if verified is None:
        raise _not_found()
    tenant_id, payload = verified
    campaign_id, contact_id = payload.get("c"), payload.get("k")
    if not isinstance(campaign_id, str) or not isinstance(contact_id, str):
        raise _not_found()
    marker = campaigns_repo.get_recipient(tenant_id, campaign_id, contact_id)
    if marker is None or marker.state != "sent":
        raise _not_found()
    return Recipient(tenant_id, campaign_id, contact_id)


def opened(token: str) -> bytes:
    who = recipient_of(token)
    record_once(who.tenant_id, who.campaign_id, who.contact_id, "opened")
    return PIXEL


def clicked(token: str, url: str | None) -> str:
    """Where to send the reader: ``url`` when it is one of the campaign body's links (else 404: no open
    redirect); the click recorded once."""
    who = recipient_of(token)
    campaign = repo.get_record(who.tenant_id, "campaign", who.campaign_id)
    if (
        campaign is None
        or not url
        or url not in campaigns.links(str(record_data(campaign).get("body") or ""))
    ):
        raise _not_found()
    record_once(who.tenant_id, who.campaign_id, who.contact_id, "clicked", url=url)
    return url


def unsubscribe_page(token: str, *, done: bool = False) -> str:
    recipient_of(token)
    if done:
        text = "<h1>You are unsubscribed</h1><p>You will receive no more of these emails.</p>"
    else:
        text = (
            "<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>"
            '<form method="post"><button type="submit">Unsubscribe</button></form>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Unsubscribe</title></head><body><main>{text}</main></body></html>"
    )


def unsubscribe(token: str) -> str:
    """The address suppressed (with the unsubscription's event and count, once) and the contact's email
    consent denied (a contact.updated of its own); asking again changes nothing more."""
    who = recipient_of(token)
    contact = repo.get_record(who.tenant_id, "contact", who.contact_id, consistent=True)
    address = record_data(contact).get("email") if contact is not None else None
    extra = ChangeSet()
    if address:
        extra.save(
            suppression_repository.suppression_item(
                who.tenant_id, str(address), reason="unsubscribed", suppressed_at=utc_now()
            )
        )
    record_once(who.tenant_id, who.campaign_id, who.contact_id, "unsubscribed", extra=extra)
    if contact is not None and contact.archived_at is None and not record_data(contact).get("erased_at"):
        consent = dict(record_data(contact).get("consent") or {})
        if consent.get("email") != "denied":
            CONTACTS.update(
                system_context(who.tenant_id), who.contact_id, {"consent": {**consent, "email": "denied"}}
            )
    return unsubscribe_page(token, done=True)
