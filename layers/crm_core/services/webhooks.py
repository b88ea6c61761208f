"""Webhook deliveries: one per event and matching webhook target, signed, retried with growing delays,
each try in the target's delivery log, and given up to the dead-letter queue after the last."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any, TypedDict

from crm_core import aws, metrics, signing
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.definitions import WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_TIMEOUT_S
from crm_core.errors import ProblemError, not_found
from crm_core.ids import derived_id, new_id, utc_now
from crm_core.models.record import EventDetail, RecordFields
from crm_core.repositories import delivery_repository, keys
from crm_core.repositories import event_target_status_repository as status_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import DeliveryAttemptItem, RecordItem, TableItem
from crm_core.services import audit
from crm_core.services.event_targets import EVENT_TARGETS, Destination, destination, matches
from crm_core.services.records import record_data
from crm_core.stored_values import as_json_value

if TYPE_CHECKING:
    from crm_core.consumers import BusEvent  # the queue consumer's, not loaded by the routes

DELIVERY_SK_PREFIX = "DLV#"
WEBHOOK_TRY_METRICS = {
    "succeeded": "WebhookTriesSucceeded",
    "retrying": "WebhookTriesFailed",
    "gave_up": "WebhookDeliveriesGivenUp",
}
USER_AGENT = "crm-webhooks/1"
REDELIVER_PAGES = 10  # redeliver finds an event among the target's last 1,000 tries


class DeliveryJob(TypedDict):
    """One try at delivering an event to a webhook target: a message of the deliveries queue."""

    tenant_id: str
    target_id: str
    delivery_id: str  # the same on every try of one delivery
    attempt: int  # from 1
    event: EventDetail


# What the delivery log and redelivery routes answer (models/event_target.py: DeliveryTry, Redelivery).
class DeliveryLogEntry(TypedDict):
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    outcome: str  # succeeded, retrying or gave_up
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: str


class RedeliveryView(TypedDict):
    delivery_id: str
    event_id: str
    queued_at: str


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the secret>`` (API.md)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


RESPONSE_READ_LIMIT = 64 * 1024  # of a receiver's answer, read and dropped before the connection closes


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the host name resolves to now; the request
    still names the host (Host header)."""

    def __init__(self, where: Destination, timeout: float) -> None:
        super().__init__(where.host, where.port, timeout=timeout)
        self.address = where.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As ``_PinnedHTTPConnection``, with TLS for the host name: its certificate is verified against the
    name (``server_hostname``, which is also the SNI), not against the address."""

    def __init__(self, where: Destination, timeout: float) -> None:
        super().__init__(where.host, where.port, timeout=timeout, context=ssl.create_default_context())
        self.address = where.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def send(url: str, body: bytes, headers: dict[str, str], *, local_mode: bool) -> int:
    """POST once and answer the receiver's status. The URL is resolved and checked now and the connection
    goes to that checked address (``event_targets.destination``); a redirect is an answer like any other,
    never followed (it would carry the signed event, or a GET with its headers, somewhere unchecked)."""
    where = destination(url, local_mode=local_mode)
    connection = (_PinnedHTTPSConnection if where.scheme == "https" else _PinnedHTTPConnection)(
        where, WEBHOOK_TIMEOUT_S
    )
    try:
        connection.request("POST", where.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return response.status
    finally:
        connection.close()


def _webhook_targets(tenant_id: str) -> list[RecordItem]:
    """The tenant's active webhook targets: one Query a page of its targets (a tenant has few)."""
    found: list[RecordItem] = []
    start = None
    while True:
        items, start = repo.query_page(
            keys.list_pk(tenant_id, "event_target", "active"), index="GSI1", limit=100, start_key=start
        )
        found += [i for i in items if isinstance(i, RecordItem) and record_data(i).get("type") == "webhook"]
        if start is None:
            return found


def fan_out(event: BusEvent) -> int:
    """Queue a delivery of this event to every webhook target of its tenant that wants its type. The
    delivery's id follows from the event's and the target's, so an event handed to the fan-out twice (the
    bus and the queue deliver at least once) queues the same delivery twice, and ``deliver`` makes its
    tries once."""
    detail = event["detail"]
    jobs: list[DeliveryJob] = [
        {
            "tenant_id": detail["tenant_id"],
            "target_id": target.id,
            "delivery_id": derived_id(str(detail["id"]), target.id),
            "attempt": 1,
            "event": detail,
        }
        for target in _webhook_targets(detail["tenant_id"])
        if matches(record_data(target).get("event_types") or [], detail["type"])
        # a target hears what happens from its creation on, not what a lagging relay brings from before
        and str(target.created_at) <= str(detail["occurred_at"])
    ]
    _queue(jobs)
    return len(jobs)


def _queue(jobs: list[DeliveryJob], delay_s: int = 0, queue_url: str | None = None) -> None:
    sqs = aws.client("sqs")
    url = queue_url or settings().webhook_deliveries_queue_url
    for start in range(0, len(jobs), 10):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(job), "DelaySeconds": delay_s}
            for n, job in enumerate(jobs[start : start + 10])
        ]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"could not queue {len(failed)} webhook deliveries: {failed[0]}")


def deliver(job: DeliveryJob, message_id: str | None = None) -> str:
    """One try. Answers the outcome: succeeded, retrying, gave_up, dropped (the target is gone) or
    duplicate (another queue message already made this try)."""
    tenant_id, target_id = job["tenant_id"], job["target_id"]
    target, status = status_repository.read_with_target(tenant_id, target_id)
    if target is None or target.archived_at is not None:
        return "dropped"
    if message_id is not None and not delivery_repository.claim_try(
        tenant_id, target_id, str(job["delivery_id"]), int(job["attempt"]), message_id
    ):
        metrics.count("WebhookTriesDuplicate")
        return "duplicate"
    job = _without_erased_data(job)
    started = time.perf_counter()
    status_code, error = _post_event(job, record_data(target))
    duration_ms = int((time.perf_counter() - started) * 1000)
    attempt = int(job["attempt"])
    delays = settings().webhook_retry_delays_s
    if error is None:
        outcome = "succeeded"
    elif attempt <= len(delays):
        outcome = "retrying"
    else:
        outcome = "gave_up"
    _log(tenant_id, target_id, job, outcome, status_code, error, duration_ms)
    metrics.count(WEBHOOK_TRY_METRICS[outcome])
    # The target's status: failing from a delivery given up until one succeeds (written only on a change).
    if outcome == "gave_up":
        status_repository.mark_failing(tenant_id, target_id, utc_now(), f"delivery given up: {error}")
    elif outcome == "succeeded" and status is not None and status.failing_since:
        status_repository.mark_recovered(tenant_id, target_id)
    if outcome == "retrying":
        _queue([{**job, "attempt": attempt + 1}], delay_s=delays[attempt - 1])
    elif outcome == "gave_up":
        dead = aws.client("sqs").get_queue_url(QueueName=WEBHOOK_DELIVERIES_QUEUE.dead_letter_name)[
            "QueueUrl"
        ]
        # What waits there is the next try, made when `crm dlq redrive` sends it back.
        _queue([{**job, "attempt": attempt + 1}], queue_url=dead)
    return outcome


def redacted(event: EventDetail) -> EventDetail:
    """An event about an erased person as a delivery log keeps it and a late try sends it: its record's
    id, the names of the fields it changed, no value."""
    data = event.get("data") or {}
    changes = {name: {"from": None, "to": None} for name in event.get("changes") or {}}
    return {**event, "data": {"id": data.get("id")}, "changes": changes}


def _without_erased_data(job: DeliveryJob) -> DeliveryJob:
    event = without_erased_data(job["tenant_id"], job["event"])
    return job if event is job["event"] else {**job, "event": event}


def _personal_referrers() -> dict[str, str]:
    """``{event type prefix: field naming the contact}`` of the record types whose records hold what was
    said with a person (``Referrer.personal_text``: an activity's subject and body). Imported when first
    asked: the contacts' referrers load the activities' and deals' services."""
    global _PERSONAL_REFERRERS
    if _PERSONAL_REFERRERS is None:
        from crm_core.services.contacts import referrers

        _PERSONAL_REFERRERS = {
            f"{r.service.spec.object_type}.": r.field_name for r in referrers() if r.personal_text
        }
    return _PERSONAL_REFERRERS


_PERSONAL_REFERRERS: dict[str, str] | None = None


def without_erased_data(tenant_id: str, event: EventDetail) -> EventDetail:
    """An event about an erased person, sent after the erasure (a webhook try queued before it, a retry,
    a partner bus's dead letter sent again), goes out ``redacted``: the erasure cleared the stored copies,
    and a partner is not sent again what it must forget. That is a contact's own event (but
    ``contact.erased``, which holds nothing to hide), and the event of a record that holds what was said
    with the person (an activity's) made before the erasure: the scrub cleared that text, the event still
    has it. One consistent GetItem of the contact, for those types only; the same event is answered when
    nothing is erased."""
    event_type, data = str(event.get("type") or ""), event.get("data") or {}
    if event_type.startswith("contact."):
        contact_id = data.get("id") if event_type != "contact.erased" else None
        made_before_erasure = False
    else:
        field = next((f for p, f in _personal_referrers().items() if event_type.startswith(p)), None)
        contact_id = data.get(field) if field else None
        made_before_erasure = True
    if not contact_id or not isinstance(contact_id, str):
        return event
    contact = repo.get_record(tenant_id, "contact", contact_id, consistent=True)
    erased_at = record_data(contact).get("erased_at") if contact is not None else None
    if not erased_at or (made_before_erasure and str(event.get("occurred_at") or "") > str(erased_at)):
        return event
    return redacted(event)


def _post_event(job: DeliveryJob, target: RecordFields) -> tuple[int | None, str | None]:
    """The job's event posted once to the target's URL, signed: the answer's status code (None when none
    came) and what went wrong (None: delivered)."""
    body = json.dumps(job["event"], separators=(",", ":")).encode()
    status_code, error = None, None
    try:
        status_code = send(
            str(target["url"]),
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "CRM-Signature": signature(str(target["secret"]), int(time.time()), body),
                "CRM-Event-Id": str(job["event"]["id"]),
                "CRM-Event-Type": str(job["event"]["type"]),
                "CRM-Delivery-Id": str(job["delivery_id"]),
            },
            local_mode=settings().local_mode,
        )
        if 300 <= status_code < 400:
            error = f"HTTP {status_code} (redirects are not followed)"
        elif not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except (OSError, http.client.HTTPException) as failure:
        error = (str(failure) or type(failure).__name__)[:500]
    except ProblemError as unsafe:
        error = unsafe.detail
    return status_code, error


def _log(
    tenant_id: str,
    target_id: str,
    job: DeliveryJob,
    outcome: str,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    DeliveryAttemptItem(
        keys.record_pk(tenant_id, "event_target", target_id),
        f"{DELIVERY_SK_PREFIX}{new_id()}",
        delivery_id=job["delivery_id"],
        event_id=job["event"]["id"],
        event_type=job["event"]["type"],
        attempt=int(job["attempt"]),
        outcome=outcome,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
        attempted_at=utc_now(),
        event=job["event"],
    ).save()


def deliveries(
    ctx: RequestContext,
    target_id: str,
    *,
    limit: int,
    cursor: str | None,
    event_id: str | None = None,
    outcome: str | None = None,
) -> tuple[list[DeliveryLogEntry], str | None]:
    """The target's delivery log, newest try first: one Query (the filters apply to the page it reads, so
    a filtered page may hold fewer tries than ``limit``; ``next_cursor`` goes on)."""
    EVENT_TARGETS.get(ctx, target_id)  # 404 for a missing or foreign target
    fingerprint = f"deliveries:{target_id}:{event_id or ''}:{outcome or ''}"
    start = signing.decode_cursor(ctx.tenant_id, fingerprint, cursor) if cursor else None
    condition: Any = None
    if event_id:
        condition = DeliveryAttemptItem.event_id == event_id
    if outcome:
        matches_outcome = DeliveryAttemptItem.outcome == outcome
        condition = matches_outcome if condition is None else condition & matches_outcome
    items, last = repo.query_page(
        keys.record_pk(ctx.tenant_id, "event_target", target_id),
        range_condition=TableItem.SK.startswith(DELIVERY_SK_PREFIX),
        filter_condition=condition,
        limit=limit,
        start_key=start,
        forward=False,
    )
    rows: list[DeliveryLogEntry] = [
        {
            "delivery_id": i.delivery_id,
            "event_id": i.event_id,
            "event_type": i.event_type,
            "attempt": int(i.attempt),
            "outcome": i.outcome,
            "status_code": int(i.status_code) if i.status_code is not None else None,
            "error": i.error,
            "duration_ms": int(i.duration_ms),
            "attempted_at": i.attempted_at,
        }
        for i in items
        if isinstance(i, DeliveryAttemptItem)
    ]
    return rows, (signing.encode_cursor(ctx.tenant_id, fingerprint, last) if last else None)


def redeliver(ctx: RequestContext, target_id: str, event_id: str) -> RedeliveryView:
    """Send an event the target was sent (or was meant to be sent) once more, as a new delivery."""
    ctx.principal.require_admin("event targets")  # a redelivery sends data out: a write
    EVENT_TARGETS.get(ctx, target_id)
    items, start = [], None
    for _page in range(REDELIVER_PAGES):  # the log is newest first: look back so far, no further
        page, start = repo.query_page(
            keys.record_pk(ctx.tenant_id, "event_target", target_id),
            range_condition=TableItem.SK.startswith(DELIVERY_SK_PREFIX),
            limit=100,
            start_key=start,
            forward=False,
        )
        items = [i for i in page if isinstance(i, DeliveryAttemptItem) and i.event_id == event_id]
        if items or start is None:
            break
    if not items:
        raise not_found("delivery of event", event_id)  # never sent to this target, or too long ago
    job: DeliveryJob = {
        "tenant_id": ctx.tenant_id,
        "target_id": target_id,
        "delivery_id": new_id(),
        "attempt": 1,
        "event": as_json_value(items[0].event),
    }
    # Not a record's change, so audited here, before it is sent: an event sent out again is a write of
    # the tenant's data to a partner.
    audit.audit_write(
        ctx,
        job["delivery_id"],
        "event_target.redelivered",
        "event_target",
        target_id,
        {"event_id": {"before": None, "after": event_id}},
    )
    _queue([job])
    return {"delivery_id": job["delivery_id"], "event_id": event_id, "queued_at": utc_now()}
