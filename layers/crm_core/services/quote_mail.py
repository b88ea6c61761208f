"""The email that takes a sent quote's public link to its contact (SES, as campaigns send; a service email:
no tracking, no unsubscribe link), and the link itself: ``/q/{token}``, the token signed with the tenant
and the quote in it (crm_core.signing)."""

from __future__ import annotations

from email.message import EmailMessage
from html import escape
from typing import Any

from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import ProblemError, invalid_field
from crm_core.services import outbound_mail, references
from crm_core.services.records import record_data
from crm_core.signing import sign

PAGE_PURPOSE = "quote"


def page_token(tenant_id: str, quote_id: str) -> str:
    return sign(PAGE_PURPOSE, tenant_id, {"q": quote_id})


def page_url(tenant_id: str, quote_id: str) -> str:
    return f"{settings().public_url}/q/{page_token(tenant_id, quote_id)}"


def send(ctx: RequestContext, quote: dict[str, Any], sender: str | None, note: str | None) -> str:
    """Email the quote's contact its link; the SES message id."""
    contact = references.active_record(ctx, "contact", str(quote["contact_id"]))
    address = record_data(contact).get("email") if contact is not None else None
    if not address:
        raise invalid_field("contact_id", "the contact has no email address")
    if not sender:
        user = references.active_record(ctx, "user", ctx.principal.user_id)
        sender = record_data(user).get("email") if user is not None else None
    if not sender:
        raise invalid_field("from", "name the sender: the calling user has no email address")
    link = page_url(ctx.tenant_id, str(quote["id"]))
    total = f"{quote['total']} {quote['currency']}"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(address)
    message["Subject"] = f"Quote {quote['number']}"
    text = f"{note}\n\n" if note else ""
    message.set_content(f"{text}Your quote {quote['number']} ({total}): {link}\n")
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in (note or "").split("\n\n") if p.strip())
    message.add_alternative(
        f"{paragraphs}<p>Your quote <b>{escape(str(quote['number']))}</b> ({escape(total)}) is ready: "
        f'<a href="{escape(link)}">view, accept or decline it</a>.</p>',
        subtype="html",
    )
    tags = {"tenant_id": ctx.tenant_id, "quote_id": str(quote["id"])}
    try:
        return outbound_mail.send_email(sender, str(address), message, tags)
    except outbound_mail.MailRejected as error:
        raise ProblemError(
            502, "Bad Gateway", f"The email was refused: {error}. The quote is sent; send it again."
        ) from error
