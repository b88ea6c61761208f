"""The audit trail (/v1/audit-events): who wrote what, when, from where; read by an admin, newest first.

A record's change writes its audit item with what follows from it (services/records/derived.py, decision
0010); a write that is not a record's (a redelivery) writes its own with ``audit_write``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from crm_core import signing
from crm_core.auth import Role
from crm_core.context import RequestContext
from crm_core.errors import forbidden, invalid_field
from crm_core.ids import utc_now, utc_text
from crm_core.record_types import record_type
from crm_core.repositories import audit_repository, keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import AuditItem, RecordItem, TableItem
from crm_core.services.records.items import IMPORTED_OBJECTS, audit_item, creation_audit_deferred
from crm_core.services.records.queries import Page, Position, _Rounds, fingerprint
from crm_core.stored_values import as_json_value

AuditEvent = dict[str, Any]
_Read = list[tuple[AuditEvent, Position]]  # the items a round read, each with its position
# Every id in a key sorts before this: a bound ``<time>#~`` holds all of that time's items.
AFTER_EVERY_ID = "~"


def audit_write(
    ctx: RequestContext,
    audit_id: str,
    action: str,
    object_type: str,
    object_id: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """The audit item of a write that is not a record's change (one PutItem), made before that write so
    that nothing done goes unaudited; ``audit_id`` a new id, or one derived from the write's own."""
    audit_repository.audit_item(
        ctx.tenant_id,
        audit_id=audit_id,
        occurred_at=utc_now(),
        actor=ctx.principal.actor,
        actions=[action],
        object_type=object_type,
        object_id=object_id,
        changes=changes or {},
        request_id=ctx.correlation_id,
        source_ip=ctx.source_ip,
    ).save()


def audit_events(
    ctx: RequestContext,
    *,
    object_id: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEvent]:
    """A page of the tenant's audit trail, newest first, between ``since`` and ``until`` (both included).
    One object's trail is a Query of its partition, an actor's one of GSI3, the tenant's one of GSI1 (each
    index page one BatchGetItem of the items it names); ``action`` (and the actor, on an object's trail)
    is matched on the items read, in at most a few bounded rounds a page."""
    if ctx.principal.role is not Role.ADMIN:
        raise forbidden("Only an admin can read the audit trail: it shows every user's work.")
    if since is not None and until is not None and since > until:
        raise invalid_field("from", "must not be after to")
    tenant = ctx.tenant_id
    lower = utc_text(since) if since is not None else None
    upper = f"{utc_text(until)}#{AFTER_EVERY_ID}" if until is not None else None
    bound_to = fingerprint("audit", object_id, actor_id, action, lower, upper)
    start = signing.decode_cursor(tenant, bound_to, cursor) if cursor else None

    index: str | None
    if object_id is not None:
        index, pk = None, keys.audit_pk(tenant, object_id)
    elif actor_id is not None:
        index, pk = "GSI3", keys.audit_actor_pk(tenant, actor_id)
    else:
        index, pk = "GSI1", keys.audit_trail_pk(tenant)
    range_condition = _between(getattr(TableItem, f"{index}SK" if index else "SK"), lower, upper)

    def matches(event: AuditEvent) -> bool:
        return (actor_id is None or event["actor"].get("id") == actor_id) and (
            action is None or action in event["actions"]
        )

    def read(
        position: Position | None, count: int
    ) -> tuple[list[tuple[AuditEvent, Position]], Position | None]:
        items, last = repo.query_page(
            pk, index=index, range_condition=range_condition, limit=count, start_key=position, forward=False
        )
        return [
            (_as_read(item), repo.key_of(item, index)) for item in items if isinstance(item, AuditItem)
        ], last

    found, last = _Rounds(limit, matches).page(read, start)  # the record lists' bounded rounds, as they are
    if object_id is not None and last is None and not any(_a_creation(event) for event in found):
        # The trail's end, without the object's creation: an imported record that has not changed since
        # keeps its creation's item on itself (records/items.py ``creation_audit_deferred``).
        creation = _imported_creation(tenant, object_id)
        if creation is not None and _within(creation, lower, upper) and matches(creation):
            if len(found) < limit:
                found.append(creation)
            else:  # the next page (a Query that finds nothing more) answers it
                last = {"PK": pk, "SK": keys.audit_sk(found[-1]["occurred_at"], found[-1]["id"])}
    events = [{k: v for k, v in event.items() if k != "actions"} for event in found]
    return Page(events, signing.encode_cursor(tenant, bound_to, last) if last else None)


def _a_creation(event: AuditEvent) -> bool:
    return any(action.endswith(".created") for action in event["actions"])


def _imported_creation(tenant_id: str, object_id: str) -> AuditEvent | None:
    """The creation's audit event of the record ``object_id`` if an import created it and it has not
    changed since (one BatchGetItem of the id's record under each type an import creates), else None."""
    wanted = [
        (keys.record_pk(tenant_id, kind, object_id), keys.RECORD_SK) for kind in IMPORTED_OBJECTS.values()
    ]
    for item in repo.get_items(wanted, consistent=True):
        if isinstance(item, RecordItem) and item.tenant_id == tenant_id and creation_audit_deferred(item):
            audited = audit_item(record_type(item.object_type).record_service().spec, item)
            return _as_read(audited) if audited is not None else None
    return None


def _within(event: AuditEvent, lower: str | None, upper: str | None) -> bool:
    sk = keys.audit_sk(event["occurred_at"], event["id"])
    return (lower is None or sk >= lower) and (upper is None or sk <= upper)


def _between(key: Any, lower: str | None, upper: str | None) -> Condition | None:
    """A range of a key ``<time>#<id>``, each bound included; None: the whole partition."""
    if lower is not None and upper is not None:
        return key.between(lower, upper)
    if lower is not None:
        return key >= lower
    if upper is not None:
        return key <= upper
    return None


def _as_read(item: AuditItem) -> AuditEvent:
    """The item as the API answers it, with every action of its change (for the filter; not answered)."""
    actions = list(item.actions or [])
    return {
        "id": item.id,
        "occurred_at": item.occurred_at,
        "actor": as_json_value(item.actor),
        "action": actions[0] if actions else "",
        "actions": actions,
        "object": as_json_value(item.object),
        "changes": {
            name: {"before": None, "after": None, "personal": False, "hidden": False, **change}
            for name, change in as_json_value(item.changes).items()
        },
        "request_id": item.request_id,
        "source_ip": item.source_ip,
    }
