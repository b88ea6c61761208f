"""Reading records in pages: lists by an index or by side entries, type-ahead search, timelines,
duplicate pairs and the records that refer to one. Each page is a bounded number of DynamoDB calls.

A list's filters are parsed once into a ``FilterSet`` of ``FieldFilter``s, each read the same way by
DynamoDB (a filter expression on the stored record) and in memory (on the record as the API shows it), so
the two paths cannot disagree on what a filter means.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from pynamodb.expressions.condition import Condition

from crm_core import signing
from crm_core.context import RequestContext
from crm_core.errors import invalid_field, not_found
from crm_core.models.record import RecordBody
from crm_core.record_types import record_type
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import (
    EventItem,
    IndexEntry,
    RecordItem,
    TableItem,
    TimelineEntryItem,
    TimelineItem,
)
from crm_core.services.records.shape import represent, timeline_entry
from crm_core.services.records.spec import NO_SORT_VALUE, ObjectSpec, index_value
from crm_core.services.records.text import normalize_query, normalize_text
from crm_core.stored_values import as_json_value

T = TypeVar("T")


class Page(NamedTuple, Generic[T]):
    """One page of a list: its items, and the cursor of the next page (None: the list ends here)."""

    items: list[T]
    next_cursor: str | None


# A list's filters as its route names them: {"owner_id": ..., "tag": ..., "due_at__lte": ...}; unset: None
ListFilters = Mapping[str, Any]
Position = dict[str, str]  # an item's key in a table or index: where a Query starts after it
# One Query (and what it needs): (where to start, how many to evaluate) -> the items read, each with its
# position, and the position after the last one evaluated (None: the list ended)
RoundReader = Callable[[Position | None, int], tuple[list[tuple[RecordBody, Position]], Position | None]]
FilterOp = Literal[
    "equals",
    "equals_text",
    "includes",
    "has_tag",
    "exists",
    "at_most",
    "at_least",
    "changed_since",
    "in_state",
    "one_of",
    "custom_equals",
]
# How routes name the comparison in a filter's key: {"due_at__lte": "2026-12-31T00:00:00.000Z"}
_SUFFIXES: dict[str, FilterOp] = {"__lte": "at_most", "__gte": "at_least", "__exists": "exists"}
_BOOKKEEPING: tuple[FilterOp, ...] = ("changed_since", "in_state")  # on the item, not on its data


def _has_value(value: Any) -> bool:
    """Whether a field is set: null, an empty list and an empty object are not stored (``without_empty``)."""
    return value is not None and value != [] and value != {}


@dataclass(frozen=True)
class FieldFilter:
    """One filter of a list, matched on the record as the API shows it (indexes hold only keys, so every
    filter an index or side entry does not serve is matched here). A record that does not store the field
    shows its ``default`` (a deal's status "open", a list's []), and matches as that value would."""

    field: str
    op: FilterOp
    value: Any
    default: Any = None

    def matches(self, body: RecordBody) -> bool:
        """The filter on the record as the API shows it."""
        if self.op == "in_state":
            return bool(body["archived"]) == (self.value == "archived")
        if self.op == "changed_since":
            return bool(body["updated_at"] >= str(self.value))
        if self.op == "custom_equals":  # "custom.<name>": one of its values for a multi_enum
            found = (body.get("custom") or {}).get(self.field.partition(".")[2])
            return self.value in found if isinstance(found, list) else bool(found == self.value)
        return self._matches_value(body.get(self.field, self.default))

    def _matches_value(self, found: Any) -> bool:
        if self.op == "equals_text":
            return isinstance(found, str) and normalize_text(found) == normalize_text(str(self.value))
        if self.op == "has_tag":
            return normalize_text(str(self.value)) in [normalize_text(t) for t in found or []]
        if self.op == "includes":
            return self.value in (found or [])
        if self.op == "exists":
            return _has_value(found) == bool(self.value)
        if self.op == "at_most":
            return found is not None and found <= self.value
        if self.op == "at_least":
            return found is not None and found >= self.value
        if self.op == "one_of":
            return found in self.value
        return bool(found == self.value)


@dataclass(frozen=True)
class FilterSet:
    """The filters of a list, every one of which a record it lists matches."""

    filters: tuple[FieldFilter, ...] = ()

    def __iter__(self) -> Iterator[FieldFilter]:
        return iter(self.filters)

    def matches(self, body: RecordBody) -> bool:
        return all(one.matches(body) for one in self.filters)

    def without(self, *served: FieldFilter) -> FilterSet:
        """The filters left once an index or side entries serve ``served``."""
        return FilterSet(tuple(one for one in self.filters if one not in served))

    def with_filter(self, added: FieldFilter) -> FilterSet:
        return FilterSet((*self.filters, added))


def parse_filters(spec: ObjectSpec, filters: ListFilters) -> FilterSet:
    """The route's filters, set ones only, as ``FieldFilter``s on the type's fields: its folded fields
    compare as text without regard to case, its list fields (a deal's contact_ids) by membership."""
    parsed = []
    for name, value in filters.items():
        if value in (None, ""):
            continue
        op: FilterOp
        if name.startswith("custom."):  # typed by its definition already (custom_values.custom_filters)
            field_name, op = name, "custom_equals"
        elif name == "tag":
            field_name, op = "tags", "has_tag"
        elif name == "updated_since":
            field_name, op = "updated_at", "changed_since"
        else:
            suffix = next((s for s in _SUFFIXES if name.endswith(s)), None)
            field_name = name.removesuffix(suffix) if suffix else name
            if suffix is not None:
                op = _SUFFIXES[suffix]
            elif name in spec.folded_fields:
                op = "equals_text"
            elif isinstance(spec.defaults.get(field_name), list):
                op = "includes"
            else:
                op = "equals"
        default = None if op in _BOOKKEEPING else spec.defaults.get(field_name)
        parsed.append(FieldFilter(field_name, op, value, default))
    return FilterSet(tuple(parsed))


MAX_TEAM_MEMBERS = 100  # the owners a team_id filter matches, read with one Query


def team_members(tenant_id: str, team_id: str) -> frozenset[str]:
    """The ids of the team's users (active records whose team_id is the team): one Query of their index."""
    members, _ = repo.index_record_ids(
        keys.attribute_pk(tenant_id, "user", "active", "parent", team_id),
        index="GSI4",
        limit=MAX_TEAM_MEMBERS,
    )
    return frozenset(members)


def fingerprint(*parts: Any) -> str:
    """What a cursor is bound to: the list and its filters (a cursor of another list is refused)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- lists


def list_records(
    spec: ObjectSpec,
    ctx: RequestContext,
    *,
    filters: ListFilters,
    q: str | None,
    archived: bool,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[RecordBody]:
    tenant = ctx.tenant_id
    state = "archived" if archived else "active"
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    if filters.get(spec.owner_field) == "me":
        filters[spec.owner_field] = ctx.principal.user_id
    # A record's team is its owner's: team_id lists what the team's users own (a user's team_id is a field).
    order = parse_sort(spec, sort)
    bound_to = fingerprint(spec.object_type, state, filters, q, sort)
    team_id = filters.pop("team_id", None) if "team_id" not in spec.defaults else None
    start = signing.decode_cursor(tenant, bound_to, cursor) if cursor else None
    parsed = parse_filters(spec, filters)
    if team_id is not None:
        members = team_members(tenant, team_id)
        if not members:
            return Page([], None)
        parsed = parsed.with_filter(FieldFilter(spec.owner_field, "one_of", members))

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
        if order is not None:
            used = "q" if q else ("tag" if consumed == "tags" else str(consumed))
            raise invalid_field("sort", f"a list filtered by {used} is in its own order and cannot be sorted")
        # The entries' filter is matched again on the records read, with their state: an entry is written
        # after its record's change commits, and one left behind must not list a record (derived.py).
        rest = parsed.with_filter(FieldFilter("archived", "in_state", state))
        prefix = token if entry_condition is not None else None
        return _list_by_entries(spec, ctx, entry_pk, entry_condition, rest, limit, start, bound_to, prefix)
    return _list_by_index(spec, ctx, state, parsed, limit, start, bound_to, order)


def total(spec: ObjectSpec, ctx: RequestContext, *, archived: bool) -> int:
    """How many records of the type the tenant has (archived ones, or the others)."""
    return repo.count_of(ctx.tenant_id, spec.object_type, "archived" if archived else "active")


@dataclass(frozen=True)
class Order:
    """How a list is sorted: the index that holds the type's records in that order, and its direction."""

    field: str
    index: str
    descending: bool


def sortable(spec: ObjectSpec) -> list[str]:
    return ["created_at", "updated_at", *(one.name for one in spec.sorts)]


def parse_sort(spec: ObjectSpec, sort: str | None) -> Order | None:
    """``?sort=name`` (ascending) or ``?sort=-amount`` (descending); 422 naming what can be sorted."""
    if not sort:
        return None
    field_name = sort.removeprefix("-")
    indexes = {
        "created_at": "GSI1",
        "updated_at": "GSI2",
        **{one.name: f"GSI{one.index}" for one in spec.sorts},
    }
    if field_name not in indexes:
        raise invalid_field(
            "sort",
            f"{spec.object_type} lists sort by {', '.join(sortable(spec))} (a leading - for descending), "
            f"not {field_name}",
        )
    return Order(field_name, indexes[field_name], sort.startswith("-"))


# A page reads in rounds until it is full (``limit`` items, and one more to know whether the list goes on)
# or the list ends: at most this many Query calls (each reads at most 1 MB). A filter no index serves may
# leave a page short after the last round; its cursor then continues where the reading stopped.
MAX_ROUNDS = 4
MAX_READ_PER_ROUND = 1000


@dataclass
class _Rounds:
    """Reading one page of a list in rounds of ``RoundReader``."""

    limit: int
    matches: Callable[[RecordBody], bool]
    read_count: int = 0  # items the Queries evaluated, for the bench's read efficiency

    def page(
        self,
        read: RoundReader,
        start: Position | None,
        *,
        first_round: tuple[list[tuple[RecordBody, Position]], Position | None] | None = None,
    ) -> tuple[list[RecordBody], Position | None]:
        """``first_round``: what the first round read, when it was read already (``limit`` + 1 items)."""
        found: list[tuple[RecordBody, Position]] = []
        wanted = self.limit + 1
        for round_number in range(MAX_ROUNDS):
            # the first round reads what the page needs; later ones more, as the filter turned out sparse
            count = min(MAX_READ_PER_ROUND, (wanted - len(found)) * 4**round_number)
            if round_number == 0 and first_round is not None:
                items, last = first_round
            else:
                items, last = read(start, count)
            self.read_count += len(items)
            for item, position in items:
                if self.matches(item):
                    found.append((item, position))
                    if len(found) == wanted:
                        # full, and the list goes on: continue right after the last item answered
                        return [one for one, _ in found[: self.limit]], found[self.limit - 1][1]
            if last is None:
                return [one for one, _ in found], None
            start = last
        return [one for one, _ in found], start


@dataclass
class _Plan:
    """Which index a list reads, where in it, and the filters left to apply to what it reads."""

    index: str
    pk: str
    range_condition: Condition | None
    remaining: FilterSet


def _plan(spec: ObjectSpec, tenant: str, state: str, parsed: FilterSet, order: Order | None) -> _Plan:
    """The sort's index, else the one that serves the most selective filter (parent, owner, category; a
    range of a sorted field such as due_before; change time; else the type's list)."""
    kind = spec.object_type
    plan = _Plan("GSI1", keys.list_pk(tenant, kind, state), None, parsed)
    sorted_by = {one.name: f"GSI{one.index}" for one in spec.sorts}
    ranged = next((f for f in parsed if f.op in ("at_most", "at_least") and f.field in sorted_by), None)
    by_field = {one.field: one for one in parsed if one.op in ("equals", "equals_text")}
    since = next((one for one in parsed if one.op == "changed_since"), None)
    category = next(
        (
            (number, str(attribute), name)
            for number, attribute, name in (
                (4, spec.parent_field, "parent"),
                (3, spec.owner_field, "owner"),
                (5, spec.category_field, "category"),
            )
            if attribute and attribute in by_field
        ),
        None,
    )
    if order is not None and order.field != "updated_at":
        plan.index = order.index
        if ranged is not None and ranged.field == order.field:
            plan.range_condition = _range_of(plan.index, ranged)
            plan.remaining = plan.remaining.without(ranged)
    elif order is not None or (category is None and ranged is None and since is not None):
        # The change-time index holds both states: the state becomes a filter.
        plan.index, plan.pk = "GSI2", keys.changes_pk(tenant, kind)
        if since is not None:
            plan.range_condition = str(since.value) <= TableItem.GSI2SK
            plan.remaining = plan.remaining.without(since)
        plan.remaining = plan.remaining.with_filter(FieldFilter("archived_at", "in_state", state))
    elif category is not None:
        number, attribute, name = category
        served = by_field[attribute]
        plan.index = f"GSI{number}"
        plan.pk = keys.attribute_pk(tenant, kind, state, name, index_value(spec, attribute, served.value))
        plan.remaining = plan.remaining.without(served)
    elif ranged is not None:
        plan.index = sorted_by[ranged.field]
        plan.range_condition = _range_of(plan.index, ranged)
        plan.remaining = plan.remaining.without(ranged)
    return plan


def _list_by_index(
    spec: ObjectSpec,
    ctx: RequestContext,
    state: str,
    parsed: FilterSet,
    limit: int,
    start: Position | None,
    bound_to: str,
    order: Order | None = None,
) -> Page[RecordBody]:
    """Queries of the planned index; the filters it does not serve are matched in memory on the records
    the index names (an index holds only keys, so it cannot filter on their fields)."""
    listed = _IndexList(spec, _plan(spec, ctx.tenant_id, state, parsed, order), order)
    records, last = _Rounds(limit, listed.plan.remaining.matches).page(listed.read, start)
    return Page(records, signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None)


@dataclass(frozen=True)
class _IndexList:
    """A list read from its planned index: the Query of a round, and the records its page answers."""

    spec: ObjectSpec
    plan: _Plan
    order: Order | None = None

    def query(self, position: Position | None, count: int) -> repo.IndexQuery:
        forward = not (self.order is not None and self.order.descending)
        return repo.IndexQuery(
            self.plan.pk, self.plan.index, self.plan.range_condition, count, position, forward
        )

    def answered(self, page: repo.Page) -> tuple[list[tuple[RecordBody, Position]], Position | None]:
        items, last = page
        index = self.plan.index
        return [
            (represent(self.spec, i), repo.key_of(i, index)) for i in items if isinstance(i, RecordItem)
        ], last

    def read(
        self, position: Position | None, count: int
    ) -> tuple[list[tuple[RecordBody, Position]], Position | None]:
        query = self.query(position, count)
        return self.answered(
            repo.query_page(
                query.hash_key,
                index=query.index_name,
                range_condition=query.range_condition,
                limit=query.limit,
                start_key=query.start_key,
                forward=query.forward,
            )
        )


def first_pages(
    spec: ObjectSpec, ctx: RequestContext, lists: list[ListFilters], *, limit: int
) -> list[Page[RecordBody]]:
    """The first page of each of several lists of a type's active records (a board's stages), each as
    ``list_records`` answers it with no cursor and no sort, cursors included: their first rounds read
    together (``repo.query_pages``: one Query each, their records in as few BatchGetItems as hold them),
    any further round of a list alone. Only lists an index serves: not type-ahead, a tag or an entry field."""
    state = "active"
    planned = []
    for filters in lists:
        filters = {k: v for k, v in filters.items() if v not in (None, "")}
        if "tag" in filters or any(name in filters for name in spec.entry_fields):
            raise ValueError(f"{sorted(filters)}: side entries serve this list, not an index")
        listed = _IndexList(spec, _plan(spec, ctx.tenant_id, state, parse_filters(spec, filters), None))
        planned.append((listed, fingerprint(spec.object_type, state, filters, None, None)))
    first_rounds = repo.query_pages([listed.query(None, limit + 1) for listed, _ in planned])
    pages = []
    for (listed, bound_to), first_round in zip(planned, first_rounds, strict=True):
        rounds = _Rounds(limit, listed.plan.remaining.matches)
        records, last = rounds.page(listed.read, None, first_round=listed.answered(first_round))
        pages.append(Page(records, signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None))
    return pages


def _range_of(index: str, ranged: FieldFilter) -> Condition:
    """A bound on a sorted field as a range of its index's sort key (``<value>#<id>``; no value is ``~``)."""
    key = getattr(TableItem, f"{index}SK")
    if ranged.op == "at_most":
        return key < f"{ranged.value}#~"  # every id sorts before ~, and so does every value's
    return key.between(f"{ranged.value}#", f"{NO_SORT_VALUE}")


def _list_by_entries(
    spec: ObjectSpec,
    ctx: RequestContext,
    pk: str,
    condition: Condition | None,
    rest: FilterSet,
    limit: int,
    start: Position | None,
    bound_to: str,
    prefix: str | None = None,
) -> Page[RecordBody]:
    """Pages of entries (one Query each), then their records (one BatchGetItem), filtered by the rest.
    For type-ahead (``prefix``), a record is listed at its first token with the prefix only: it has an
    entry per token, and "mia" must not list Mia once for her name and again for her email."""

    def read(
        position: Position | None, count: int
    ) -> tuple[list[tuple[RecordBody, Position]], Position | None]:
        entries, last = repo.query_page(pk, range_condition=condition, limit=count, start_key=position)
        listed = [e for e in entries if isinstance(e, IndexEntry)]
        found = repo.batch_get_records(ctx.tenant_id, spec.object_type, [e.record_id for e in listed])
        read_now: list[tuple[RecordBody, Position]] = []
        seen: set[str] = set()
        for entry in listed:
            item = found.get(entry.record_id)
            if item is None or entry.record_id in seen:
                continue
            if prefix is not None and entry.SK.rsplit("#", 1)[0] != _first_token(item, prefix):
                continue
            seen.add(entry.record_id)
            read_now.append((represent(spec, item), repo.key_of(entry, None)))
        return read_now, last

    records, last = _Rounds(limit, rest.matches).page(read, start)
    return Page(records, signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None)


def _first_token(item: RecordItem, prefix: str) -> str | None:
    return next((token for token in sorted(item.search_tokens or []) if token.startswith(prefix)), None)


def ids_referring(
    spec: ObjectSpec,
    tenant_id: str,
    field_name: str,
    record_id: str,
    *,
    limit: int,
    start_key: Position | None,
    state: str = "active",
) -> tuple[list[str], Position | None]:
    """One Query, as ``list_records`` filtered by ``field_name`` (the type's parent field, or one of its
    entry fields): the ids of a page of the records in ``state`` (active or archived) that refer to
    ``record_id`` there (in id order), and the plain key to continue from (None at the end). For work that
    keeps its place in its own queue message rather than in a signed cursor (so it needs no cursor key),
    for a merge and for a person's export and erasure."""
    if field_name == spec.parent_field:
        pk = keys.attribute_pk(tenant_id, spec.object_type, state, "parent", record_id)
        return repo.index_record_ids(pk, index="GSI4", limit=limit, start_key=start_key)
    if field_name in spec.entry_fields:
        pk = keys.attribute_pk(tenant_id, spec.object_type, state, field_name, record_id)
        entries, last = repo.query_page(pk, limit=limit, start_key=start_key)
        return [entry.record_id for entry in entries if isinstance(entry, IndexEntry)], last
    raise ValueError(f"{spec.object_type} records are not listed by {field_name}")


# ------------------------------------------------------------------------------ timelines, duplicates


def timeline(
    spec: ObjectSpec, ctx: RequestContext, record_id: str, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """One Query of the record's partition. Every record has its creation event, so a first page with
    nothing on it means there is no such record in this tenant."""
    bound_to = fingerprint(spec.object_type, "timeline", record_id)
    start = signing.decode_cursor(ctx.tenant_id, bound_to, cursor) if cursor else None
    events, last = repo.timeline_page(
        ctx.tenant_id, spec.object_type, record_id, limit=limit, start_key=start
    )
    if not events and start is None:
        raise not_found(spec.object_type, record_id)
    entries = [_shown(event) for event in events]
    return Page(entries, signing.encode_cursor(ctx.tenant_id, bound_to, last) if last else None)


def _shown(item: EventItem | TimelineEntryItem | TimelineItem) -> dict[str, Any]:
    """A timeline entry as the API shows it: stored so, or (written before decision 0008, or an event of
    its own such as a reminder falling due) made from the whole event."""
    if isinstance(item, TimelineItem):
        entry: dict[str, Any] = as_json_value(item.entry)
        return entry
    return timeline_entry(as_json_value(item.detail))


def duplicates(
    spec: ObjectSpec, ctx: RequestContext, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
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
    return Page(items, signing.encode_cursor(tenant, bound_to, last) if last else None)
