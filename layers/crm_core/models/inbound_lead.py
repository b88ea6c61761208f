"""What the inbound lead route answers: the contact a lead made or updated."""

from __future__ import annotations

from typing import Literal

from crm_core.models.common import Closed
from crm_core.models.contact import Contact


class InboundLeadResult(Closed):
    result: Literal["created", "updated"]
    contact: Contact  # type: ignore[valid-type]
