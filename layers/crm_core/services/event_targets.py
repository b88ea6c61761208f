"""Event targets: which of a tenant's events go where. Webhooks are delivered by the webhook workers."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.errors import invalid_field
from crm_core.models.event_target import EVENT_TARGET_DEFAULTS, EventTargetCreate, EventTargetUpdate
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories import event_target_status_repository as status_repository
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import EventTargetStatusItem, RecordItem
from crm_core.services.records import ListFilters, ObjectSpec, Page, RecordService, record_data


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
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, target_id: str | None
) -> RecordFields:
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


# EventBridge applies a new rule or target "after a short period" (PutTargets): in AWS a target is shown
# active this long after its rule was put; moto applies it at once.
RULE_SETTLE_S = 60


def target_status(body: RecordBody, status: EventTargetStatusItem | None, now: datetime) -> str:
    """``pending`` until the routing of this version of the target is in place (an archived one is
    pending too: nothing routes to it), then ``active``, or ``failing`` from a delivery given up until
    one succeeds (webhooks: a partner bus's refusals are in the partner-deliveries dead-letter queue and do
    not reach the status yet)."""
    if body.get("archived") or status is None or status.routed_version is None:
        return "pending"
    if int(status.routed_version) < int(body["version"]):
        return "pending"
    settle = 0 if settings().local_mode or body.get("type") != "eventbridge" else RULE_SETTLE_S
    if status.routed_at and now < _time(status.routed_at) + timedelta(seconds=settle):
        return "pending"
    return "failing" if status.failing_since else "active"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class EventTargetService(RecordService):
    """The record rules, and what is particular to event targets: their ``status``, kept beside the record
    (read with it: one more GetItem, or one BatchGetItem a page), a restored target counting against the cap
    again and its bus checked again."""

    def with_kept_apart(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        return self._with_status(tenant_id, bodies)

    def _with_status(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        found = status_repository.read_many(tenant_id, [body["id"] for body in bodies])
        now = datetime.now(UTC)
        for body in bodies:
            body["status"] = target_status(body, found.get(body["id"]), now)
        return bodies

    def get(self, ctx: RequestContext, record_id: str, *, archived: bool = False) -> RecordBody:
        return self._with_status(ctx.tenant_id, [super().get(ctx, record_id, archived=archived)])[0]

    def list_records(
        self,
        ctx: RequestContext,
        *,
        filters: ListFilters,
        q: str | None,
        archived: bool,
        limit: int,
        cursor: str | None,
        sort: str | None = None,
    ) -> Page[RecordBody]:
        page = super().list_records(
            ctx, filters=filters, q=q, archived=archived, limit=limit, cursor=cursor, sort=sort
        )
        return page._replace(items=self._with_status(ctx.tenant_id, page.items))

    def create(self, ctx: RequestContext, fields: RecordFields) -> RecordBody:
        return {**super().create(ctx, fields), "status": "pending"}  # nothing routes to it yet

    def update(
        self, ctx: RequestContext, record_id: str, fields: RecordFields, if_match: int | None = None
    ) -> RecordBody:
        body = super().update(ctx, record_id, fields, if_match)
        return body if "status" in body else self._with_status(ctx.tenant_id, [body])[0]

    def restore(self, ctx: RequestContext, record_id: str) -> RecordBody:
        archived = self.load(ctx, record_id, archived=True)
        if record_data(archived).get("type") == "eventbridge":
            check_bus(str(record_data(archived).get("event_bus_arn")))
        require_room(ctx)
        return self._with_status(ctx.tenant_id, [super().restore(ctx, record_id)])[0]


EVENT_TARGETS = EventTargetService(
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
