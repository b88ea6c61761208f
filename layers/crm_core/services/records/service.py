"""``RecordService``: the rules every CRM record type shares, for one type (its ``ObjectSpec``): create,
read, change, archive, restore, list, search, batch, merge, duplicates and timeline, each a bounded
number of DynamoDB calls. The work is done by the modules beside this one; this is their facade."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from crm_core import plans
from crm_core.context import RequestContext
from crm_core.errors import conflict, not_found, precondition_failed, validation_failed
from crm_core.events import build_event
from crm_core.ids import new_id, utc_now
from crm_core.models.record import RecordBody, RecordFields, RelatedFacts
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.repositories.transaction import ChangeSet
from crm_core.services import access
from crm_core.services.custom_values import merged_custom
from crm_core.services.records import batch as batches
from crm_core.services.records import merge as merges
from crm_core.services.records import queries
from crm_core.services.records.expand import expand as expand_records
from crm_core.services.records.expand import parse_expand
from crm_core.services.records.items import event_item, side_entries, stored_tokens, timeline_items
from crm_core.services.records.shape import record_data, related_facts, represent, without_empty
from crm_core.services.records.spec import ObjectSpec
from crm_core.services.records.writes import Prepared, build_change, write_retrying
from crm_core.validation import field_errors

RESTORE_WINDOW = timedelta(days=30)


class RecordService:
    def __init__(self, spec: ObjectSpec) -> None:
        self.spec = spec

    # ---------------------------------------------------------------------------------------- reads

    def load(self, ctx: RequestContext, record_id: str, *, archived: bool | None = False) -> RecordItem:
        """The stored record, read consistently (it is read to be changed); 404 when it is missing,
        another tenant's, or not in the state asked for (None: either)."""
        item = repo.get_record(ctx.tenant_id, self.spec.object_type, record_id, consistent=True)
        if item is None or (archived is not None and (item.archived_at is not None) != archived):
            raise not_found(self.spec.object_type, record_id)
        return item

    def get(self, ctx: RequestContext, record_id: str, *, archived: bool = False) -> RecordBody:
        item = repo.get_record(ctx.tenant_id, self.spec.object_type, record_id)
        if item is None or (item.archived_at is not None and not archived):
            raise not_found(self.spec.object_type, record_id)
        return represent(self.spec, item)

    def list_records(
        self,
        ctx: RequestContext,
        *,
        filters: queries.ListFilters,
        q: str | None,
        archived: bool,
        limit: int,
        cursor: str | None,
        sort: str | None = None,
    ) -> queries.Page[RecordBody]:
        return queries.list_records(
            self.spec, ctx, filters=filters, q=q, archived=archived, limit=limit, cursor=cursor, sort=sort
        )

    def with_kept_apart(self, tenant_id: str, bodies: list[RecordBody]) -> list[RecordBody]:
        """``bodies`` (at most 100, from ``represent``) as the API answers them: with what a type keeps
        beside its records and shows in them (an event target's status, an API key's last use), read for
        the page at once. Most types keep nothing apart."""
        return bodies

    def expand(self, ctx: RequestContext, records: list[RecordBody], expand: str | None) -> None:
        """Related records inline on ``records`` (``expand``: "company,contacts"); 422 for a name the type
        does not expand."""
        names = parse_expand(self.spec, expand)
        expand_records(self.spec, ctx, records, names)

    def total(self, ctx: RequestContext, *, archived: bool = False) -> int:
        return queries.total(self.spec, ctx, archived=archived)

    def sortable(self) -> list[str]:
        return queries.sortable(self.spec)

    def ids_referring(
        self,
        tenant_id: str,
        field_name: str,
        record_id: str,
        *,
        limit: int,
        start_key: queries.Position | None,
        state: str = "active",
    ) -> tuple[list[str], queries.Position | None]:
        return queries.ids_referring(
            self.spec, tenant_id, field_name, record_id, limit=limit, start_key=start_key, state=state
        )

    def timeline(
        self, ctx: RequestContext, record_id: str, *, limit: int, cursor: str | None
    ) -> queries.Page[dict[str, Any]]:
        return queries.timeline(self.spec, ctx, record_id, limit=limit, cursor=cursor)

    def duplicates(
        self, ctx: RequestContext, *, limit: int, cursor: str | None
    ) -> queries.Page[dict[str, Any]]:
        return queries.duplicates(self.spec, ctx, limit=limit, cursor=cursor)

    # ---------------------------------------------------------------------------------------- rights

    def require_change(
        self, ctx: RequestContext, before: RecordFields, after: RecordFields | None = None
    ) -> None:
        """The caller may change a record from ``before`` to ``after`` (None: the same owner, as for an
        archive or a restore): settings are an admin's; records follow their owner (auth.Principal)."""
        self._require_admin_for_settings(ctx)
        owner = self.spec.owner_field
        access.require_change(ctx, before.get(owner), (after or before).get(owner))

    def _require_admin_for_settings(self, ctx: RequestContext) -> None:
        if self.spec.admin_only:
            words = self.spec.object_type.replace("_", " ")
            ctx.principal.require_admin(f"{words[:-1]}ies" if words.endswith("y") else f"{words}s")

    # ---------------------------------------------------------------------------------------- writes

    def prepare_create(
        self, ctx: RequestContext, fields: RecordFields, record_id: str | None = None
    ) -> Prepared:
        """``record_id``: the new record's id when it must be known before (an API key holds its own)."""
        fields = dict(fields)
        if fields.get("custom"):
            fields["custom"] = merged_custom({}, fields["custom"])
        # A user's new record is theirs; one the CRM makes itself (a partner's lead) waits unassigned.
        owner = self.spec.owner_field
        if owner in self.spec.defaults and not ctx.principal.is_system:
            fields.setdefault(owner, ctx.principal.user_id)
        self._require_admin_for_settings(ctx)
        access.require_create(ctx, fields.get(owner))
        if self.spec.quota is not None:
            self._require_quota_room(ctx, self.spec.quota)
        related = self.spec.resolve(ctx, fields, set(fields), {})
        if self.spec.derive is not None:
            fields = self.spec.derive(ctx, without_empty(fields), None, None)
        item = self._new_item(ctx, fields, record_id)
        return build_change(self.spec, ctx, item, None, "created", related=related, status=201)

    def _require_quota_room(self, ctx: RequestContext, quota: str) -> None:
        """One more record fits the plan's quota: the active count read once a request (a batch counts
        its own creates on), the quota at most once a minute per container (crm_core/plans.py). Creates
        racing at the limit may pass it by the few in flight."""
        key = ("quota", quota)
        if key not in ctx.lookups:
            limit = getattr(plans.tenant_quotas(ctx.tenant_id), quota)
            ctx.lookups[key] = [limit, repo.count_of(ctx.tenant_id, self.spec.object_type, "active")]
        limit, used = ctx.lookups[key]
        plans.require_room(quota, limit, used, what=quota)
        ctx.lookups[key][1] = used + 1

    def create(self, ctx: RequestContext, fields: RecordFields) -> RecordBody:
        committed = write_retrying(self.spec, ctx, lambda: self.prepare_create(ctx, fields))
        assert committed is not None  # a create always writes
        return represent(self.spec, committed.item)

    def prepare_update(
        self, ctx: RequestContext, record_id: str, fields: RecordFields, if_match: int | None
    ) -> Prepared | None:
        """None when the request changes nothing (no write, no event)."""
        before = self.load(ctx, record_id)
        if if_match is not None and if_match != before.version:
            raise precondition_failed(before.version)
        return self._prepare_change(ctx, before, fields)

    def update(
        self, ctx: RequestContext, record_id: str, fields: RecordFields, if_match: int | None = None
    ) -> RecordBody:
        return self._changed(
            lambda: self.prepare_update(ctx, record_id, fields, if_match), ctx, record_id, if_match
        )

    def move_reference(
        self, ctx: RequestContext, record_id: str, field_name: str, from_id: str, to_id: str
    ) -> bool:
        """The record refers to ``to_id`` instead of ``from_id`` in ``field_name`` (one id, or a list of
        ids), as a change of its own with its event; False when it no longer refers to ``from_id`` (read
        afresh, so a list keeps what was added to it meanwhile) and nothing was written."""

        def prepare() -> Prepared | None:
            before = self.load(ctx, record_id)
            value = merges.replaced(record_data(before).get(field_name), from_id, to_id)
            return None if value is None else self._prepare_change(ctx, before, {field_name: value})

        return write_retrying(self.spec, ctx, prepare) is not None

    def prepare_archive(self, ctx: RequestContext, record_id: str, if_match: int | None) -> Prepared:
        before = self.load(ctx, record_id)
        if if_match is not None and if_match != before.version:
            raise precondition_failed(before.version)
        self.require_change(ctx, record_data(before))
        if self.spec.before_archive is not None:
            self.spec.before_archive(ctx, before)
        item = copy.deepcopy(before)
        item.archived_at = item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return build_change(self.spec, ctx, item, before, self.spec.archive_event, related=None, status=200)

    def archive(self, ctx: RequestContext, record_id: str, if_match: int | None = None) -> RecordBody:
        return self._changed(lambda: self.prepare_archive(ctx, record_id, if_match), ctx, record_id, if_match)

    def restore(self, ctx: RequestContext, record_id: str) -> RecordBody:
        def prepare() -> Prepared:
            before = self.load(ctx, record_id, archived=True)
            self.require_change(ctx, record_data(before))
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
            return build_change(self.spec, ctx, item, before, "restored", related=None, status=200)

        return self._changed(prepare, ctx, record_id, None)

    def merge(self, ctx: RequestContext, survivor_id: str, duplicate_id: str) -> merges.MergeResult:
        return merges.merge(self, ctx, survivor_id, duplicate_id)

    def batch(
        self, ctx: RequestContext, action: str, inputs: list[Any], *, all_or_none: bool
    ) -> list[batches.BatchResult]:
        return batches.batch(self, ctx, action, inputs, all_or_none=all_or_none)

    def refresh_related(self, item: RecordItem, related: RelatedFacts) -> bool:
        """Index maintenance, not a change of the record: its type-ahead tokens made again from ``related``
        (facts of other records, such as its company's current name) and its search entries brought in
        step, in one transaction that keeps its version and writes no event (the record as the API shows
        it is the same). False when they were right already, or the record is archived (it keeps no
        search entries). Raises ``WriteConflict`` when the record changed since ``item`` was read: read it
        again and retry."""
        if item.archived_at is not None:
            return False
        tokens = stored_tokens(self.spec, record_data(item), related)
        if tokens == sorted(item.search_tokens or []) and related == related_facts(item):
            return False
        after = copy.deepcopy(item)
        after.related, after.search_tokens = related, tokens
        before_keys, after_keys = side_entries(self.spec, item).keys(), side_entries(self.spec, after).keys()
        repo.write_search_tokens(
            item,
            related=related,
            search_tokens=tokens,
            remove=sorted(before_keys - after_keys),
            add=sorted(after_keys - before_keys),
        )
        return True

    def event_only(
        self, ctx: RequestContext, item: RecordItem, event_type: str, changes: dict[str, Any] | None = None
    ) -> ChangeSet:
        """The event (an item the stream carries to the bus, in the record's timeline) and its entries in
        the timelines of linked records, of something that happened to a record without changing it, such
        as a reminder falling due (``changes``: what the event says of it, if anything)."""
        detail = build_event(
            event_type=f"{self.spec.object_type}.{event_type}",
            tenant_id=ctx.tenant_id,
            actor=ctx.principal.actor,
            correlation_id=ctx.correlation_id,
            data=represent(self.spec, item),
            changes=changes,
            sequence=item.version,
        )
        written = ChangeSet()
        written.save(event_item(self.spec, item, detail), label="event")
        own = keys.record_pk(ctx.tenant_id, self.spec.object_type, item.id)
        for entry in timeline_items(self.spec, item, [detail]):
            if own != entry.PK:
                written.save(entry)
        return written

    # ------------------------------------------------------------------------------------------ parts

    def _prepare_change(
        self, ctx: RequestContext, before: RecordItem, fields: RecordFields
    ) -> Prepared | None:
        """The change of ``fields`` of the record read as ``before``; None when it changes nothing."""
        current = record_data(before)
        if current.get("erased_at"):
            raise conflict(
                f"This {self.spec.object_type}'s personal data was erased: its tombstone cannot be changed. "
                f"Create a new {self.spec.object_type} for the person if they come back.",
                erased_at=current["erased_at"],
            )
        if "custom" in fields:
            fields = {**fields, "custom": merged_custom(current.get("custom"), fields["custom"])}
        self.require_change(ctx, current, {**current, **fields})
        merged = without_empty({**current, **fields})
        if merged == without_empty(current):
            return None
        self._require_still_whole(merged)
        changed = {k for k in merged.keys() | current.keys() if merged.get(k) != current.get(k)}
        related = self.spec.resolve(ctx, merged, changed, related_facts(before))
        if self.spec.derive is not None:
            merged = without_empty(self.spec.derive(ctx, merged, current, before.id))
        item = copy.deepcopy(before)
        item.data = merged
        item.updated_at = utc_now()
        item.updated_by = ctx.principal.user_id
        return build_change(self.spec, ctx, item, before, "updated", related=related, status=200)

    def _require_still_whole(self, merged: RecordFields) -> None:
        """A change may not leave the record as no create could make it: a field the type requires
        cleared (a deal's name), or all of a contact's identifying fields; 422 naming the field."""
        creatable = {k: v for k, v in merged.items() if k in self.spec.create_model.model_fields}
        try:
            self.spec.create_model.model_validate(creatable)
        except ValidationError as error:
            raise validation_failed(
                field_errors(error.errors()), "The change would leave the record incomplete."
            ) from None

    def _changed(
        self,
        prepare: Callable[[], Prepared | None],
        ctx: RequestContext,
        record_id: str,
        if_match: int | None,
    ) -> RecordBody:
        """Read-modify-write, answered with the record as it is after it."""
        committed = write_retrying(
            self.spec,
            ctx,
            prepare,
            current_version=lambda: self.load(ctx, record_id, archived=None).version,
            if_match=if_match,
        )
        return represent(self.spec, committed.item) if committed else self.get(ctx, record_id)

    def _new_item(self, ctx: RequestContext, data: RecordFields, record_id: str | None = None) -> RecordItem:
        record_id, now = record_id or new_id(), utc_now()
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
            data=without_empty(data),
        )
