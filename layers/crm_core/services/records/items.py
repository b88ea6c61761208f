"""The items a record keeps beside itself, and its place in the indexes: all derived from its fields and
state, so a change writes the difference between what the record had and what it has.

See definitions.TABLE and docs/data-model.md for the keys."""

from __future__ import annotations

from typing import Any

from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import new_id
from crm_core.models.record import EventDetail, RecordFields, RelatedFacts
from crm_core.repositories import audit_repository, keys
from crm_core.repositories import notification_repository as notifications
from crm_core.repositories.table import AuditItem, EventItem, RecordItem, TableItem, TimelineItem
from crm_core.services.records.shape import record_data, record_title, represent, timeline_entry
from crm_core.services.records.spec import NO_SORT_VALUE, ObjectSpec, index_value
from crm_core.services.records.text import normalize_text
from crm_core.stored_values import as_json_value

# Where a record's side entries come from, as the labels of their writes (a change too large for one
# transaction names the field with the most of them).
SEARCH, TAGS = "search", "tags"


def state_of(item: RecordItem) -> str:
    return "archived" if item.archived_at else "active"


def stored_tokens(spec: ObjectSpec, data: RecordFields, related: RelatedFacts) -> list[str]:
    """The record's type-ahead tokens as it stores them (the type's rule, sorted, once each)."""
    return sorted(set(spec.tokens(data, related)))


def shown_fields(spec: ObjectSpec, item: RecordItem) -> RecordFields:
    """The record's fields as the API shows them, a field it does not store as its default: what its
    indexes and entries hold it under, as a list's filters match it in memory (a deal without a status
    is listed as "open")."""
    return {**spec.defaults, **record_data(item)}


def place_in_indexes(spec: ObjectSpec, item: RecordItem) -> None:
    """Set the record's index keys from its fields and state (see definitions.TABLE)."""
    tenant, kind, state, data = item.tenant_id, spec.object_type, state_of(item), shown_fields(spec, item)
    item.GSI1PK, item.GSI1SK = keys.list_pk(tenant, kind, state), item.id
    item.GSI2PK, item.GSI2SK = keys.changes_pk(tenant, kind), f"{item.updated_at}#{item.id}"
    for number, attribute, name in (
        (3, spec.owner_field, "owner"),
        (4, spec.parent_field, "parent"),
        (5, spec.category_field, "category"),
    ):
        value = data.get(attribute) if attribute else None
        pk = None
        if attribute and value:
            pk = keys.attribute_pk(tenant, kind, state, name, index_value(spec, attribute, value))
        setattr(item, f"GSI{number}PK", pk)
        setattr(item, f"GSI{number}SK", item.id if value else None)
    for sort in spec.sorts:
        setattr(item, f"GSI{sort.index}PK", keys.list_pk(tenant, kind, state))
        setattr(item, f"GSI{sort.index}SK", f"{sort.value(data) or NO_SORT_VALUE}#{item.id}")


def side_entries(spec: ObjectSpec, item: RecordItem) -> dict[tuple[str, str], str]:
    """The entries a record keeps beside itself, (PK, SK) each with the field it comes from: type-ahead
    prefixes (which also serve the duplicate keys), tags and entry fields."""
    tenant, kind, state = item.tenant_id, spec.object_type, state_of(item)
    found: dict[tuple[str, str], str] = {}
    data = shown_fields(spec, item)
    for tag in data.get("tags") or []:
        found[(keys.attribute_pk(tenant, kind, state, "tag", normalize_text(tag)), item.id)] = TAGS
    for field_name in spec.entry_fields:
        value = data.get(field_name)
        for one in value if isinstance(value, list) else [value] if value else []:
            found[(keys.attribute_pk(tenant, kind, state, field_name, str(one)), item.id)] = field_name
    if spec.derived_entries is not None:
        for attribute, value in spec.derived_entries(data):
            found[(keys.attribute_pk(tenant, kind, state, attribute, value), item.id)] = attribute
    if state == "active":
        for token in item.search_tokens or []:
            found[(keys.search_pk(tenant, kind, token), f"{token}#{item.id}")] = SEARCH
    return found


def event_item(spec: ObjectSpec, item: RecordItem, detail: EventDetail) -> EventItem:
    """An event of something that happened to the record without changing it, in the record's own
    partition: the table's stream carries it to the bus."""
    return EventItem(
        keys.record_pk(item.tenant_id, spec.object_type, item.id),
        f"{EVENT_SK_PREFIX}{detail['id']}",
        event_type=detail["type"],
        occurred_at=detail["occurred_at"],
        detail=detail,
    )


def change_envelope(
    version: int,
    event_types: list[str],
    *,
    actor: dict[str, Any],
    correlation_id: str | None,
    occurred_at: str,
    changes: dict[str, Any],
    source_ip: str | None = None,
    hidden_changes: list[str] | None = None,
    erased_fields: list[str] | None = None,
) -> dict[str, Any]:
    """What a change's events and its audit item need beside the record, stored on it
    (``RecordItem.change``): both are built from the committed record and this, by the request and by the
    relay alike. ``changes`` holds each changed field's value before and after (``{"from", "to"}``);
    ``source_ip`` and ``hidden_changes`` (the hidden fields it changed, by name: a webhook's secret,
    which ``changes`` cannot show) and ``erased_fields`` (what an erasure cleared, by name: its values are
    what must not be kept) are for the audit trail alone, never published."""
    envelope: dict[str, Any] = {
        "version": version,
        "events": [{"id": new_id(), "type": name} for name in event_types],
        "occurred_at": occurred_at,
        "actor": actor,
        "correlation_id": correlation_id,
        "source_ip": source_ip,
        "changes": changes,
    }
    if hidden_changes:
        envelope["hidden_changes"] = hidden_changes
    if erased_fields:
        envelope["erased_fields"] = erased_fields
    return envelope


def publishes(new: RecordItem, old_version: int | None) -> bool:
    """Whether this committed image of a record is a change with events: its envelope is of its version,
    and the version moved (a refresh of its search tokens rewrites it and keeps both)."""
    change = new.change
    if change is None or new.version is None or old_version == new.version:
        return False
    return bool(int(change["version"]) == int(new.version))


def events_of(spec: ObjectSpec, item: RecordItem, version: int | None = None) -> list[EventDetail]:
    """The events of the record's last change, from its envelope, exactly as published. ``version``: the
    version the record has once committed, when ``item`` is not yet (pynamodb adds 1 on save)."""
    change = as_json_value(item.change) if item.change is not None else None
    if not change:
        return []
    data = represent(spec, item)
    if version is not None:
        data["version"] = version
    return [
        build_event(
            event_type=event["type"],
            tenant_id=item.tenant_id,
            actor=change["actor"],
            correlation_id=change.get("correlation_id"),
            data=data,
            changes=change.get("changes") or {},
            sequence=int(change["version"]),
            event_id=event["id"],
            occurred_at=change["occurred_at"],
        )
        for event in change["events"]
    ]


def timeline_items(spec: ObjectSpec, item: RecordItem, details: list[EventDetail]) -> list[TableItem]:
    """The entries of these events in the record's own timeline and in those of the records it links to
    (an activity's contact, ...), each as the timeline shows it."""
    data = record_data(item)
    places = [(spec.object_type, item.id), *(spec.timeline_links(data) if spec.timeline_links else [])]
    return [
        TimelineItem(
            keys.record_pk(item.tenant_id, object_type, record_id),
            f"{EVENT_SK_PREFIX}{detail['id']}",
            entry=timeline_entry(detail),
        )
        for detail in details
        for object_type, record_id in places
    ]


# The credential an import's chunk worker writes with (services/imports.py ``_worker_context``), and the
# types an import creates, by the name of their API path.
IMPORT_CREDENTIAL = "import"
IMPORTED_OBJECTS = {"contacts": "contact", "companies": "company", "deals": "deal"}


def creation_audit_deferred(item: RecordItem | None) -> bool:
    """Whether ``item`` is a record an import created that has not changed since: its creation keeps no
    audit item of its own (decision 0013, "The audit of an imported row"). While the record is at that
    first version, the trail reads the creation's item from the record itself (``audit_item`` of it,
    services/audit.py); the record's next change writes it, from the image before that change, with its
    own. The import is audited as a whole, by one item written when it completes."""
    if item is None or item.change is None:
        return False
    change = as_json_value(item.change)
    actor = change.get("actor") or {}
    return int(change.get("version") or 0) == 1 and actor.get("via") == IMPORT_CREDENTIAL


def audit_item(spec: ObjectSpec, item: RecordItem) -> AuditItem | None:
    """The audit item of the record's last change, from the committed record and its envelope alone (so
    the relay writes the same one as the request): named by the change's first event, its action that
    event's type."""
    change = as_json_value(item.change) if item.change is not None else None
    if not change or not change.get("events"):
        return None
    events = change["events"]
    return audit_repository.audit_item(
        item.tenant_id,
        audit_id=events[0]["id"],
        occurred_at=change["occurred_at"],
        actor=change["actor"],
        actions=[event["type"] for event in events],
        object_type=spec.object_type,
        object_id=item.id,
        changes=audited_changes(spec, item, change),
        request_id=change.get("correlation_id"),
        source_ip=change.get("source_ip"),
    )


def audited_changes(spec: ObjectSpec, item: RecordItem, change: dict[str, Any]) -> dict[str, Any]:
    """``{field: {"before", "after"}}``: a new record's every field it was given (``after`` only), a
    change's every changed field (as its events name them); a personal field named, its values not kept
    (``{"before": null, "after": null, "personal": true}``): the trail outlives what it would copy; a
    hidden field (a secret) named only, as ``{"hidden": true}``."""
    if int(change["version"]) == 1:
        shown = represent(spec, item)
        given = [f"has_{name}" if name in spec.hidden_fields else name for name in record_data(item)]
        found = {name: {"before": None, "after": shown.get(name)} for name in given if name in shown}
    else:
        found = {
            name: {"before": values.get("from"), "after": values.get("to")}
            for name, values in (change.get("changes") or {}).items()
        }
    for name in spec.personal_fields:
        if name in found:
            found[name] = {"before": None, "after": None, "personal": True}
    for name in change.get("hidden_changes") or []:
        found[name] = {"before": None, "after": None, "hidden": True}
    for name in change.get("erased_fields") or []:  # an erasure: named, no value kept
        found[name] = {"before": None, "after": None, "personal": True}
    return found


def assignment_notification(
    tenant_id: str, user_id: str, object_type: str, record_id: str, data: RecordFields, *, taken: bool = False
) -> TableItem:
    """The new owner's notification that a record is now theirs, or (``taken``) the previous owner's that it
    is no longer (written with the change)."""
    title = record_title(data) or record_id
    return notifications.new_notification(
        tenant_id,
        user_id,
        kind="assignment",
        title=f"Reassigned to someone else: {title}" if taken else f"Assigned to you: {title}",
        record={"type": object_type, "id": record_id},
    )
