"""Who a piece of work is done for: the caller (or the CRM itself) and the correlation id it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm_core.auth import Principal


@dataclass(frozen=True)
class RequestContext:
    principal: Principal
    correlation_id: str | None = None
    # The caller's address as the API gateway saw it (its audit trail records it); None for the CRM's own
    # work (a reminder falling due, a consumer's change).
    source_ip: str | None = None
    # Records already read while serving this request, by (type, id): read once, whoever asks
    # (services/references.py).
    lookups: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Whether a new record must carry its object's required custom properties: not a lead's (a web form or
    # a partner cannot know the tenant's own properties, and a lead refused is a customer lost); the
    # values a lead does carry are checked all the same.
    require_custom: bool = True

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id
