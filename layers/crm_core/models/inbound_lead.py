"""What the inbound routes answer: the contact a lead made or updated; the ticket a submission opened."""

from __future__ import annotations

from typing import Literal

from crm_core.models.common import Closed
from crm_core.models.contact import Contact
from crm_core.models.ticket import Ticket


class InboundLeadResult(Closed):
    result: Literal["created", "updated"]
    contact: Contact  # type: ignore[valid-type]


class InboundTicketResult(Closed):
    """What /v1/inbound/tickets answers: the ticket, and the contact it was opened for."""

    result: Literal["created", "existing"]
    ticket: Ticket  # type: ignore[valid-type]
    contact: Contact  # type: ignore[valid-type]
