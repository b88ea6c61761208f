"""The sending identity every email of the CRM needs on SES (campaigns, surveys, quotes): in AWS the operator
verifies a tenant's sending domain; on the local endpoint it is verified here, once per domain a process
sends from, so moto's SES accepts the message as SES would."""

from __future__ import annotations

import contextlib
from email.utils import parseaddr

from crm_core import aws
from crm_core.config import settings

_verified: set[str] = set()


def verify_locally(sender: str) -> None:
    """On the local endpoint only (nothing in AWS): the sender's domain as a verified identity."""
    if not settings().local_mode:
        return
    domain = parseaddr(sender)[1].rsplit("@", 1)[-1]
    if domain in _verified:
        return
    ses = aws.client("sesv2")
    with contextlib.suppress(ses.exceptions.AlreadyExistsException):
        ses.create_email_identity(EmailIdentity=domain)
    _verified.add(domain)
