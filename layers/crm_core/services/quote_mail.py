"""The email that takes a sent quote's public link to its contact (SES, as campaigns send; a service email:
no tracking, no unsubscribe link), and the link itself: ``/q/{token}``, the token signed with the tenant
and the quote in it (crm_core.signing)."""

from __future__ import annotations

from email.message import EmailMessage
from html import escape
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import ProblemError, invalid_field
from crm_core.services import references
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
    if settings().local_mode:
        from crm_core.services.campaign_sends import _verify_locally

        _verify_locally(sender)
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
    ses = aws.client("sesv2")
    try:
        answer = ses.send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [str(address)]},
            Content={"Raw": {"Data": message.as_bytes()}},
            EmailTags=[
                {"Name": "tenant_id", "Value": ctx.tenant_id},
                {"Name": "quote_id", "Value": str(quote["id"])},
            ],
        )
    except ses.exceptions.MessageRejected as error:
        raise ProblemError(
            502, "Bad Gateway", f"The email was refused: {error}. The quote is sent; send it again."
        ) from error
    return str(answer["MessageId"])
