"""Reading records in pages: lists by an index or by side entries, type-ahead search, timelines,
duplicate pairs and the records that refer to one. Each page is a bounded number of DynamoDB calls.

A list's filters are parsed once into ``FieldFilter``s, each read the same way by DynamoDB (a filter
expression on the stored record) and in memory (on the record as the API shows it), so the two paths
cannot disagree on what a filter means.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pynamodb.expressions.condition import Condition

from crm_core import signing
from crm_core.context import RequestContext
from crm_core.errors import invalid_field, not_found
from crm_core.record_types import record_type
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import IndexEntry, RecordItem, TableItem
from crm_core.services.records.shape import represent, timeline_entry
from crm_core.services.records.spec import ObjectSpec
from crm_core.services.records.text import normalize_query, normalize_text
from crm_core.stored_values import as_json_value

Page = tuple[list[dict[str, Any]], str | None]
FilterOp = Literal["equals", "has_tag", "exists", "at_most", "at_least", "changed_since", "in_state"]
# How routes name the comparison in a filter's key: {"due_at__lte": "2026-12-31T00:00:00.000Z"}
_SUFFIXES: dict[str, FilterOp] = {"__lte": "at_most", "__gte": "at_least", "__exists": "exists"}


@dataclass(frozen=True)
class FieldFilter:
    field: str
    op: FilterOp
    value: Any

    def condition(self) -> Condition:
        """The filter as a DynamoDB filter expression on the stored record."""
        if self.op == "in_state":
            exists = RecordItem.archived_at.exists()
            return exists if self.value == "archived" else RecordItem.archived_at.does_not_exist()
        if self.op == "changed_since":
            return RecordItem.updated_at >= str(self.value)
        path = RecordItem.data[self.field]
        if self.op == "has_tag":
            return path.contains(self.value)
        if self.op == "exists":
            return path.exists() if self.value else path.does_not_exist()
        if self.op == "at_most":
            return path <= self.value
        if self.op == "at_least":
            return path >= self.value
        return path == self.value

    def matches(self, body: dict[str, Any]) -> bool:
        """The filter on the record as the API shows it."""
        if self.op == "in_state":
            return bool(body["archived"]) == (self.value == "archived")
        if self.op == "changed_since":
            return bool(body["updated_at"] >= str(self.value))
        found = body.get(self.field)
        if self.op == "has_tag":
            return normalize_text(str(self.value)) in [normalize_text(t) for t in found or []]
        if self.op == "exists":
            return (found is not None) == bool(self.value)
        if self.op == "at_most":
            return found is not None and found <= self.value
        if self.op == "at_least":
            return found is not None and found >= self.value
        if isinstance(found, list):
            return self.value in found
        return bool(found == self.value)


def parse_filters(filters: dict[str, Any]) -> list[FieldFilter]:
    """The route's filters ({"owner_id": ..., "tag": ..., "updated_since": ..., "due_at__lte": ...}), set
    ones only, as ``FieldFilter``s."""
    parsed = []
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name == "tag":
            parsed.append(FieldFilter("tags", "has_tag", value))
        elif name == "updated_since":
            parsed.append(FieldFilter("updated_at", "changed_since", value))
        else:
            suffix = next((s for s in _SUFFIXES if name.endswith(s)), None)
            if suffix is None:
                parsed.append(FieldFilter(name, "equals", value))
            else:
                parsed.append(FieldFilter(name.removesuffix(suffix), _SUFFIXES[suffix], value))
    return parsed


def matches_all(body: dict[str, Any], filters: list[FieldFilter]) -> bool:
    return all(one.matches(body) for one in filters)


def condition_of(filters: list[FieldFilter]) -> Condition | None:
    condition: Condition | None = None
    for one in filters:
        part = one.condition()
        condition = part if condition is None else condition & part
    return condition


def fingerprint(*parts: Any) -> str:
    """What a cursor is bound to: the list and its filters (a cursor of another list is refused)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- lists


def list_records(
    spec: ObjectSpec,
    ctx: RequestContext,
    *,
    filters: dict[str, Any],
    q: str | None,
    archived: bool,
    limit: int,
    cursor: str | None,
) -> Page:
    tenant = ctx.tenant_id
    state = "archived" if archived else "active"
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    bound_to = fingerprint(spec.object_type, state, filters, q)
    start = signing.decode_cursor(tenant, bound_to, cursor) if cursor else None
    parsed = parse_filters(filters)

    # Side entries serve type-ahead, a tag or an entry field: one Query + one BatchGetItem.
    entry_pk: str | None = None
    entry_condition: Condition | None = None
    consumed: str | None = None
    if q is not None and q.strip():
        if archived:
            raise invalid_field("q", "type-ahead search covers active records only")
        token = normalize_query(q)
        if not token:
            raise invalid_field("q", "must contain letters or digits")
        entry_pk = keys.search_pk(tenant, spec.object_type, token)
        entry_condition = TableItem.SK.startswith(token)
    elif filters.get("tag"):
        entry_pk = keys.attribute_pk(tenant, spec.object_type, state, "tag", normalize_text(filters["tag"]))
        consumed = "tags"
    else:
        consumed = next((name for name in spec.entry_fields if filters.get(name)), None)
        if consumed is not None:
            entry_pk = keys.attribute_pk(tenant, spec.object_type, state, consumed, str(filters[consumed]))
    if entry_pk is not None:
        rest = [one for one in parsed if one.field != consumed]
        return _list_by_entries(spec, ctx, entry_pk, entry_condition, rest, limit, start, bound_to)
    return _list_by_index(spec, ctx, state, parsed, limit, start, bound_to)


def _list_by_index(
    spec: ObjectSpec,
    ctx: RequestContext,
    state: str,
    parsed: list[FieldFilter],
    limit: int,
    start: dict[str, str] | None,
    bound_to: str,
) -> Page:
    """One Query of the index that serves the most selective filter (parent, owner, category, change
    time; else the type's list), the other filters as a filter expression."""
    tenant, kind = ctx.tenant_id, spec.object_type
    index, pk, range_condition = "GSI1", keys.list_pk(tenant, kind, state), None
    remaining = list(parsed)
    by_field = {one.field: one for one in parsed if one.op == "equals"}
    for number, attribute, name in (
        (4, spec.parent_field, "parent"),
        (3, "owner_id", "owner"),
        (5, spec.category_field, "category"),
    ):
        if attribute and attribute in by_field:
            served = by_field[attribute]
            index = f"GSI{number}"
            pk = keys.attribute_pk(tenant, kind, state, name, str(served.value))
            remaining.remove(served)
            break
    else:
        since = next((one for one in parsed if one.op == "changed_since"), None)
        if since is not None:
            # The change-time index holds both states: the state becomes a filter.
            index, pk = "GSI2", keys.changes_pk(tenant, kind)
            range_condition = str(since.value) <= TableItem.GSI2SK
            remaining.remove(since)
            remaining.append(FieldFilter("archived_at", "in_state", state))
    items, last = repo.query_page(
        pk,
        index=index,
        range_condition=range_condition,
        filter_condition=condition_of(remaining),
        limit=limit,
        start_key=start,
    )
    records = [represent(spec, i) for i in items if isinstance(i, RecordItem)]
    return records, (signing.encode_cursor(tenant, bound_to, last) if last else None)


def _list_by_entries(
    spec: ObjectSpec,
    ctx: RequestContext,
    pk: str,
    condition: Condition | None,
    rest: list[FieldFilter],
    limit: int,
    start: dict[str, str] | None,
    bound_to: str,
) -> Page:
    """A page of entries (one Query), then their records (one BatchGetItem), filtered by the rest."""
    entries, last = repo.query_page(pk, range_condition=condition, limit=limit, start_key=start)
    ids = [e.record_id for e in entries if isinstance(e, IndexEntry)]
    found = repo.batch_get_records(ctx.tenant_id, spec.object_type, ids)
    records: list[dict[str, Any]] = []
    for record_id in dict.fromkeys(ids):
        item = found.get(record_id)
        if item is None:
            continue
        body = represent(spec, item)
        if matches_all(body, rest):
            records.append(body)
    return records, (signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None)


def ids_referring(
    spec: ObjectSpec,
    tenant_id: str,
    field_name: str,
    record_id: str,
    *,
    limit: int,
    start_key: dict[str, str] | None,
) -> tuple[list[str], dict[str, str] | None]:
    """One Query, as ``list_records`` filtered by ``field_name`` (the type's parent field, or one of its
    entry fields): the ids of a page of the active records that refer to ``record_id`` there (in id
    order), and the plain key to continue from (None at the end). For work that keeps its place in its
    own queue message rather than in a signed cursor (so it needs no cursor key), and for a merge."""
    if field_name == spec.parent_field:
        pk = keys.attribute_pk(tenant_id, spec.object_type, "active", "parent", record_id)
        items, last = repo.query_page(pk, index="GSI4", limit=limit, start_key=start_key)
        return [item.id for item in items if isinstance(item, RecordItem)], last
    if field_name in spec.entry_fields:
        pk = keys.attribute_pk(tenant_id, spec.object_type, "active", field_name, record_id)
        entries, last = repo.query_page(pk, limit=limit, start_key=start_key)
        return [entry.record_id for entry in entries if isinstance(entry, IndexEntry)], last
    raise ValueError(f"{spec.object_type} records are not listed by {field_name}")


# ------------------------------------------------------------------------------ timelines, duplicates


def timeline(
    spec: ObjectSpec, ctx: RequestContext, record_id: str, *, limit: int, cursor: str | None
) -> Page:
    """One Query of the record's partition. Every record has its creation event, so a first page with
    nothing on it means there is no such record in this tenant."""
    bound_to = fingerprint(spec.object_type, "timeline", record_id)
    start = signing.decode_cursor(ctx.tenant_id, bound_to, cursor) if cursor else None
    events, last = repo.timeline_page(
        ctx.tenant_id, spec.object_type, record_id, limit=limit, start_key=start
    )
    if not events and start is None:
        raise not_found(spec.object_type, record_id)
    entries = [timeline_entry(as_json_value(event.detail)) for event in events]
    return entries, (signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None)


def duplicates(spec: ObjectSpec, ctx: RequestContext, *, limit: int, cursor: str | None) -> Page:
    """Pairs that share a duplicate key (same name, same phone, ...), both still active."""
    tenant = ctx.tenant_id
    bound_to = fingerprint(spec.object_type, "duplicates")
    start = signing.decode_cursor(tenant, bound_to, cursor) if cursor else None
    pairs, last = repo.query_page(keys.duplicates_pk(tenant, spec.object_type), limit=limit, start_key=start)
    ids = [rid for pair in pairs for rid in getattr(pair, "record_ids", [])]
    found = repo.batch_get_records(tenant, spec.object_type, ids)
    items = []
    for pair in pairs:
        members = [found.get(rid) for rid in getattr(pair, "record_ids", [])]
        if len(members) == 2 and all(m is not None and m.archived_at is None for m in members):
            items.append(
                {
                    "ids": [m.id for m in members if m],
                    "reason": getattr(pair, "reason", ""),
                    "found_at": getattr(pair, "found_at", ""),
                    record_type(spec.object_type).collection: [represent(spec, m) for m in members if m],
                }
            )
    return items, (signing.encode_cursor(tenant, bound_to, last) if last else None)
