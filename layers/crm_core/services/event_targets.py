"""Event targets: which of a tenant's events go where. Webhooks are delivered by the webhook workers."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crm_core.config import settings
from crm_core.errors import invalid_field
from crm_core.models.event_target import EVENT_TARGET_DEFAULTS, EventTargetCreate, EventTargetUpdate
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services.records import ObjectSpec, RecordService, RequestContext, record_data


def matches(patterns: list[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in ("*", event_type) or (pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
            return True
    return False


NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses, reached through a NAT64 gateway


def address_allowed(address: str, *, local_mode: bool) -> bool:
    """Whether a webhook may be sent to this IP address. In AWS only globally routable unicast addresses
    (``is_global``, not multicast), judged on the IPv4 address inside an IPv6 one that carries it (mapped,
    6to4, Teredo, NAT64), so ``::ffff:127.0.0.1`` is loopback. On a laptop (``crm dev``) any unicast
    address, loopback included, for local receivers."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if carried is None and ip in NAT64_PREFIX:
            carried = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        ip = carried or ip
    if ip.is_multicast or ip.is_unspecified:
        return False
    return local_mode or ip.is_global


@dataclass(frozen=True)
class Destination:
    """Where one webhook try goes: the URL's parts, and the one address it connects to (checked)."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str


def destination(url: str, *, local_mode: bool) -> Destination:
    """The URL resolved now, every address it resolves to checked (``address_allowed``): one refused
    address refuses the URL, so a name that also answers a private address is never used. The caller
    connects to ``address`` and nothing else, so a name that resolves differently a moment later (DNS
    rebinding) cannot move the connection to an address that was not checked."""
    parts = urlsplit(url)
    if parts.scheme not in (("http", "https") if local_mode else ("https",)) or not parts.hostname:
        raise invalid_field("url", "must be an https URL" if not local_mode else "must be an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise invalid_field("url", "has an invalid port") from None
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise invalid_field("url", f"{parts.hostname} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        if not address_allowed(address, local_mode=local_mode):
            raise invalid_field(
                "url",
                f"{parts.hostname} resolves to {address}, which is not a public address"
                if not local_mode
                else f"{parts.hostname} resolves to {address}, which cannot receive a webhook",
            )
    if not addresses:
        raise invalid_field("url", f"{parts.hostname} does not resolve")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return Destination(parts.scheme, parts.hostname, port, target, addresses[0])


def check_url(url: str, *, local_mode: bool) -> None:
    """https to public addresses (``destination``). On a laptop (crm dev) http and loopback are allowed,
    for local receivers. Checked when a target is saved, and again at each try on the address it connects
    to (a name may resolve anew)."""
    destination(url, local_mode=local_mode)


MAX_ACTIVE_TARGETS = 25  # per tenant: each is a rule on the CRM's bus or a delivery per event


def require_room(ctx: RequestContext) -> None:
    """422 when the tenant already has ``MAX_ACTIVE_TARGETS`` active targets: one Query of its active
    targets (GSI1), at most that many plus one read."""
    items, _ = repo.query_page(
        keys.list_pk(ctx.tenant_id, "event_target", "active"), index="GSI1", limit=MAX_ACTIVE_TARGETS + 1
    )
    if sum(isinstance(item, RecordItem) for item in items) >= MAX_ACTIVE_TARGETS:
        raise invalid_field(
            "type",
            f"this tenant already has {MAX_ACTIVE_TARGETS} active event targets, the most it may have; "
            "archive one first",
        )


def bus_account(event_bus_arn: str) -> str:
    """The AWS account of a bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)."""
    return event_bus_arn.split(":")[4]


def check_bus(event_bus_arn: str) -> None:
    """A partner's bus is in another account: one in the CRM's own account would be the CRM's own bus (its
    events would come back to it in a loop) or a bus the CRM's role may not put events on."""
    if bus_account(event_bus_arn) == settings().account_id:
        raise invalid_field(
            "event_bus_arn",
            "is in the CRM's own AWS account; a partner's bus must be in the partner's account",
        )


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
    elif data.get("type") == "eventbridge":
        if not data.get("event_bus_arn"):
            raise invalid_field("event_bus_arn", "an eventbridge target needs the partner's bus ARN")
        check_bus(str(data["event_bus_arn"]))
    if before is None:
        require_room(ctx)
    return data


class EventTargetService(RecordService):
    """The record rules, and what is particular to event targets: a restored target counts against the
    cap again and its bus is checked again."""

    def restore(self, ctx: RequestContext, record_id: str) -> dict[str, Any]:
        archived = self._load(ctx, record_id, archived=True)
        if record_data(archived).get("type") == "eventbridge":
            check_bus(str(record_data(archived).get("event_bus_arn")))
        require_room(ctx)
        return super().restore(ctx, record_id)


EVENT_TARGETS = EventTargetService(
    ObjectSpec(
        object_type="event_target",
        create_model=EventTargetCreate,
        update_model=EventTargetUpdate,
        defaults=EVENT_TARGET_DEFAULTS,
        tokens=lambda data, related: [],
        derive=derive,
        hidden_fields=("secret",),
    )
)
