"""Merging a duplicate into a survivor: the two records change in one transaction, and only once it has
committed are the records that refer to the duplicate moved.

So a merge that fails moves nothing, and of concurrent merges of one duplicate exactly one commits and
moves them (the others find it merged: 409). What the request does not move, the consumer of the
merge's event moves (services/merge_moves.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict, invalid_field
from crm_core.ids import utc_now
from crm_core.models.common import MAX_TAGS
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem, UniqueMarker
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.services.custom_values import schema_for_write, unique_values
from crm_core.services.records.derived import DerivedWrites, write_after_commit
from crm_core.services.records.shape import record_data, related_facts, represent, without_empty
from crm_core.services.records.writes import (
    CUSTOM_UNIQUE_LABEL,
    Prepared,
    back_off,
    build_change,
    require_fits,
    write_attempts,
)

if TYPE_CHECKING:
    from crm_core.services.records.service import RecordService

logger = Logger(child=True)

# A merge moves what refers to the duplicate within its request when there are at most this many of a
# kind; more of a kind are all moved in the background (services/merge_moves.py), so that one request's
# work stays bounded.
MAX_MOVED_BY_MERGE = 100


@dataclass(frozen=True)
class MergeResult:
    """A merge's outcome: the survivor as it is after, and the kinds of the duplicate's linked records left
    to the background (as the API names them: "contacts")."""

    survivor: RecordBody
    pending_moves: list[str]

    def body(self) -> RecordBody:
        """As the API answers it: the survivor, with ``pending_moves``."""
        return {**self.survivor, "pending_moves": self.pending_moves}


def merge(service: RecordService, ctx: RequestContext, survivor_id: str, duplicate_id: str) -> MergeResult:
    """The survivor keeps its values and takes the duplicate's where it has none; the duplicate is
    archived with ``merged_into``, and its unique value then leads to the survivor."""
    if survivor_id == duplicate_id:
        raise invalid_field("duplicate_id", f"cannot merge a {service.spec.object_type} into itself")
    for attempt in write_attempts():
        changes, new_survivor, derived = _prepare(service, ctx, survivor_id, duplicate_id)
        try:
            changes.commit()
        except WriteConflict:
            back_off(attempt)  # one of the two changed since it was read: read both again
            continue
        write_after_commit(*derived)
        pending = _move_referrers(service, ctx, survivor_id, duplicate_id)
        return MergeResult(represent(service.spec, new_survivor), pending)
    raise ProblemError(409, "Conflict", "The records are being changed by others; retry the merge.")


def merged_data(kept: RecordFields, taken: RecordFields) -> RecordFields:
    """The survivor's fields after the merge: its own, the duplicate's where it has none, tags and custom
    properties of both (the survivor's win)."""
    merged = dict(kept)
    for name, value in taken.items():
        if name == "tags":
            merged["tags"] = list(dict.fromkeys([*(kept.get("tags") or []), *value]))[:MAX_TAGS]
        elif name == "custom":
            merged["custom"] = {**value, **(kept.get("custom") or {})}
        elif name not in kept:
            merged[name] = value
    return without_empty(merged)


def _prepare(
    service: RecordService, ctx: RequestContext, survivor_id: str, duplicate_id: str
) -> tuple[ChangeSet, RecordItem, list[DerivedWrites]]:
    spec, tenant = service.spec, ctx.tenant_id
    survivor = service.load(ctx, survivor_id)
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
        service.require_change(ctx, record_data(record))
        if record_data(record).get("erased_at"):  # a tombstone neither takes nor gives a person's data
            raise conflict(
                f"The {spec.object_type} {record.id} was erased: an erased record is not merged.",
                field_name="duplicate_id" if record is duplicate else None,
                erased_at=record_data(record)["erased_at"],
            )
    kept, taken = record_data(survivor), record_data(duplicate)
    merged = merged_data(kept, taken)
    changed = {k for k in merged.keys() | kept.keys() if merged.get(k) != kept.get(k)}
    related = spec.resolve(ctx, merged, changed, related_facts(survivor))
    if spec.derive is not None:
        merged = without_empty(spec.derive(ctx, merged, kept, survivor_id))

    new_survivor = copy.deepcopy(survivor)
    new_survivor.data = merged
    new_survivor.updated_at = utc_now()
    new_survivor.updated_by = ctx.principal.user_id
    prepared = build_change(
        spec,
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
    dup_prepared = build_change(spec, ctx, new_duplicate, duplicate, "archived", related=None, status=200)
    changes = prepared.changes
    taken_unique = spec.unique_value(taken)
    if taken_unique:
        # The duplicate's address or domain now finds the survivor: as its own value when the survivor
        # had none (the survivor's change would claim a free marker: it is the duplicate's instead), or
        # as a secondary one.
        if spec.unique_value(merged) == taken_unique:
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
    _custom_unique_to_survivor(service, ctx, prepared, taken, survivor_id, duplicate_id)
    changes.extend(dup_prepared.changes)
    require_fits(changes, prepared.derived, dup_prepared.derived)
    return changes, new_survivor, [prepared.derived, dup_prepared.derived]


def _custom_unique_to_survivor(
    service: RecordService,
    ctx: RequestContext,
    prepared: Prepared,
    taken: RecordFields,
    survivor_id: str,
    duplicate_id: str,
) -> None:
    """The duplicate's values of unique custom properties lead to the survivor, as its email does: the
    survivor's own value where it took the duplicate's (its change would claim a marker that is the
    duplicate's: it is moved instead), a secondary one where it kept its own. One read of the object's
    definitions, shared with the survivor's change, and only when the duplicate has custom values."""
    spec = service.spec
    if spec.custom_object is None or not taken.get("custom"):
        return
    definitions = schema_for_write(ctx, spec.custom_object).definitions
    for field_name, value in unique_values(definitions, taken.get("custom")).items():
        if prepared.custom_unique.get(field_name) == value:
            label = CUSTOM_UNIQUE_LABEL + field_name
            prepared.changes.operations = [op for op in prepared.changes.operations if op.label != label]
        prepared.changes.save(
            UniqueMarker(
                keys.unique_pk(ctx.tenant_id, spec.object_type, field_name, value),
                keys.UNIQUE_SK,
                record_id=survivor_id,
            ),
            condition=UniqueMarker.record_id == duplicate_id,
            label="marker",
        )


def _move_referrers(
    service: RecordService, ctx: RequestContext, survivor_id: str, duplicate_id: str
) -> list[str]:
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
    for referrer in service.spec.referrers() if service.spec.referrers else ():
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
    for extra in service.spec.merge_moves:  # what else the duplicate holds (a ticket's replies)
        try:
            done = extra.move(ctx.tenant_id, duplicate_id, survivor_id, MAX_MOVED_BY_MERGE)
        except Exception:
            logger.exception("merge moves left to the background", extra={"kind": extra.name})
            done = False
        if not done:
            pending.append(extra.name)
    return pending


def replaced(value: Any, from_id: str, to_id: str) -> Any:
    """A reference field's value (one id, or a list of ids) with ``to_id`` for ``from_id``; None when it
    does not refer to ``from_id``."""
    if isinstance(value, list):
        if from_id not in value:
            return None
        return list(dict.fromkeys(to_id if one == from_id else one for one in value))
    return to_id if value == from_id else None
