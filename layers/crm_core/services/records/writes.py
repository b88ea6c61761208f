"""How a change of a record is written: the record (on the version and tokens it was read with) carrying
its change's envelope, from which the relay builds its events (docs/decisions/0008), in one
``TransactWriteItems`` with what must be atomic with it (its unique markers, its counts and counters, the
new owner's notification), or alone in one conditional ``PutItem`` when there is nothing of that; then,
once committed, what derives from it (derived.py: side entries, duplicate pairs, timeline entries); and
how a change that lost a race is made again.

``build_change`` makes that change from the record before (None: new) and after, one step per kind of
item; ``write_retrying`` commits it, preparing it again from a fresh read when it lost a race.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict, invalid_field, precondition_failed
from crm_core.events import diff
from crm_core.ids import utc_now
from crm_core.models.record import EventDetail, FieldChanges, RecordFields, RelatedFacts
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordCount, RecordItem, UniqueMarker
from crm_core.repositories.transaction import MAX_TRANSACTION_ITEMS, ChangeSet, WriteConflict
from crm_core.services.custom_values import SCHEMA_LABEL, check_custom, unique_changes
from crm_core.services.records.derived import (
    NOTHING,
    DerivedWrites,
    derived_writes,
    duplicate_pairs,
    write_after_commit,
)
from crm_core.services.records.items import (
    assignment_notification,
    change_envelope,
    events_of,
    place_in_indexes,
    state_of,
    stored_tokens,
)
from crm_core.services.records.shape import record_data, represent
from crm_core.services.records.spec import ObjectSpec

# A record's fields as JSON (non-ASCII escaped, as the outbox publishes them) are at most this big, so
# that its event (the record, and each changed field's old and new value) stays under EventBridge's
# 256 KB entry and every item of its transaction under DynamoDB's 400 KB.
MAX_RECORD_BYTES = 64 * 1024
# The label of a unique custom property's claimed marker: ``unique#custom.<name>`` (no ":", which
# batches put before a label).
CUSTOM_UNIQUE_LABEL = "unique#"
# A write that loses a race (its record changed since it was read, or another transaction held one of
# its items) is made again from a fresh read, after a jittered pause that grows with each attempt: at least
# WRITE_ATTEMPTS times, and for as long as WRITE_BUDGET_S allows. A count alone is spent in a few seconds
# when twenty writers queue on one record on a slow table, each losing to the others in turn, though each
# would win within the budget; the budget stays well inside an API function's timeout (15 s).
WRITE_ATTEMPTS = 12
WRITE_BUDGET_S = 9.0
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0


@dataclass(frozen=True)
class Prepared:
    """A change ready to commit: its items, the record after it, how to answer, and what to write once
    it has committed."""

    changes: ChangeSet
    item: RecordItem
    status: int
    unique_value: str | None = None
    events: list[EventDetail] = field(default_factory=list)
    derived: DerivedWrites = NOTHING
    # the values of unique custom properties it claims, by field (``custom.<name>``), normalized
    custom_unique: dict[str, str] = field(default_factory=dict)

    def claims(self) -> list[tuple[str, str]]:
        """Every unique value the change claims, as (field, normalized value)."""
        own = [("", self.unique_value)] if self.unique_value else []
        return [*own, *self.custom_unique.items()]


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
    redact: bool = False,
) -> Prepared:
    """The change set that takes a record from ``before`` (None: new) to ``item``, with its event(s).
    ``related`` (None: as they were) are the facts of other records its tokens are made from. ``redact``:
    an erasure, whose events and audit item name the fields it cleared and carry none of their values."""
    data = record_data(item)
    require_size(spec, data)
    if related is not None:
        item.related = related
        item.search_tokens = stored_tokens(spec, data, related)
        item.dedupe_keys = sorted(set(spec.dedupe_keys(data)))
    place_in_indexes(spec, item)
    details = _envelope_step(spec, ctx, item, before, event_type, extra_changes, redact)
    changes = ChangeSet()
    # The side entries written after the commit are the difference from the tokens ``before`` lists; a
    # refresh of those tokens since (refresh_related, which keeps the version) makes this a stale write,
    # as a change does.
    changes.save(item, condition=repo.tokens_unchanged(before) if before else None, label="record")
    new_unique = _unique_steps(changes, spec, ctx.tenant_id, item, before)
    _schema_steps(changes, spec, ctx, item, before)
    custom_unique = _custom_unique_steps(changes, spec, ctx, item, before)
    _count_step(changes, spec, item, before)
    if spec.counters is not None:
        for step in spec.counters(before, item):
            changes.add(step)
    _assignment_step(changes, spec, ctx, item, before)
    derived = derived_writes(spec, before, item, details, duplicate_pairs(spec, item, before))
    require_fits(changes, derived)
    return Prepared(changes, item, status, new_unique, details, derived, custom_unique)


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
    if old_unique and not _merged(before):
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


def _merged(before: RecordItem | None) -> bool:
    """A duplicate merged into another record: its unique values' markers lead to the survivor (merge.py),
    whose they are now; a change of the duplicate (its erasure) leaves them."""
    return before is not None and bool(before.merged_into)


def _custom_unique_steps(
    changes: ChangeSet, spec: ObjectSpec, ctx: RequestContext, item: RecordItem, before: RecordItem | None
) -> dict[str, str]:
    """The markers of the unique custom property values the record gains (claimed: absent until now) and
    loses (still its own; a property no longer unique: whatever is there), as ``_unique_steps`` does for
    the type's own unique value; the values it claims, by field. Nothing read unless ``custom`` changes."""
    if spec.custom_object is None:
        return {}
    old = record_data(before) if before is not None else None
    found = unique_changes(ctx, spec.custom_object, old, record_data(item))
    released = {} if _merged(before) else found.released
    for field_name, value in released.items():
        changes.delete(
            UniqueMarker(keys.unique_pk(ctx.tenant_id, spec.object_type, field_name, value), keys.UNIQUE_SK),
            condition=UniqueMarker.record_id == item.id,
            label="unique_old",
        )
    for field_name, value in found.dropped.items():
        changes.delete(
            UniqueMarker(keys.unique_pk(ctx.tenant_id, spec.object_type, field_name, value), keys.UNIQUE_SK),
            label="unique_dropped",
        )
    for field_name, value in found.claimed.items():
        changes.save(
            UniqueMarker(
                keys.unique_pk(ctx.tenant_id, spec.object_type, field_name, value),
                keys.UNIQUE_SK,
                record_id=item.id,
            ),
            condition=UniqueMarker.PK.does_not_exist(),
            label=CUSTOM_UNIQUE_LABEL + field_name,
            return_old=True,
        )
    return found.claimed


def _schema_steps(
    changes: ChangeSet, spec: ObjectSpec, ctx: RequestContext, item: RecordItem, before: RecordItem | None
) -> None:
    """A change of ``custom`` validated against the definitions in force (read consistently: one just
    committed applies); the items a type keeps in step with its records (a property's schema)."""
    if spec.custom_object is not None:
        old = record_data(before) if before is not None else None
        check_custom(ctx, spec.custom_object, old, record_data(item))
    for companion, condition in spec.companions(ctx, before, item) if spec.companions else ():
        changes.save(companion, condition=condition, label=SCHEMA_LABEL)


def _envelope_step(
    spec: ObjectSpec,
    ctx: RequestContext,
    item: RecordItem,
    before: RecordItem | None,
    event_type: str,
    extra_changes: FieldChanges | None,
    redact: bool = False,
) -> list[EventDetail]:
    """The change's envelope on the record (an update may be a deal's stage_changed and won), and the
    details of its events as the relay will publish them."""
    version = (item.version or 0) + 1  # what the record has once committed: pynamodb adds 1 on save
    watched = [*spec.defaults, "archived", "archived_at", "merged_into"]
    change_map: FieldChanges = {}
    if before is not None:
        before_repr, after_repr = represent(spec, before), represent(spec, item)
        change_map = diff({k: before_repr.get(k) for k in watched}, {k: after_repr.get(k) for k in watched})
    change_map.update(extra_changes or {})
    # An erasure's change names what it cleared (for the audit trail) and carries no value of it: a
    # normal change's ``changes`` holds each field's value before, which is what is being erased.
    erased_fields = sorted(change_map) if redact else None
    if redact:
        change_map = {}
    # A hidden field is never shown, so ``changes`` cannot say it changed (a rotated secret): its name
    # alone, for the audit trail.
    hidden_changes = [
        name
        for name in spec.hidden_fields
        if before is not None and record_data(before).get(name) != record_data(item).get(name)
    ]
    event_types = [event_type]
    if event_type == "updated" and before is not None and spec.update_events is not None:
        event_types = spec.update_events(record_data(before), record_data(item))
    item.change = change_envelope(
        version,
        [f"{spec.object_type}.{name}" for name in event_types],
        actor=ctx.principal.actor,
        correlation_id=ctx.correlation_id,
        occurred_at=utc_now(),
        changes=change_map,
        source_ip=ctx.source_ip,
        hidden_changes=hidden_changes,
        erased_fields=erased_fields,
    )
    return events_of(spec, item, version)


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
    """A record given to another user notifies them (not when they take it themselves); one taken from its
    owner by someone else (a manager reassigning it) notifies that owner too."""
    data = record_data(item)
    new_owner = data.get(spec.owner_field)
    old_owner = record_data(before).get(spec.owner_field) if before else None
    if item.archived_at is not None or new_owner == old_owner:
        return
    if new_owner and new_owner != ctx.principal.user_id:
        changes.save(assignment_notification(ctx.tenant_id, new_owner, spec.object_type, item.id, data))
    if old_owner and old_owner != ctx.principal.user_id:
        changes.save(
            assignment_notification(ctx.tenant_id, old_owner, spec.object_type, item.id, data, taken=True)
        )


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


def require_fits(changes: ChangeSet, *derived: DerivedWrites) -> None:
    """A change that needs more writes than one transaction holds is refused before anything is written
    (422 naming the field with the most entries to add and remove, e.g. a deal's contact_ids): a request
    makes a bounded number of writes, and the relay can write again whatever one did not live to."""
    count = len(changes) + sum(len(one) for one in derived)
    if count <= MAX_TRANSACTION_ITEMS:
        return
    by_field = Counter(name for one in derived for name in one.fields)
    field_name = by_field.most_common(1)[0][0] if by_field else "body"
    raise invalid_field(
        field_name,
        f"changes too much at once: {count} table writes, one change makes at most "
        f"{MAX_TRANSACTION_ITEMS}; add or remove fewer values in one request",
    )


# ----------------------------------------------------------------------------------------- committing


def commit(spec: ObjectSpec, ctx: RequestContext, prepared: Prepared) -> None:
    """Commit the change, then write what derives from it; a failed condition becomes a 409 naming the
    taken unique value, or ``StaleWrite``."""
    try:
        prepared.changes.commit()
    except WriteConflict as error:
        raise conflict_problem(spec, ctx, error, prepared) from error
    write_after_commit(prepared.derived)


def conflict_problem(
    spec: ObjectSpec, ctx: RequestContext, error: WriteConflict, prepared: Prepared
) -> ProblemError:
    label = error.label.rsplit(":", 1)[-1]
    if label.startswith(CUSTOM_UNIQUE_LABEL):
        field_name = label.removeprefix(CUSTOM_UNIQUE_LABEL)
        value: str | None = prepared.custom_unique.get(field_name)
    elif label == "unique":
        field_name, value = spec.unique_field or "", prepared.unique_value
    else:
        return StaleWrite(label)
    existing = (error.existing or {}).get("record_id")
    if existing is None and value:
        existing = repo.get_unique_owner(ctx.tenant_id, spec.object_type, field_name, value)
    field_name = field_name or "id"
    return conflict(
        f"A {spec.object_type} with this {field_name} already exists.",
        field_name=field_name,
        existing_id=existing,
    )


def holder_of_own_unique(spec: ObjectSpec, problem: ProblemError) -> str | None:
    """The record that holds the type's own unique value (a contact's email) a 409 answered, or None: a
    taken unique custom property's 409 names no duplicate of the record, only a value already used."""
    existing = problem.extra.get("existing_id") if problem.status == 409 else None
    named = [error.field for error in problem.errors]
    if not existing or any(name.startswith("custom.") for name in named):
        return None
    return str(existing)


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
    for attempt in write_attempts():
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


def write_attempts() -> Iterator[int]:
    """The attempt numbers of a write that may lose races: WRITE_ATTEMPTS, then more while the write is
    within WRITE_BUDGET_S of its first attempt."""
    deadline = time.monotonic() + WRITE_BUDGET_S
    attempt = 0
    while attempt < WRITE_ATTEMPTS or time.monotonic() < deadline:
        yield attempt
        attempt += 1


def back_off(attempt: int) -> None:
    """Full jitter (a random pause up to a cap that doubles each attempt): racing writers spread out."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
