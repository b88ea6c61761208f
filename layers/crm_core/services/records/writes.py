"""How a change of a record is written: one ``TransactWriteItems`` holding the record (on the version and
tokens it was read with), its unique markers, the entries beside it that differ, its event(s) and their
timeline copies, its counters and the new owner's notification; and how a change that lost a race is
made again.

``build_change`` makes that transaction from the record before (None: new) and after, one step per kind
of item; ``write_retrying`` commits it, preparing it again from a fresh read when it lost a race.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict, invalid_field, precondition_failed
from crm_core.events import build_event, diff
from crm_core.ids import utc_now
from crm_core.models.record import EventDetail, FieldChanges, RecordFields, RelatedFacts
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import IndexEntry, RecordCount, RecordItem, TableItem, UniqueMarker
from crm_core.repositories.transaction import MAX_TRANSACTION_ITEMS, ChangeSet, WriteConflict
from crm_core.services.records.items import (
    assignment_notification,
    event_item,
    place_in_indexes,
    side_entries,
    state_of,
    stored_tokens,
    timeline_copies,
)
from crm_core.services.records.shape import record_data, represent
from crm_core.services.records.spec import ObjectSpec

# A record's fields as JSON (non-ASCII escaped, as the outbox publishes them) are at most this big, so
# that its event (the record, and each changed field's old and new value) stays under EventBridge's
# 256 KB entry and every item of its transaction under DynamoDB's 400 KB.
MAX_RECORD_BYTES = 64 * 1024
# A write that loses a race (its record changed since it was read, or another transaction held one of
# its items) is made again from a fresh read, after a jittered pause that grows with each attempt.
WRITE_ATTEMPTS = 12
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
ENTRY_LABEL = "entry:"  # the label of a side entry's write: "entry:<the field it comes from>"


@dataclass(frozen=True)
class Prepared:
    """A change ready to commit: its items, the record after it, and how to answer."""

    changes: ChangeSet
    item: RecordItem
    status: int
    unique_value: str | None = None
    events: list[EventDetail] = field(default_factory=list)


class StaleWrite(ProblemError):
    """The record changed between our read and our write (its version condition failed), or another
    transaction held one of the change's items: prepare it again from a fresh read."""

    def __init__(self, label: str) -> None:
        super().__init__(409, "Conflict", f"concurrent change ({label})")


# ------------------------------------------------------------------------------------- building a change


def build_change(
    spec: ObjectSpec,
    ctx: RequestContext,
    item: RecordItem,
    before: RecordItem | None,
    event_type: str,
    *,
    related: RelatedFacts | None,
    status: int,
    extra_changes: FieldChanges | None = None,
) -> Prepared:
    """The change set that takes a record from ``before`` (None: new) to ``item``, with its event(s).
    ``related`` (None: as they were) are the facts of other records its tokens are made from."""
    data = record_data(item)
    require_size(spec, data)
    if related is not None:
        item.related = related
        item.search_tokens = stored_tokens(spec, data, related)
        item.dedupe_keys = sorted(set(spec.dedupe_keys(data)))
    place_in_indexes(spec, item)
    changes = ChangeSet()
    # The entries below are the difference from the tokens ``before`` lists; a refresh of those tokens
    # since (refresh_related, which keeps the version) makes this a stale write, as a change does.
    changes.save(item, condition=repo.tokens_unchanged(before) if before else None, label="record")
    new_unique = _unique_steps(changes, spec, ctx.tenant_id, item, before)
    _entry_steps(changes, spec, item, before)
    if item.archived_at is None:
        _duplicate_pair_steps(changes, spec, item, before)
    details = _event_steps(changes, spec, ctx, item, before, event_type, extra_changes)
    _count_step(changes, spec, item, before)
    if spec.counters is not None:
        for counter, amounts in spec.counters(before, item):
            changes.add_to(counter, amounts)
    _assignment_step(changes, spec, ctx, item, before)
    require_fits(changes)
    return Prepared(changes, item, status, new_unique, details)


def _unique_steps(
    changes: ChangeSet, spec: ObjectSpec, tenant_id: str, item: RecordItem, before: RecordItem | None
) -> str | None:
    """The markers of the unique value the record gains (claimed: absent until now) and loses (still its
    own); the value it has after the change."""
    old_unique = spec.unique_value(record_data(before)) if before else None
    new_unique = spec.unique_value(record_data(item))
    if new_unique == old_unique:
        return new_unique
    field_name = spec.unique_field or ""
    if old_unique:
        changes.delete(
            UniqueMarker(keys.unique_pk(tenant_id, spec.object_type, field_name, old_unique), keys.UNIQUE_SK),
            condition=UniqueMarker.record_id == item.id,
            label="unique_old",
        )
    if new_unique:
        changes.save(
            UniqueMarker(
                keys.unique_pk(tenant_id, spec.object_type, field_name, new_unique),
                keys.UNIQUE_SK,
                record_id=item.id,
            ),
            condition=UniqueMarker.PK.does_not_exist(),
            label="unique",
            return_old=True,
        )
    return new_unique


def _entry_steps(changes: ChangeSet, spec: ObjectSpec, item: RecordItem, before: RecordItem | None) -> None:
    """The side entries the record no longer has deleted, the new ones put."""
    old_side = side_entries(spec, before) if before else {}
    new_side = side_entries(spec, item)
    for pk, sk in sorted(old_side.keys() - new_side.keys()):
        changes.delete(IndexEntry(pk, sk), label=f"{ENTRY_LABEL}{old_side[(pk, sk)]}")
    for pk, sk in sorted(new_side.keys() - old_side.keys()):
        changes.save(repo.entry(pk, sk, item.id), label=f"{ENTRY_LABEL}{new_side[(pk, sk)]}")


def _duplicate_pair_steps(
    changes: ChangeSet, spec: ObjectSpec, item: RecordItem, before: RecordItem | None
) -> None:
    """A new duplicate key looks up who else has it (one bounded Query of the search entries of its
    token, which is one of the record's type-ahead tokens), and records the pairs."""
    old_keys: set[str] = set(before.dedupe_keys or []) if before and before.archived_at is None else set()
    # One pair per other record, however many keys they share (same name and same phone): a
    # transaction may not write one item twice.
    reasons: dict[str, str] = {}
    for key in sorted(set(item.dedupe_keys or []) - old_keys):
        reason, token = key.split(":", 1)
        others, _ = repo.query_page(
            keys.search_pk(item.tenant_id, spec.object_type, token),
            range_condition=TableItem.SK.startswith(f"{token}#"),
            limit=6,
        )
        for other in others:
            if isinstance(other, IndexEntry) and other.record_id != item.id:
                reasons.setdefault(other.record_id, reason)
    found_at = utc_now()
    pairs_pk = keys.duplicates_pk(item.tenant_id, spec.object_type)
    for other_id, reason in reasons.items():
        changes.save(repo.duplicate_pair(pairs_pk, item.id, other_id, reason, found_at))


def _event_steps(
    changes: ChangeSet,
    spec: ObjectSpec,
    ctx: RequestContext,
    item: RecordItem,
    before: RecordItem | None,
    event_type: str,
    extra_changes: FieldChanges | None,
) -> list[EventDetail]:
    """The change's event(s) (an update may be a deal's stage_changed and won), each with its copies in the
    timelines of the records it links to; their details."""
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
        event_types = spec.update_events(record_data(before), record_data(item))
    details = []
    for name in event_types:
        detail = build_event(
            event_type=f"{spec.object_type}.{name}",
            tenant_id=ctx.tenant_id,
            actor=ctx.principal.actor,
            correlation_id=ctx.correlation_id,
            data=after_repr,
            changes=change_map,
            sequence=after_repr["version"],
        )
        details.append(detail)
        changes.save(event_item(spec, item, detail), label="event")
        for copy_item in timeline_copies(spec, ctx.tenant_id, record_data(item), detail):
            changes.save(copy_item)
    return details


def _count_step(changes: ChangeSet, spec: ObjectSpec, item: RecordItem, before: RecordItem | None) -> None:
    """A record that is created, archived or restored moves between its type's counts by state (the
    ``total`` of an unfiltered list), on one of a few shards so that concurrent writers rarely meet."""
    old_state = state_of(before) if before is not None else None
    new_state = state_of(item)
    if old_state == new_state:
        return
    shard = keys.count_shard(item.id)
    for state, amount in ((old_state, -1), (new_state, 1)):
        if state is not None:
            changes.add_to(
                RecordCount(keys.count_pk(item.tenant_id, spec.object_type), f"{state}#{shard}"),
                {"records": amount},
            )


def _assignment_step(
    changes: ChangeSet, spec: ObjectSpec, ctx: RequestContext, item: RecordItem, before: RecordItem | None
) -> None:
    """A record given to another user notifies them (not when they take it themselves)."""
    data = record_data(item)
    new_owner = data.get("owner_id")
    old_owner = record_data(before).get("owner_id") if before else None
    if new_owner and new_owner not in (old_owner, ctx.principal.user_id) and item.archived_at is None:
        changes.save(assignment_notification(ctx.tenant_id, new_owner, spec.object_type, item.id, data))


# ---------------------------------------------------------------------------------------------- limits


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def require_size(spec: ObjectSpec, data: RecordFields) -> None:
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


def require_fits(changes: ChangeSet) -> None:
    """A change that needs more writes than one transaction holds is refused before anything is written
    (422 naming the field with the most entries to add and remove, e.g. a deal's contact_ids)."""
    if len(changes) <= MAX_TRANSACTION_ITEMS:
        return
    by_field = Counter(
        op.label.removeprefix(ENTRY_LABEL) for op in changes.operations if op.label.startswith(ENTRY_LABEL)
    )
    field_name = by_field.most_common(1)[0][0] if by_field else "body"
    raise invalid_field(
        field_name,
        f"changes too much at once: {len(changes)} table writes, one change makes at most "
        f"{MAX_TRANSACTION_ITEMS}; add or remove fewer values in one request",
    )


# ----------------------------------------------------------------------------------------- committing


def commit(spec: ObjectSpec, ctx: RequestContext, prepared: Prepared) -> None:
    """Commit the change; a failed condition becomes a 409 naming the taken unique value, or
    ``StaleWrite``."""
    try:
        prepared.changes.commit()
    except WriteConflict as error:
        raise conflict_problem(spec, ctx, error, prepared) from error


def conflict_problem(
    spec: ObjectSpec, ctx: RequestContext, error: WriteConflict, prepared: Prepared
) -> ProblemError:
    label = error.label.rsplit(":", 1)[-1]
    if label != "unique":
        return StaleWrite(label)
    existing = (error.existing or {}).get("record_id")
    if existing is None and prepared.unique_value:
        existing = repo.get_unique_owner(
            ctx.tenant_id, spec.object_type, spec.unique_field or "", prepared.unique_value
        )
    field_name = spec.unique_field or "id"
    return conflict(
        f"A {spec.object_type} with this {field_name} already exists.",
        field_name=field_name,
        existing_id=existing,
    )


def write_retrying(
    spec: ObjectSpec,
    ctx: RequestContext,
    prepare: Callable[[], Prepared | None],
    current_version: Callable[[], int] | None = None,
    if_match: int | None = None,
) -> Prepared | None:
    """Read-modify-write: the change committed, or None when ``prepare`` found nothing to change.
    A write that lost a race is prepared again from a fresh read after a jittered back-off (so a
    concurrent change is merged, not refused); with If-Match, a record whose ``current_version`` is no
    longer the one named is 412. A taken unique value is not a race: its 409 goes to the caller at once."""
    for attempt in range(WRITE_ATTEMPTS):
        prepared = prepare()
        if prepared is None:
            return None
        try:
            commit(spec, ctx, prepared)
        except StaleWrite:
            if if_match is not None and current_version is not None:
                current = current_version()
                if current != if_match:
                    raise precondition_failed(current) from None
            # the same version: only its search tokens were refreshed meanwhile, or another
            # transaction held one of its items
            back_off(attempt)
            continue
        return prepared
    raise ProblemError(409, "Conflict", "The record is being changed by others; retry the request.")


def back_off(attempt: int) -> None:
    """Full jitter (a random pause up to a cap that doubles each attempt): racing writers spread out."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
