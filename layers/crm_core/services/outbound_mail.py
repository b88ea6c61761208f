"""The one way the CRM sends an email (campaigns, surveys, quotes): SES v2 with the raw message, from a
verified identity (sender_identity), tagged with the tenant and what the email is about, and through the
configuration set when there is one, so that its bounces and complaints come back to the CRM
(campaign_sends.on_ses_notification: a hard bounce or a complaint suppresses the address for every later
email of the tenant, whichever kind of email it was)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.services import sender_identity


class MailRejected(Exception):
    """SES refused the message (MessageRejected): its reason is the text."""


def send_email(sender: str, address: str, message: EmailMessage, tags: dict[str, str]) -> str:
    """Send ``message`` from ``sender`` to ``address``; the SES message id. ``tags``: name to value (the
    tenant's id always among them). Raises ``MailRejected`` when SES refuses the message."""
    assert "tenant_id" in tags, "every email names its tenant (the notifications find it by its tags)"
    sender_identity.verify_locally(sender)
    ses = aws.client("sesv2")
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [address]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
        "EmailTags": [{"Name": name, "Value": value} for name, value in tags.items()],
    }
    configuration_set = settings().ses_configuration_set
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    try:
        answer = ses.send_email(**request)
    except ses.exceptions.MessageRejected as error:
        raise MailRejected(str(error)) from error
    return str(answer["MessageId"])
