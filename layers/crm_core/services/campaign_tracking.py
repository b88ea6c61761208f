"""The public tracking links of campaign emails (no credential): ``/t/{token}/open`` (a 1x1 GIF),
``/t/{token}/click?u=`` (a redirect, only to a link of the campaign's body) and ``/t/{token}/unsubscribe``
(a page with a confirm button; its POST, also RFC 8058's one-click POST, suppresses the address and denies
consent; its confirmation offers ``/t/{token}/unsubscribe?action=resubscribe``, whose POST lifts that
unsubscription, and only that, and grants consent again). The token is signed (crm_core.signing) and names
the tenant, the campaign and the contact (and a birthday campaign's year); a forged or altered one, or one
naming no recipient of the campaign, is 404. Each records its ``email.opened|clicked|unsubscribed`` once
per recipient (campaign_sends.record_once)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from crm_core.errors import ProblemError
from crm_core.ids import utc_now
from crm_core.repositories import campaign_repository as campaigns_repo
from crm_core.repositories import record_repository as repo
from crm_core.repositories import suppression_repository
from crm_core.repositories.table import RecordItem
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
    occasion: str | None = None  # a birthday campaign's year


def _not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such link.")


def recipient_of(token: str) -> Recipient:
    """Whom a token names: 404 when it is forged or names no recipient the campaign was sent to."""
    verified = verify_carrying_tenant(TRACKING_PURPOSE, token)
    if verified is None:
        raise _not_found()
    tenant_id, payload = verified
    campaign_id, contact_id, occasion = payload.get("c"), payload.get("k"), payload.get("o")
    if (
        not isinstance(campaign_id, str)
        or not isinstance(contact_id, str)
        or not isinstance(occasion, str | None)
    ):
        raise _not_found()
    marker = campaigns_repo.get_recipient(tenant_id, campaign_id, contact_id, occasion)
    if marker is None or marker.state != "sent":
        raise _not_found()
    return Recipient(tenant_id, campaign_id, contact_id, occasion)


def opened(token: str) -> bytes:
    who = recipient_of(token)
    record_once(who.tenant_id, who.campaign_id, who.contact_id, "opened", occasion=who.occasion)
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
    record_once(who.tenant_id, who.campaign_id, who.contact_id, "clicked", occasion=who.occasion, url=url)
    return url


def _page(title: str, text: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main>{text}</main></body></html>"
    )


# Relative to /t/{token}/unsubscribe: the same link's re-subscription (the page's CSP allows forms to 'self').
_RESUBSCRIBE_FORM = (
    '<form method="post" action="unsubscribe?action=resubscribe"><p>Unsubscribed by mistake?</p>'
    '<button type="submit">Subscribe again</button></form>'
)


def unsubscribe_page(token: str, *, done: bool = False) -> str:
    recipient_of(token)
    if done:
        text = (
            "<h1>You are unsubscribed</h1><p>You will receive no more of these emails.</p>"
            + _RESUBSCRIBE_FORM
        )
    else:
        text = (
            "<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>"
            '<form method="post"><button type="submit">Unsubscribe</button></form>'
        )
    return _page("Unsubscribe", text)


def unsubscribe(token: str) -> str:
    """The address suppressed (with the unsubscription's event and count, once) and the contact's email
    consent denied (a contact.updated of its own); asking again changes nothing more. A suppression already
    there for a stronger reason (a bounce, a complaint) keeps its reason."""
    who = recipient_of(token)
    contact = repo.get_record(who.tenant_id, "contact", who.contact_id, consistent=True)
    address = record_data(contact).get("email") if contact is not None else None
    extra = ChangeSet()
    if address:
        item, actions = suppression_repository.unsubscribe_update(
            who.tenant_id, str(address), suppressed_at=utc_now()
        )
        extra.update(item, actions)
    record_once(
        who.tenant_id, who.campaign_id, who.contact_id, "unsubscribed", extra=extra, occasion=who.occasion
    )
    if _active(contact):
        _set_email_consent(who, contact, "denied")
    return unsubscribe_page(token, done=True)


def resubscribe_page(token: str) -> str:
    """GET of the re-subscription link (a mail program's preview may fetch it): a page with its button;
    nothing changes until it is pressed."""
    recipient_of(token)
    return _page(
        "Subscribe again",
        "<h1>Subscribe again</h1><p>Receive these emails again?</p>"
        '<form method="post"><button type="submit">Subscribe again</button></form>',
    )


def resubscribe(token: str) -> str:
    """The person's own undoing of an unsubscription: the address's suppression lifted when, and only when,
    its reason is ``unsubscribed`` (a hard bounce, a complaint or an erasure is never lifted this way), then
    the contact's email consent granted (a contact.updated of its own). Asking again changes nothing more."""
    who = recipient_of(token)
    contact = repo.get_record(who.tenant_id, "contact", who.contact_id, consistent=True)
    address = record_data(contact).get("email") if contact is not None and _active(contact) else None
    if (
        contact is None
        or not address
        or not suppression_repository.lift_unsubscribe(who.tenant_id, str(address))
    ):
        return _page(
            "Subscribe again",
            "<h1>This address cannot be subscribed again here</h1>"
            "<p>Emails to it cannot be delivered or it was removed. Please contact the sender.</p>",
        )
    _set_email_consent(who, contact, "granted")
    return _page(
        "Subscribed again", "<h1>You are subscribed again</h1><p>You will receive these emails again.</p>"
    )


def _active(contact: RecordItem | None) -> bool:
    return contact is not None and contact.archived_at is None and not record_data(contact).get("erased_at")


def _set_email_consent(who: Recipient, contact: RecordItem | None, value: str) -> None:
    """The contact's ``consent.email`` set to ``value`` by the system (its contact.updated) if it differs."""
    if contact is None:
        return
    consent = dict(record_data(contact).get("consent") or {})
    if consent.get("email") != value:
        CONTACTS.update(
            system_context(who.tenant_id), who.contact_id, {"consent": {**consent, "email": value}}
        )
