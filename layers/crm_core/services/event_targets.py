"""Event targets: which of a tenant's events go where. Webhooks are delivered by the webhook workers."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from crm_core.config import settings
from crm_core.errors import invalid_field
from crm_core.models.event_target import EVENT_TARGET_DEFAULTS, EventTargetCreate, EventTargetUpdate
from crm_core.services.records import ObjectSpec, RecordService, RequestContext


def matches(patterns: list[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in ("*", event_type) or (pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
            return True
    return False


def check_url(url: str, *, local_mode: bool) -> None:
    """https to a public address. On a laptop (crm dev) http and loopback are allowed, for local receivers.
    Checked when a target is saved and again before each delivery (a name may resolve anew)."""
    parts = urlsplit(url)
    if parts.scheme not in (("http", "https") if local_mode else ("https",)) or not parts.hostname:
        raise invalid_field("url", "must be an https URL" if not local_mode else "must be an http(s) URL")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror:
        raise invalid_field("url", f"{parts.hostname} does not resolve") from None
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not local_mode and (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved):
            raise invalid_field("url", "points at a private or loopback address")


def derive(
    ctx: RequestContext, data: dict[str, Any], before: dict[str, Any] | None, target_id: str | None
) -> dict[str, Any]:
    data = dict(data)
    if before is not None and data.get("type") != before.get("type"):
        raise invalid_field("type", "cannot change; create another target")
    if data.get("type") == "webhook":
        if data.get("url") and data.get("url") != (before or {}).get("url"):
            check_url(str(data["url"]), local_mode=settings().local_mode)
        if not data.get("url") or not data.get("secret"):
            raise invalid_field("url", "a webhook needs url and secret")
    elif data.get("type") == "eventbridge" and not data.get("event_bus_arn"):
        raise invalid_field("event_bus_arn", "an eventbridge target needs the partner's bus ARN")
    return data


EVENT_TARGETS = RecordService(
    ObjectSpec(
        object_type="event_target",
        admin_only=True,
        create_model=EventTargetCreate,
        update_model=EventTargetUpdate,
        defaults=EVENT_TARGET_DEFAULTS,
        tokens=lambda data, related: [],
        derive=derive,
        hidden_fields=("secret",),
    )
)
