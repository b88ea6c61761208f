"""The rules every CRM record type shares: create, read, change, archive, restore, list, search,
batch, merge, duplicates and timeline, each a bounded number of DynamoDB calls.

A record type (contact, company, ...) is described by an ``ObjectSpec``; the type's own module holds
what is particular to it (its fields, its unique value, its search tokens, its references).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from crm_core import signing
from crm_core.auth import Principal
from crm_core.errors import (
    FieldError,
    ProblemError,
    conflict,
    invalid_field,
    not_found,
    precondition_failed,
    validation_failed,
)
from crm_core.events import EVENT_SK_PREFIX, build_event, diff
from crm_core.ids import new_id, utc_now
from crm_core.plain import plain
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import (
    EventItem,
    IndexEntry,
    RecordItem,
    TableItem,
    TimelineEntryItem,
    UniqueMarker,
)
from crm_core.repositories.transaction import (
    MAX_TRANSACTION_ITEMS,
    ChangeSet,
    TransactionTooLarge,
    WriteConflict,
)
from crm_core.validation import reprefix, set_fields, validate

logger = Logger(child=True)

RESTORE_WINDOW = timedelta(days=30)
MAX_BATCH = 100
# A record's fields as JSON (non-ASCII escaped, as the outbox publishes them) are at most this big, so
# that its event (the record, and each changed field's old and new value) stays under EventBridge's
# 256 KB entry and every item of its transaction under DynamoDB's 400 KB.
MAX_RECORD_BYTES = 64 * 1024
# A write that loses a race (its record changed since it was read, or another transaction held one of
# its items) is made again from a fresh read, after a jittered pause that grows with each attempt.
WRITE_ATTEMPTS = 12
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0


@dataclass(frozen=True)
class RequestContext:
    principal: Principal
    correlation_id: str | None = None
    lookups: dict[tuple[str, str], Any] = field(default_factory=dict)  # see services/references.py

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id


@dataclass(frozen=True)
class ObjectSpec:
    object_type: str  # singular, as in event types: "contact"
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    defaults: dict[str, Any]  # every API field with the value it shows when unset
    tokens: Callable[[dict[str, Any], dict[str, Any]], list[str]]  # (data, related) -> type-ahead tokens
    dedupe_keys: Callable[[dict[str, Any]], list[str]] = lambda data: []
    # (ctx, data, changed fields, the facts resolved last time) -> related facts (e.g. the company's name);
    # raises 422 on a bad reference
    resolve: Callable[[RequestContext, dict[str, Any], set[str], dict[str, Any]], dict[str, Any]] = (
        lambda ctx, data, changed, previous: {}
    )
    unique_field: str | None = None
    normalize_unique: Callable[[str], str] = str.lower
    parent_field: str | None = None  # GSI4
    category_field: str | None = None  # GSI5
    # () -> the records of other types that refer to one of this type (a contact's activities and deals),
    # which a merge moves from the duplicate to the survivor; a function, as those types import this one
    referrers: Callable[[], tuple[Referrer, ...]] | None = None
    # (ctx, data, the data before or None, the record's id or None when new) -> data with its derived
    # fields (a deal's status); may raise 422
    derive: (
        Callable[[RequestContext, dict[str, Any], dict[str, Any] | None, str | None], dict[str, Any]] | None
    ) = None
    # (data before, data after) -> the event types of an update (default: "updated")
    update_events: Callable[[dict[str, Any], dict[str, Any]], list[str]] | None = None
    # (record before or None, record after) -> counters kept in the same transaction (a board's totals)
    counters: Callable[[RecordItem | None, RecordItem], list[tuple[TableItem, list[Any]]]] | None = None
    # (ctx, record) -> raises if the record cannot be archived (a pipeline with deals)
    before_archive: Callable[[RequestContext, RecordItem], None] | None = None
    # data -> the records whose timelines show this one's events too: [(object type, id)] (an activity's)
    timeline_links: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # fields (one id or a list of ids) that lists filter by through entries: one Query + one BatchGetItem
    entry_fields: tuple[str, ...] = ()
    # fields that are kept but never answered nor published (a webhook's secret): shown as has_<name>
    hidden_fields: tuple[str, ...] = ()
    # a setting (a pipeline, an event target): only an admin creates, changes, archives or restores one
    admin_only: bool = False


@dataclass(frozen=True)
class Referrer:
    """Records of another type that refer to a record in one of their fields (one id, or a list of ids):
    the parent field or one of the entry fields of ``service``'s type, so they are listed by one Query."""

    name: str  # the collection as the API names it ("contacts"): what a merge's ``pending_moves`` lists
    service: RecordService
    field_name: str


# ---------------------------------------------------------------------------------------------- helpers


def normalize_text(value: str) -> str:
    """Lowercase, accents folded, single spaces: how tokens are stored and queries are matched."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.lower().split())


def phone_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def normalize_query(q: str) -> str:
    text = q.strip()
    if (
        text
        and not any(ch.isalpha() for ch in text)
        and sum(ch.isdigit() for ch in text) >= 3
        and "@" not in text
    ):
        return phone_digits(text)
    return normalize_text(text)


def record_data(item: RecordItem) -> dict[str, Any]:
    data: dict[str, Any] = plain(item.data)
    return data


def represent(spec: ObjectSpec, item: RecordItem) -> dict[str, Any]:
    """A record as the API shows it: every field of the type, then the read-only bookkeeping."""
    body: dict[str, Any] = {"id": item.id}
    body.update(copy.deepcopy(spec.defaults))
    body.update(record_data(item))
    for name in spec.hidden_fields:
        body[f"has_{name}"] = body.pop(name, None) is not None
    body.update(
        {
            "tenant_id": item.tenant_id,
            "version": item.version,
            "archived": item.archived_at is not None,
            "archived_at": item.archived_at,
            "merged_into": item.merged_into,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
    )
    return body


def _related(item: RecordItem) -> dict[str, Any]:
    facts: dict[str, Any] = plain(item.related) if item.related is not None else {}
    return facts


def _tokens(spec: ObjectSpec, data: dict[str, Any], related: dict[str, Any]) -> list[str]:
    """The record's type-ahead tokens as it stores them (the type's rule, sorted, once each)."""
    return sorted(set(spec.tokens(data, related)))


def _state(item: RecordItem) -> str:
    return "archived" if item.archived_at else "active"


def _place(spec: ObjectSpec, item: RecordItem) -> None:
    """Set the record's index keys from its fields and state (see definitions.TABLE)."""
    tenant, kind, state, data = item.tenant_id, spec.object_type, _state(item), record_data(item)
    item.GSI1PK, item.GSI1SK = keys.list_pk(tenant, kind, state), item.id
    item.GSI2PK, item.GSI2SK = keys.changes_pk(tenant, kind), f"{item.updated_at}#{item.id}"
    for number, attribute, name in (
        (3, "owner_id", "owner"),
        (4, spec.parent_field, "parent"),
        (5, spec.category_field, "category"),
    ):
        value = data.get(attribute) if attribute else None
        pk = keys.attribute_pk(tenant, kind, state, name, str(value)) if value else None
        setattr(item, f"GSI{number}PK", pk)
        setattr(item, f"GSI{number}SK", item.id if value else None)


def _side_keys(spec: ObjectSpec, item: RecordItem) -> dict[tuple[str, str], str]:
    """The entries a record keeps beside itself, (PK, SK) each with the field it comes from: type-ahead
    prefixes, tags, entry fields and duplicate keys."""
    tenant, kind, state = item.tenant_id, spec.object_type, _state(item)
    found: dict[tuple[str, str], str] = {}
    data = record_data(item)
    for tag in data.get("tags") or []:
        found[(keys.attribute_pk(tenant, kind, state, "tag", normalize_text(tag)), item.id)] = "tags"
    for field_name in spec.entry_fields:
        value = data.get(field_name)
        for one in value if isinstance(value, list) else [value] if value else []:
            found[(keys.attribute_pk(tenant, kind, state, field_name, str(one)), item.id)] = field_name
    if state == "active":
        for token in item.search_tokens or []:
            found[(keys.search_pk(tenant, kind, token), f"{token}#{item.id}")] = "search"
        for key in item.dedupe_keys or []:
            found[(keys.dedupe_pk(tenant, kind, key), item.id)] = "duplicates"
    return found


def _event_item(spec: ObjectSpec, item: RecordItem, detail: dict[str, Any]) -> EventItem:
    return EventItem(
        keys.record_pk(item.tenant_id, spec.object_type, item.id),
        f"{EVENT_SK_PREFIX}{detail['id']}",
        event_type=detail["type"],
        occurred_at=detail["occurred_at"],
        detail=detail,
    )


# A merge moves what refers to the duplicate within its request when there are at most this many of a
# kind; more of a kind are all moved in the background (services/merge_moves.py), so that one request's
# work stays bounded.
MAX_MOVED_BY_MERGE = 100


def _replaced(value: Any, from_id: str, to_id: str) -> Any:
    """A reference field's value (one id, or a list of ids) with ``to_id`` for ``from_id``; None when it
    does not refer to ``from_id``."""
    if isinstance(value, list):
        if from_id not in value:
            return None
        return list(dict.fromkeys(to_id if one == from_id else one for one in value))
    return to_id if value == from_id else None


def record_title(data: dict[str, Any]) -> str | None:
    """What a person calls a record: a deal's or company's name, an activity's subject, a contact's
    name or else email or phone, a target's description."""
    full_name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    title = (
        data.get("name")
        or data.get("subject")
        or full_name
        or data.get("email")
        or data.get("phone")
        or data.get("description")
    )
    return str(title) if title else None


def timeline_entry(detail: dict[str, Any]) -> dict[str, Any]:
    """An event as a timeline shows it, with the record it is about (on a contact's timeline, the activity
    or deal an entry comes from), so that a timeline reads without another request."""
    data = detail.get("data") or {}
    entry = {key: detail.get(key) for key in ("id", "type", "occurred_at", "actor")}
    entry["record"] = {
        "type": str(detail.get("type", "")).partition(".")[0],
        "id": data.get("id"),
        "title": record_title(data),
    }
    entry["changes"] = detail.get("changes") or {}
    entry["correlation_id"] = detail.get("correlation_id")
    return entry


def _assignment(
    tenant_id: str, user_id: str, object_type: str, record_id: str, data: dict[str, Any]
) -> TableItem:
    """The new owner's notification that a record is now theirs (written with the change)."""
    from crm_core.repositories.table import NotificationItem

    label = record_title(data) or record_id
    notification_id = new_id()
    return NotificationItem(
        keys.notifications_pk(tenant_id, user_id),
        notification_id,
        id=notification_id,
        user_id=user_id,
        kind="assignment",
        title=f"Assigned to you: {label}",
        record={"type": object_type, "id": record_id},
        created_at=utc_now(),
    )


def _save_timeline_entries(
    changes: ChangeSet, spec: ObjectSpec, tenant_id: str, data: dict[str, Any], detail: dict[str, Any]
) -> None:
    """The event also in the timelines of the records this one links to (an activity's contact, ...)."""
    for linked_type, linked_id in spec.timeline_links(data) if spec.timeline_links else []:
        changes.save(
            TimelineEntryItem(
                keys.record_pk(tenant_id, linked_type, linked_id),
                f"{EVENT_SK_PREFIX}{detail['id']}",
                event_type=detail["type"],
                occurred_at=detail["occurred_at"],
                detail=detail,
            )
        )


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def _require_size(spec: ObjectSpec, data: dict[str, Any]) -> None:
    """422 naming the largest field (or custom property) of a record over ``MAX_RECORD_BYTES``."""
    size = _json_size(data)
    if size <= MAX_RECORD_BYTES:
        return
    field_name = max(data, key=lambda name: _json_size(data[name]))
    custom = data.get("custom")
    if field_name == "custom" and isinstance(custom, dict) and custom:
        field_name = "custom." + max(custom, key=lambda name: _json_size(custom[name]))
    raise invalid_field(
        field_name,
        f"makes the {spec.object_type} {size / 1024:.0f} KB of JSON; a record holds at most "
        f"{MAX_RECORD_BYTES // 1024} KB",
    )


def _require_fits(changes: ChangeSet) -> None:
    """A change that needs more writes than one transaction holds is refused before anything is written
    (422 naming the field with the most entries to add and remove, e.g. a deal's contact_ids)."""
    if len(changes) <= MAX_TRANSACTION_ITEMS:
        return
    by_field = Counter(
        op.label.removeprefix("entry:") for op in changes.operations if op.label.startswith("entry:")
    )
    field_name = by_field.most_common(1)[0][0] if by_field else "body"
    raise invalid_field(
        field_name,
        f"changes too much at once: {len(changes)} table writes, one change makes at most "
        f"{MAX_TRANSACTION_ITEMS}; add or remove fewer values in one request",
    )


def _back_off(attempt: int) -> None:
    """Full jitter (a random pause up to a cap that doubles each attempt): racing writers spread out."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Prepared:
    """A change ready to commit: its items, the record after it, and how to answer."""

    changes: ChangeSet
    item: RecordItem
    status: int
    unique_value: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class RecordService:
    def __init__(self, spec: ObjectSpec) -> None:
        self.spec = spec

    # ------------------------------------------------------------------------------------------- reads

    def _load(
        self, ctx: RequestContext, record_id: str, *, consistent: bool = True, archived: bool | None = False
    ) -> RecordItem:
        item = repo.get_record(ctx.tenant_id, self.spec.object_type, record_id, consistent=consistent)
        if item is None or (archived is not None and (item.archived_at is not None) != archived):
            raise not_found(self.spec.object_type, record_id)
        return item

    def get(self, ctx: RequestContext, record_id: str, *, archived: bool = False) -> dict[str, Any]:
        item = repo.get_record(ctx.tenant_id, self.spec.object_type, record_id)
        if item is None or (item.archived_at is not None and not archived):
            raise not_found(self.spec.object_type, record_id)
        return represent(self.spec, item)

    # ------------------------------------------------------------------------------------------ writes

    def _require_admin_for_settings(self, ctx: RequestContext) -> None:
        if self.spec.admin_only:
            ctx.principal.require_admin(f"{self.spec.object_type.replace('_', ' ')}s")

    def _require_change(
        self, ctx: RequestContext, before: dict[str, Any], after: dict[str, Any] | None = None
    ) -> None:
        """The caller may change a record from ``before`` to ``after`` (None: the same owner, as for an
        archive or a restore): settings are an admin's; records follow their owner (auth.Principal)."""
        self._require_admin_for_settings(ctx)
        owner_before = before.get("owner_id")
        ctx.principal.require_change(owner_before, (after or before).get("owner_id"))

    def _unique_value(self, data: dict[str, Any]) -> str | None:
        if not self.spec.unique_field:
            return None
        value = data.get(self.spec.unique_field)
        return self.spec.normalize_unique(value) if value else None

    def _build(
        self,
        ctx: RequestContext,
        item: RecordItem,
        before: RecordItem | None,
        event_type: str,
        *,
        related: dict[str, Any] | None,
        status: int,
        extra_changes: dict[str, Any] | None = None,
    ) -> Prepared:
        """The change set that takes a record from ``before`` (None: new) to ``item``, with its event."""
        spec, tenant = self.spec, ctx.tenant_id
        data = record_data(item)
        _require_size(spec, data)
        if related is not None:
            item.related = related
            item.search_tokens = _tokens(spec, data, related)
            item.dedupe_keys = sorted(set(spec.dedupe_keys(data)))
        _place(spec, item)
        changes = ChangeSet()
        # The entries below are the difference from the tokens ``before`` lists; a refresh of those tokens
        # since (refresh_related, which keeps the version) makes this a stale write, as a change does.
        changes.save(item, condition=repo.tokens_unchanged(before) if before else None, label="record")

        old_unique = self._unique_value(record_data(before)) if before else None
        new_unique = self._unique_value(data)
        if new_unique != old_unique:
            if old_unique and before is not None:
                changes.delete(
                    UniqueMarker(
                        keys.unique_pk(tenant, spec.object_type, spec.unique_field or "", old_unique),
                        keys.UNIQUE_SK,
                    ),
                    condition=UniqueMarker.record_id == item.id,
                    label="unique_old",
                )
            if new_unique:
                changes.save(
                    UniqueMarker(
                        keys.unique_pk(tenant, spec.object_type, spec.unique_field or "", new_unique),
                        keys.UNIQUE_SK,
                        record_id=item.id,
                    ),
                    condition=UniqueMarker.PK.does_not_exist(),
                    label="unique",
                    return_old=True,
                )

        old_side = _side_keys(spec, before) if before else {}
        new_side = _side_keys(spec, item)
        for pk, sk in sorted(old_side.keys() - new_side.keys()):
            changes.delete(IndexEntry(pk, sk), label=f"entry:{old_side[(pk, sk)]}")
        for pk, sk in sorted(new_side.keys() - old_side.keys()):
            changes.save(repo.entry(pk, sk, item.id), label=f"entry:{new_side[(pk, sk)]}")
        if item.archived_at is None:
            self._add_duplicate_pairs(changes, item, before)

        before_repr = represent(spec, before) if before else {}
        after_repr = represent(spec, item)
        # The version the record will have once committed: pynamodb bumps it on save.
        after_repr["version"] = (item.version or 0) + 1
        watched = [*spec.defaults, "archived", "archived_at", "merged_into"]
        change_map = (
            diff({k: before_repr.get(k) for k in watched}, {k: after_repr.get(k) for k in watched})
            if before
            else {}
        )
        change_map.update(extra_changes or {})
        event_types = [event_type]
        if event_type == "updated" and before is not None and spec.update_events is not None:
            event_types = spec.update_events(record_data(before), data)
        details = []
        for name in event_types:
            detail = build_event(
                event_type=f"{spec.object_type}.{name}",
                tenant_id=tenant,
                actor=ctx.principal.actor,
                correlation_id=ctx.correlation_id,
                data=after_repr,
                changes=change_map,
                sequence=after_repr["version"],
            )
            details.append(detail)
            changes.save(_event_item(spec, item, detail), label="event")
            _save_timeline_entries(changes, spec, tenant, data, detail)
        if spec.counters is not None:
            for counter, actions in spec.counters(before, item):
                changes.update(counter, actions, label="counter")
        new_owner = data.get("owner_id")
        old_owner = record_data(before).get("owner_id") if before else None
        if new_owner and new_owner not in (old_owner, ctx.principal.user_id) and item.archived_at is None:
            changes.save(_assignment(tenant, new_owner, spec.object_type, item.id, data))
        _require_fits(changes)
        return Prepared(changes, item, status, new_unique, details)

    def _add_duplicate_pairs(self, changes: ChangeSet, item: RecordItem, before: RecordItem | None) -> None:
        """A new duplicate key looks up (one bounded Query) who else has it, and records the pairs."""
        old_keys: set[str] = set(before.dedupe_keys or []) if before and before.archived_at is None else set()
        # One pair per other record, however many keys they share (same name and same phone): a
        # transaction may not write one item twice.
        reasons: dict[str, str] = {}
        for key in sorted(set(item.dedupe_keys or []) - old_keys):
            others, _ = repo.query_page(keys.dedupe_pk(item.tenant_id, self.spec.object_type, key), limit=5)
            for other in others:
                if isinstance(other, IndexEntry) and other.record_id != item.id:
                    reasons.setdefault(other.record_id, key.split(":", 1)[0])
        found_at = utc_now()
        for other_id, reason in reasons.items():
            changes.save(
                repo.duplicate_pair(
                    keys.duplicates_pk(item.tenant_id, self.spec.object_type),
                    item.id,
                    other_id,
                    reason,
                    found_at,
                )
            )

    def _commit(self, ctx: RequestContext, prepared: Prepared) -> None:
        try:
            prepared.changes.commit()
        except WriteConflict as error:
            raise self._conflict_problem(ctx, error, prepared) from error

    def _conflict_problem(
        self, ctx: RequestContext, error: WriteConflict, prepared: Prepared
    ) -> ProblemError:
        label = error.label.rsplit(":", 1)[-1]
        if label == "unique":
            existing = (error.existing or {}).get("record_id")
            if existing is None and prepared.unique_value:
                existing = repo.get_unique_owner(
                    ctx.tenant_id, self.spec.object_type, self.spec.unique_field or "", prepared.unique_value
                )
            field_name = self.spec.unique_field or "id"
            return conflict(
                f"A {self.spec.object_type} with this {field_name} already exists.",
                field_name=field_name,
                existing_id=existing,
            )
        return _StaleWrite(label)

    def _new_item(self, ctx: RequestContext, data: dict[str, Any]) -> RecordItem:
        record_id, now = new_id(), utc_now()
        return RecordItem(
            keys.record_pk(ctx.tenant_id, self.spec.object_type, record_id),
            keys.RECORD_SK,
            object_type=self.spec.object_type,
            id=record_id,
            tenant_id=ctx.tenant_id,
            created_at=now,
            updated_at=now,
            created_by=ctx.principal.user_id,
            updated_by=ctx.principal.user_id,
            data=_clean(data),
        )

    def prepare_create(self, ctx: RequestContext, fields: dict[str, Any]) -> Prepared:
        fields = dict(fields)
        # A user's new record is theirs; one the CRM makes itself (a partner's lead) waits unassigned.
        if "owner_id" in self.spec.defaults and not ctx.principal.is_system:
            fields.setdefault("owner_id", ctx.principal.user_id)
        self._require_admin_for_settings(ctx)
        ctx.principal.require_create(fields.get("owner_id"))
        related = self.spec.resolve(ctx, fields, set(fields), {})
        if self.spec.derive is not None:
            fields = self.spec.derive(ctx, _clean(fields), None, None)
        item = self._new_item(ctx, fields)
        return self._build(ctx, item, None, "created", related=related, status=201)

    def create(self, ctx: RequestContext, fields: dict[str, Any]) -> dict[str, Any]:
        committed = self._write_retrying(ctx, lambda: self.prepare_create(ctx, fields), None, None)
        assert committed is not None  # a create always writes
        return represent(self.spec, committed.item)

    def prepare_update(
        self, ctx: RequestContext, record_id: str, fields: dict[str, Any], if_match: int | None
    ) -> Prepared | None:
        """None when the request changes nothing (no write, no event)."""
        before = self._load(ctx, record_id)
        if if_match is not None and if_match != before.version:
            raise precondition_failed(before.version)
        return self._prepare_change(ctx, before, fields)

    def _prepare_change(
        self, ctx: RequestContext, before: RecordItem, fields: dict[str, Any]
    ) -> Prepared | None:
        """The change of ``fields`` of the record read as ``before``; None when it changes nothing."""
        current = record_data(before)
        self._require_change(ctx, current, {**current, **fields})
        merged = dict(current)
        merged.update(fields)
        merged = _clean(merged)
        if merged == _clean(current):
            return None
        changed = {k for k in merged.keys() | current.keys() if merged.get(k) != current.get(k)}
        related = self.spec.resolve(ctx, merged, changed, _related(before))
        if self.spec.derive is not None:
            merged = _clean(self.spec.derive(ctx, merged, current, before.id))
        item = copy.deepcopy(before)
        item.data = merged
        item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return self._build(ctx, item, before, "updated", related=related, status=200)

    def update(
        self, ctx: RequestContext, record_id: str, fields: dict[str, Any], if_match: int | None = None
    ) -> dict[str, Any]:
        return self._retrying(
            ctx, lambda: self.prepare_update(ctx, record_id, fields, if_match), if_match, record_id
        )

    def _retrying(
        self,
        ctx: RequestContext,
        prepare: Callable[[], Prepared | None],
        if_match: int | None,
        record_id: str,
    ) -> dict[str, Any]:
        """Read-modify-write, answered with the record as it is after it."""
        committed = self._write_retrying(ctx, prepare, if_match, record_id)
        return represent(self.spec, committed.item) if committed else self.get(ctx, record_id)

    def _write_retrying(
        self,
        ctx: RequestContext,
        prepare: Callable[[], Prepared | None],
        if_match: int | None,
        record_id: str | None,
    ) -> Prepared | None:
        """Read-modify-write: the change committed, or None when ``prepare`` found nothing to change.
        A write that lost a race is prepared again from a fresh read after a jittered back-off (so a
        concurrent change is merged, not refused); with If-Match, a record that changed meanwhile is 412.
        A taken unique value is not a race: its 409 goes to the caller at once."""
        for attempt in range(WRITE_ATTEMPTS):
            prepared = prepare()
            if prepared is None:
                return None
            try:
                self._commit(ctx, prepared)
            except _StaleWrite:
                if if_match is not None and record_id is not None:
                    current = self._load(ctx, record_id, archived=None).version
                    if current != if_match:
                        raise precondition_failed(current) from None
                # the same version: only its search tokens were refreshed meanwhile, or another
                # transaction held one of its items
                _back_off(attempt)
                continue
            return prepared
        raise ProblemError(409, "Conflict", "The record is being changed by others; retry the request.")

    def move_reference(
        self, ctx: RequestContext, record_id: str, field_name: str, from_id: str, to_id: str
    ) -> bool:
        """The record refers to ``to_id`` instead of ``from_id`` in ``field_name`` (one id, or a list of
        ids), as a change of its own with its event; False when it no longer refers to ``from_id`` (read
        afresh, so a list keeps what was added to it meanwhile) and nothing was written."""

        def prepare() -> Prepared | None:
            before = self._load(ctx, record_id)
            value = _replaced(record_data(before).get(field_name), from_id, to_id)
            return None if value is None else self._prepare_change(ctx, before, {field_name: value})

        return self._write_retrying(ctx, prepare, None, record_id) is not None

    def prepare_archive(self, ctx: RequestContext, record_id: str, if_match: int | None) -> Prepared:
        before = self._load(ctx, record_id)
        if if_match is not None and if_match != before.version:
            raise precondition_failed(before.version)
        self._require_change(ctx, record_data(before))
        if self.spec.before_archive is not None:
            self.spec.before_archive(ctx, before)
        item = copy.deepcopy(before)
        item.archived_at = item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return self._build(ctx, item, before, "archived", related=None, status=200)

    def archive(self, ctx: RequestContext, record_id: str, if_match: int | None = None) -> dict[str, Any]:
        return self._retrying(
            ctx, lambda: self.prepare_archive(ctx, record_id, if_match), if_match, record_id
        )

    def restore(self, ctx: RequestContext, record_id: str) -> dict[str, Any]:
        def prepare() -> Prepared:
            before = self._load(ctx, record_id, archived=True)
            self._require_change(ctx, record_data(before))
            if before.merged_into:
                raise conflict(
                    f"This {self.spec.object_type} was merged into {before.merged_into} and cannot "
                    "be restored.",
                    merged_into=before.merged_into,
                )
            archived_at = datetime.fromisoformat(str(before.archived_at).replace("Z", "+00:00"))
            if datetime.now(UTC) - archived_at > RESTORE_WINDOW:
                raise not_found(self.spec.object_type, record_id)
            item = copy.deepcopy(before)
            item.archived_at = None
            item.updated_at = utc_now()
            item.updated_by = ctx.principal.user_id
            return self._build(ctx, item, before, "restored", related=None, status=200)

        return self._retrying(ctx, prepare, None, record_id)

    def refresh_related(self, item: RecordItem, related: dict[str, Any]) -> bool:
        """Index maintenance, not a change of the record: its type-ahead tokens made again from ``related``
        (facts of other records, such as its company's current name) and its search entries brought in
        step, in one transaction that keeps its version and writes no event (the record as the API shows
        it is the same). False when they were right already, or the record is archived (it keeps no
        search entries). Raises ``WriteConflict`` when the record changed since ``item`` was read: read it
        again and retry."""
        if item.archived_at is not None:
            return False
        tokens = _tokens(self.spec, record_data(item), related)
        if tokens == sorted(item.search_tokens or []) and related == _related(item):
            return False
        after = copy.deepcopy(item)
        after.related, after.search_tokens = related, tokens
        before_keys, after_keys = _side_keys(self.spec, item).keys(), _side_keys(self.spec, after).keys()
        repo.write_search_tokens(
            item,
            related=related,
            search_tokens=tokens,
            remove=sorted(before_keys - after_keys),
            add=sorted(after_keys - before_keys),
        )
        return True

    def event_only(self, ctx: RequestContext, item: RecordItem, event_type: str) -> ChangeSet:
        """The outbox event (and timeline entries) of something that happened to a record without changing
        it, such as a reminder falling due."""
        data = record_data(item)
        detail = build_event(
            event_type=f"{self.spec.object_type}.{event_type}",
            tenant_id=ctx.tenant_id,
            actor=ctx.principal.actor,
            correlation_id=ctx.correlation_id,
            data=represent(self.spec, item),
            sequence=item.version,
        )
        changes = ChangeSet()
        changes.save(_event_item(self.spec, item, detail), label="event")
        _save_timeline_entries(changes, self.spec, ctx.tenant_id, data, detail)
        return changes

    # ------------------------------------------------------------------------------------------ merge

    def merge(self, ctx: RequestContext, survivor_id: str, duplicate_id: str) -> dict[str, Any]:
        """The survivor keeps its values and takes the duplicate's where it has none; the duplicate is
        archived with ``merged_into``, and its unique value then leads to the survivor.

        The two records change in one transaction, on the versions read; only once it has committed are
        the records that refer to the duplicate moved. So a merge that fails moves nothing, and of
        concurrent merges of one duplicate exactly one commits and moves them (the others find it merged:
        409). What the request does not move, the consumer of the merge's event does (merge_moves)."""
        if survivor_id == duplicate_id:
            raise invalid_field("duplicate_id", f"cannot merge a {self.spec.object_type} into itself")
        for attempt in range(WRITE_ATTEMPTS):
            changes, new_survivor = self._prepare_merge(ctx, survivor_id, duplicate_id)
            try:
                changes.commit()
            except WriteConflict:
                _back_off(attempt)  # one of the two changed since it was read: read both again
                continue
            pending = self._move_referrers(ctx, survivor_id, duplicate_id)
            return {**represent(self.spec, new_survivor), "pending_moves": pending}
        raise ProblemError(409, "Conflict", "The records are being changed by others; retry the merge.")

    def _prepare_merge(
        self, ctx: RequestContext, survivor_id: str, duplicate_id: str
    ) -> tuple[ChangeSet, RecordItem]:
        spec, tenant = self.spec, ctx.tenant_id
        survivor = self._load(ctx, survivor_id)
        duplicate = repo.get_record(tenant, spec.object_type, duplicate_id, consistent=True)
        if duplicate is not None and duplicate.merged_into:
            raise conflict(
                f"This {spec.object_type} was already merged into {duplicate.merged_into}.",
                field_name="duplicate_id",
                merged_into=duplicate.merged_into,
            )
        if duplicate is None or duplicate.archived_at is not None:
            raise invalid_field("duplicate_id", f"no active {spec.object_type} with this id")
        for record in (survivor, duplicate):
            self._require_change(ctx, record_data(record))
        kept, taken = record_data(survivor), record_data(duplicate)
        merged = dict(kept)
        for name, value in taken.items():
            if name == "tags":
                merged["tags"] = list(dict.fromkeys([*(kept.get("tags") or []), *value]))[:MAX_TAGS]
            elif name == "custom":
                merged["custom"] = {**value, **(kept.get("custom") or {})}
            elif name not in kept:
                merged[name] = value
        merged = _clean(merged)
        changed = {k for k in merged.keys() | kept.keys() if merged.get(k) != kept.get(k)}
        related = spec.resolve(ctx, merged, changed, _related(survivor))
        if spec.derive is not None:
            merged = _clean(spec.derive(ctx, merged, kept, survivor_id))

        new_survivor = copy.deepcopy(survivor)
        new_survivor.data = merged
        new_survivor.updated_at = utc_now()
        new_survivor.updated_by = ctx.principal.user_id
        prepared = self._build(
            ctx,
            new_survivor,
            survivor,
            "merged",
            related=related,
            status=200,
            extra_changes={"merged_from": {"from": None, "to": duplicate_id}},
        )
        new_duplicate = copy.deepcopy(duplicate)
        new_duplicate.archived_at = new_duplicate.updated_at = new_survivor.updated_at
        new_duplicate.merged_into = survivor_id
        dup_prepared = self._build(ctx, new_duplicate, duplicate, "archived", related=None, status=200)
        changes = prepared.changes
        taken_unique = self._unique_value(taken)
        if taken_unique:
            # The duplicate's address or domain now finds the survivor: as its own value when the survivor
            # had none (the survivor's change would claim a free marker: it is the duplicate's instead), or
            # as a secondary one.
            if self._unique_value(merged) == taken_unique:
                changes.operations = [op for op in changes.operations if op.label != "unique"]
            changes.save(
                UniqueMarker(
                    keys.unique_pk(tenant, spec.object_type, spec.unique_field or "", taken_unique),
                    keys.UNIQUE_SK,
                    record_id=survivor_id,
                ),
                condition=UniqueMarker.record_id == duplicate_id,
                label="marker",
            )
        changes.extend(dup_prepared.changes)
        _require_fits(changes)
        return changes, new_survivor

    def _move_referrers(self, ctx: RequestContext, survivor_id: str, duplicate_id: str) -> list[str]:
        """What refers to the duplicate refers to the survivor instead, each record a change of its own: a
        kind with at most ``MAX_MOVED_BY_MERGE`` of them now (one Query, then each record's change), a kind
        with more in the background, after the merge commits (services/merge_moves.py, fed by the merge's
        event). The names of the kinds left to the background."""
        pending: list[str] = []
        # The moves follow from a merge the caller may make; like the background moves, the CRM makes them
        # on the merge's behalf (its correlation id ties them to it), so a rep's merge does not stop half
        # way on a linked record that is another user's.
        on_behalf = RequestContext(
            Principal.system(ctx.tenant_id, "merge"), correlation_id=ctx.correlation_id, lookups=ctx.lookups
        )
        for referrer in self.spec.referrers() if self.spec.referrers else ():
            ids, _ = referrer.service.ids_referring(
                ctx.tenant_id, referrer.field_name, duplicate_id, limit=MAX_MOVED_BY_MERGE + 1, start_key=None
            )
            if len(ids) > MAX_MOVED_BY_MERGE:
                pending.append(referrer.name)
                continue
            try:
                for record_id in ids:
                    referrer.service.move_reference(
                        on_behalf, record_id, referrer.field_name, duplicate_id, survivor_id
                    )
            except Exception:
                # The merge has committed; the consumer of its event moves what is left of this kind.
                logger.exception("merge moves left to the background", extra={"kind": referrer.name})
                pending.append(referrer.name)
        return pending

    # -------------------------------------------------------------------------------------------- lists

    def ids_referring(
        self, tenant_id: str, field_name: str, record_id: str, *, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[str], dict[str, str] | None]:
        """One Query, as ``list_records`` filtered by ``field_name`` (the type's parent field, or one of
        its entry fields): the ids of a page of the active records that refer to ``record_id`` there (in id
        order), and the plain key to continue from (None at the end). For work that keeps its place in its
        own queue message rather than in a signed cursor (so it needs no cursor key), and for a merge."""
        spec = self.spec
        if field_name == spec.parent_field:
            pk = keys.attribute_pk(tenant_id, spec.object_type, "active", "parent", record_id)
            items, last = repo.query_page(pk, index="GSI4", limit=limit, start_key=start_key)
            return [item.id for item in items if isinstance(item, RecordItem)], last
        if field_name in spec.entry_fields:
            pk = keys.attribute_pk(tenant_id, spec.object_type, "active", field_name, record_id)
            entries, last = repo.query_page(pk, limit=limit, start_key=start_key)
            return [entry.record_id for entry in entries if isinstance(entry, IndexEntry)], last
        raise ValueError(f"{spec.object_type} records are not listed by {field_name}")

    def list_records(
        self,
        ctx: RequestContext,
        *,
        filters: dict[str, Any],
        q: str | None,
        archived: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        spec, tenant = self.spec, ctx.tenant_id
        state = "archived" if archived else "active"
        filters = {k: v for k, v in filters.items() if v not in (None, "")}
        fingerprint = _fingerprint(spec.object_type, state, filters, q)
        start = signing.decode_cursor(tenant, fingerprint, cursor) if cursor else None

        entry_pk: str | None = None
        entry_condition = None
        if q is not None and q.strip():
            if archived:
                raise invalid_field("q", "type-ahead search covers active records only")
            token = normalize_query(q)
            if not token:
                raise invalid_field("q", "must contain letters or digits")
            entry_pk = keys.search_pk(tenant, spec.object_type, token)
            entry_condition = TableItem.SK.startswith(token)
            consumed = None
        elif filters.get("tag"):
            entry_pk = keys.attribute_pk(
                tenant, spec.object_type, state, "tag", normalize_text(filters["tag"])
            )
            consumed = "tag"
        else:
            consumed = next((name for name in spec.entry_fields if filters.get(name)), None)
            if consumed is not None:
                value = str(filters[consumed])
                entry_pk = keys.attribute_pk(tenant, spec.object_type, state, consumed, value)
        if entry_pk is not None:
            rest = {k: v for k, v in filters.items() if k != consumed}
            return self._list_by_entries(ctx, entry_pk, entry_condition, rest, limit, start, fingerprint)

        index, pk, range_condition = "GSI1", keys.list_pk(tenant, spec.object_type, state), None
        remaining = dict(filters)
        for number, attribute, name in (
            (4, spec.parent_field, "parent"),
            (3, "owner_id", "owner"),
            (5, spec.category_field, "category"),
        ):
            if attribute and remaining.get(attribute):
                index = f"GSI{number}"
                pk = keys.attribute_pk(tenant, spec.object_type, state, name, str(remaining.pop(attribute)))
                break
        else:
            if remaining.get("updated_since"):
                index, pk = "GSI2", keys.changes_pk(tenant, spec.object_type)
                range_condition = str(remaining.pop("updated_since")) <= TableItem.GSI2SK
                remaining["_state"] = state
        condition = self._filter_condition(remaining)
        items, last = repo.query_page(
            pk,
            index=index,
            range_condition=range_condition,
            filter_condition=condition,
            limit=limit,
            start_key=start,
        )
        records = [represent(spec, i) for i in items if isinstance(i, RecordItem)]
        return records, (signing.encode_cursor(tenant, fingerprint, last) if last else None)

    def _filter_condition(self, remaining: dict[str, Any]) -> Any:
        condition: Any = None
        for name, value in remaining.items():
            part: Any
            if name == "_state":
                part = (
                    RecordItem.archived_at.exists()
                    if value == "archived"
                    else RecordItem.archived_at.does_not_exist()
                )
            elif name == "updated_since":
                part = RecordItem.updated_at >= str(value)
            elif name == "tag":
                part = RecordItem.data["tags"].contains(value)
            elif name.endswith("__exists"):  # {"completed_at__exists": False}: open activities
                path = RecordItem.data[name.removesuffix("__exists")]
                part = path.exists() if value else path.does_not_exist()
            elif name.endswith("__lte"):  # a range on a field: {"close_date__lte": "2026-12-31"}
                part = RecordItem.data[name.removesuffix("__lte")] <= value
            elif name.endswith("__gte"):
                part = RecordItem.data[name.removesuffix("__gte")] >= value
            else:
                part = RecordItem.data[name] == value
            condition = part if condition is None else condition & part
        return condition

    def _list_by_entries(
        self,
        ctx: RequestContext,
        pk: str,
        condition: Any,
        filters: dict[str, Any],
        limit: int,
        start: dict[str, str] | None,
        fingerprint: str,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of entries (one Query), then their records (one BatchGetItem), filtered by the rest."""
        entries, last = repo.query_page(pk, range_condition=condition, limit=limit, start_key=start)
        ids = [e.record_id for e in entries if isinstance(e, IndexEntry)]
        found = repo.batch_get_records(ctx.tenant_id, self.spec.object_type, ids)
        records: list[dict[str, Any]] = []
        for record_id in dict.fromkeys(ids):
            item = found.get(record_id)
            if item is None:
                continue
            body = represent(self.spec, item)
            if self._matches(body, filters):
                records.append(body)
        return records, (signing.encode_cursor(ctx.tenant_id, fingerprint, last) if last else None)

    @staticmethod
    def _matches(body: dict[str, Any], filters: dict[str, Any]) -> bool:
        for name, value in filters.items():
            if name == "updated_since":
                if body["updated_at"] < str(value):
                    return False
            elif name == "tag":
                if normalize_text(str(value)) not in [normalize_text(t) for t in body.get("tags") or []]:
                    return False
            elif name.endswith("__exists"):
                if (body.get(name.removesuffix("__exists")) is not None) != bool(value):
                    return False
            elif name.endswith("__lte"):
                field_value = body.get(name.removesuffix("__lte"))
                if field_value is None or field_value > value:
                    return False
            elif name.endswith("__gte"):
                field_value = body.get(name.removesuffix("__gte"))
                if field_value is None or field_value < value:
                    return False
            elif isinstance(body.get(name), list):
                if value not in body[name]:
                    return False
            elif body.get(name) != value:
                return False
        return True

    def timeline(
        self, ctx: RequestContext, record_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One Query of the record's partition. Every record has its creation event, so a first page with
        nothing on it means there is no such record in this tenant."""
        fingerprint = _fingerprint(self.spec.object_type, "timeline", record_id)
        start = signing.decode_cursor(ctx.tenant_id, fingerprint, cursor) if cursor else None
        events, last = repo.timeline_page(
            ctx.tenant_id, self.spec.object_type, record_id, limit=limit, start_key=start
        )
        if not events and start is None:
            raise not_found(self.spec.object_type, record_id)
        entries = [timeline_entry(plain(event.detail)) for event in events]
        return entries, (signing.encode_cursor(ctx.tenant_id, fingerprint, last) if last else None)

    def duplicates(
        self, ctx: RequestContext, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Pairs that share a duplicate key (same name, same phone, ...), both still active."""
        tenant = ctx.tenant_id
        fingerprint = _fingerprint(self.spec.object_type, "duplicates")
        start = signing.decode_cursor(tenant, fingerprint, cursor) if cursor else None
        pairs, last = repo.query_page(
            keys.duplicates_pk(tenant, self.spec.object_type), limit=limit, start_key=start
        )
        ids = [rid for pair in pairs for rid in getattr(pair, "record_ids", [])]
        found = repo.batch_get_records(tenant, self.spec.object_type, ids)
        items = []
        for pair in pairs:
            members = [found.get(rid) for rid in getattr(pair, "record_ids", [])]
            if len(members) == 2 and all(m is not None and m.archived_at is None for m in members):
                items.append(
                    {
                        "ids": [m.id for m in members if m],
                        "reason": getattr(pair, "reason", ""),
                        "found_at": getattr(pair, "found_at", ""),
                        self.spec.object_type + "s": [represent(self.spec, m) for m in members if m],
                    }
                )
        return items, (signing.encode_cursor(tenant, fingerprint, last) if last else None)

    # -------------------------------------------------------------------------------------------- batch

    def batch(
        self, ctx: RequestContext, action: str, inputs: list[Any], *, all_or_none: bool
    ) -> list[dict[str, Any]]:
        if action == "read":
            return self._batch_read(ctx, inputs)
        if all_or_none:
            return self._batch_atomic(ctx, action, inputs)
        results: list[dict[str, Any]] = []
        for position, raw in enumerate(inputs):
            # Each input commits on its own, so each gets its own answer, whatever befalls the others.
            try:
                results.append(self._apply_batch_item(ctx, action, raw))
            except ProblemError as problem:
                results.append(_error_result(reprefix(problem, f"inputs[{position}].")))
            except Exception:
                logger.exception("batch input failed", extra={"position": position})
                failure = ProblemError(
                    500,
                    "Internal Server Error",
                    f"This input failed on our side (request {ctx.correlation_id}); read the record "
                    "before sending it again.",
                )
                results.append(_error_result(failure))
        return results

    def _apply_batch_item(self, ctx: RequestContext, action: str, raw: Any) -> dict[str, Any]:
        """One input of a batch that is not all-or-none: prepared and committed as a request of its own
        (a lost race is tried again from a fresh read, as a single write is), its result."""
        found_id: str | None = None
        for attempt in range(WRITE_ATTEMPTS):
            outcome = self._prepare_batch_item(ctx, action, raw, found_id=found_id)
            if isinstance(outcome, Unchanged):
                return self._batch_result(ctx, outcome)
            try:
                self._commit(ctx, outcome)
            except _StaleWrite:
                _back_off(attempt)
                continue
            except ProblemError as problem:
                existing = problem.extra.get("existing_id")
                if action == "upsert" and outcome.status == 201 and existing and found_id is None:
                    found_id = str(existing)  # created meanwhile by another request: update it instead
                    continue
                raise
            return self._batch_result(ctx, outcome)
        raise ProblemError(409, "Conflict", "The record is being changed by others; retry this input.")

    def _batch_result(self, ctx: RequestContext, outcome: Prepared | Unchanged) -> dict[str, Any]:
        if isinstance(outcome, Unchanged):
            return {"status": 200, "id": outcome.record_id, "record": self.get(ctx, outcome.record_id)}
        return {"status": outcome.status, "id": outcome.item.id, "record": represent(self.spec, outcome.item)}

    def _batch_read(self, ctx: RequestContext, inputs: list[Any]) -> list[dict[str, Any]]:
        ids = [str(raw.get("id")) if isinstance(raw, dict) else "" for raw in inputs]
        found = repo.batch_get_records(ctx.tenant_id, self.spec.object_type, [i for i in ids if i])
        results = []
        for record_id in ids:
            item = found.get(record_id)
            if item is None or item.archived_at is not None:
                results.append(_error_result(not_found(self.spec.object_type, record_id)))
            else:
                results.append({"status": 200, "id": record_id, "record": represent(self.spec, item)})
        return results

    def _batch_atomic(self, ctx: RequestContext, action: str, inputs: list[Any]) -> list[dict[str, Any]]:
        """One TransactWriteItems for the whole batch: every input commits, or none does."""
        outcomes: list[Prepared | Unchanged] = []
        errors: list[FieldError] = []
        seen_unique: dict[str, int] = {}
        changes = ChangeSet()
        for position, raw in enumerate(inputs):
            try:
                outcome = self._prepare_batch_item(ctx, action, raw)
            except ProblemError as problem:
                errors += reprefix(problem, f"inputs[{position}].").errors or [
                    FieldError(f"inputs[{position}]", problem.detail)
                ]
                continue
            outcomes.append(outcome)
            if isinstance(outcome, Unchanged):
                continue
            if outcome.unique_value and outcome.unique_value in seen_unique:
                errors.append(
                    FieldError(
                        f"inputs[{position}].{self.spec.unique_field}",
                        f"repeats inputs[{seen_unique[outcome.unique_value]}]",
                    )
                )
            if outcome.unique_value:
                seen_unique[outcome.unique_value] = position
            for op in outcome.changes.operations:
                op.label = f"{position}:{op.label}"
            changes.extend(outcome.changes)
        if errors:
            raise validation_failed(errors, "The batch was not applied: some inputs are invalid.")
        try:
            changes.commit()
        except TransactionTooLarge:
            raise ProblemError(
                422,
                "Unprocessable Content",
                f"These inputs need {len(changes)} table items, more than one transaction holds "
                f"({MAX_TRANSACTION_ITEMS}); send fewer inputs with all_or_none=true.",
                [FieldError("inputs", "too many for one transaction")],
            ) from None
        except WriteConflict as error:
            label_position, _, label = error.label.partition(":")
            position = int(label_position) if label else 0
            failure = self._conflict_problem(
                ctx, WriteConflict(label or error.label, error.existing), _prepared_at(outcomes, position)
            )
            if isinstance(failure, _StaleWrite):
                failure = ProblemError(409, "Conflict", "A record changed while the batch ran.")
            failure.detail += " Nothing was applied."
            raise reprefix(failure, f"inputs[{position}].") from error
        return [self._batch_result(ctx, outcome) for outcome in outcomes]

    def _prepare_batch_item(
        self, ctx: RequestContext, action: str, raw: Any, *, found_id: str | None = None
    ) -> Prepared | Unchanged:
        """``found_id``: the record an upsert without an id updates, when it is known already."""
        if not isinstance(raw, dict):
            raise validation_failed([FieldError("", "must be a JSON object")])
        record_id = raw.get("id")
        fields_raw = raw.get("properties", {k: v for k, v in raw.items() if k != "id"})
        if action == "create":
            if "id" in raw:
                raise invalid_field("id", "is read-only and cannot be set")
            fields = set_fields(validate(self.spec.create_model, fields_raw))
            return self.prepare_create(ctx, fields)
        if record_id is not None and not isinstance(record_id, str):
            raise invalid_field("id", "must be a string")
        if action == "upsert" and record_id is None:
            record_id = found_id or self._find_by_unique_value(ctx, fields_raw)
            if record_id is None:
                fields = set_fields(validate(self.spec.create_model, fields_raw))
                return self.prepare_create(ctx, fields)
        if record_id is None:
            raise invalid_field("id", "is required")
        if action == "archive":
            return self.prepare_archive(ctx, record_id, None)
        if action in ("update", "upsert"):
            fields = set_fields(validate(self.spec.update_model, fields_raw))
            return self.prepare_update(ctx, record_id, fields, None) or Unchanged(record_id)
        raise invalid_field("action", f"unknown batch action {action!r}")

    def _find_by_unique_value(self, ctx: RequestContext, fields_raw: Any) -> str | None:
        """Upsert without an id matches on the type's unique value (a contact's email, a company's domain)."""
        field_name = self.spec.unique_field
        value = fields_raw.get(field_name) if field_name and isinstance(fields_raw, dict) else None
        if not field_name or not isinstance(value, str) or not value.strip():
            return None
        try:
            normalized = self.spec.normalize_unique(value)
        except ValueError:
            return None  # not a valid value: the create's validation names the field
        return repo.get_unique_owner(ctx.tenant_id, self.spec.object_type, field_name, normalized)


@dataclass(frozen=True)
class Unchanged:
    """A batch input that asked for no change: answered with the record as it is."""

    record_id: str


def _prepared_at(outcomes: list[Prepared | Unchanged], position: int) -> Prepared:
    outcome = outcomes[position] if position < len(outcomes) else None
    return outcome if isinstance(outcome, Prepared) else Prepared(ChangeSet(), RecordItem(), 409)


MAX_TAGS = 10


class _StaleWrite(ProblemError):
    """The record changed between our read and our write (its version condition failed)."""

    def __init__(self, label: str) -> None:
        super().__init__(409, "Conflict", f"concurrent change ({label})")


def _error_result(problem: ProblemError) -> dict[str, Any]:
    return {"status": problem.status, "error": problem.to_dict()}
