"""What follows from a record's committed change, written right after it rather than in its transaction
(docs/decisions/0008): the side entries it gains and loses (type-ahead tokens, tags, entry fields), the
duplicate pairs it forms, its events' entries in its own timeline and in those of the records it
links to, and its audit item (docs/decisions/0010).

The request writes them once its change has committed (``BatchWriteItem``, puts and deletes with keys
derived from the record and its event ids, so writing them twice changes nothing), its own timeline entry
last: that entry says the rest is written. The relay, which sees every committed change on the table's
stream, looks for that entry and, where a request died between its commit and these writes, writes them
from the record as it is now (``repair``). Until then, search and the timeline are behind the record;
an entry left over (a repair racing a later change) points at a record that no longer matches it, and
the reads check the record they find (queries.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from crm_core.ids import utc_now
from crm_core.models.record import EventDetail
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import IndexEntry, RecordItem, TableItem
from crm_core.services.records.items import (
    audit_item,
    creation_audit_deferred,
    events_of,
    side_entries,
    timeline_items,
)
from crm_core.services.records.spec import ObjectSpec
from crm_core.stored_values import as_json_value

logger = Logger(child=True)

# A new duplicate key looks up this many others with it (one Query of its token's search entries).
DUPLICATE_LOOKUP = 6
# The records a duplicate key's token found, by search partition and token, while ``shared_lookups``
# holds (writes made together, an import's chunk: rows with one name look it up once). None: not shared.
_lookups: ContextVar[dict[str, list[str]] | None] = ContextVar("duplicate_lookups", default=None)


@dataclass(frozen=True)
class KnownHolders:
    """Who holds a new record's duplicate keys, as its writer knows without asking the table: an import's
    row knows the earlier rows of its file that share a key (``holders``, record ids by duplicate key), and
    whether any record of its type existed when the file was read (``look_up``: if none did, the rows of
    the file are the only other holders, and no key is looked up)."""

    holders: dict[str, list[str]]
    look_up: bool


_known: ContextVar[KnownHolders | None] = ContextVar("known_holders", default=None)


@contextmanager
def holders_known(known: KnownHolders) -> Iterator[None]:
    """Within it, a new duplicate key's pairs are with ``known``'s holders of it, and with those a lookup
    finds only when ``known.look_up``."""
    reset = _known.set(known)
    try:
        yield
    finally:
        _known.reset(reset)


@contextmanager
def shared_lookups() -> Iterator[None]:
    """Within it (and in the copies of its context that threads run), each token is looked up once."""
    reset = _lookups.set({})
    try:
        yield
    finally:
        _lookups.reset(reset)


@dataclass(frozen=True)
class DerivedWrites:
    """The writes that follow a change: ``puts`` and ``deletes`` in any order, then ``last``."""

    puts: list[TableItem] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    last: TableItem | None = None  # the change's own timeline entry: written once the rest is
    # the field each side entry comes from, for the 422 of a change that writes too much at once
    fields: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.puts) + len(self.deletes) + (1 if self.last is not None else 0)

    def write(self) -> None:
        repo.write_batch(self.puts, self.deletes)
        if self.last is not None:
            repo.write_batch([self.last], [])


NOTHING = DerivedWrites()


def write_after_commit(*derived: DerivedWrites) -> None:
    """What follows from changes that have committed: a failure here does not undo them, nor fail the
    request that made them (it answers what committed); the relay writes what is missing."""
    try:
        for writes in derived:
            writes.write()
    except Exception:
        logger.exception("writes after a commit left to the relay")


def derived_writes(
    spec: ObjectSpec,
    before: RecordItem | None,
    item: RecordItem,
    details: list[EventDetail],
    pairs: list[TableItem],
) -> DerivedWrites:
    """The side entries ``item`` has and ``before`` had not (and the reverse, to delete), its new duplicate
    pairs, its events' timeline entries and its audit item."""
    old_side = side_entries(spec, before) if before is not None else {}
    new_side = side_entries(spec, item)
    added = sorted(new_side.keys() - old_side.keys())
    removed = sorted(old_side.keys() - new_side.keys())
    timeline = timeline_items(spec, item, details)
    own = _own_entry(spec, item, details, timeline)
    return DerivedWrites(
        puts=[
            *(repo.entry(pk, sk, item.id) for pk, sk in added),
            *pairs,
            *(t for t in timeline if t is not own),
            *audit_items(spec, before, item),
        ],
        deletes=removed,
        last=own,
        fields=[new_side[key] for key in added] + [old_side[key] for key in removed],
    )


def audit_items(spec: ObjectSpec, before: RecordItem | None, item: RecordItem) -> list[TableItem]:
    """The audit items a change ``before`` -> ``item`` writes: its own (none for an imported record's
    creation, which the trail reads from the record while it stays as imported), and the creation's of
    an imported record it is the first change of (``creation_audit_deferred``), from the image before it
    (the same item the trail read from the record: written twice, it is one)."""
    creation = audit_item(spec, before) if before is not None and creation_audit_deferred(before) else None
    if creation is not None and (as_json_value(item.change) or {}).get("erased_fields"):
        # an erasure: the creation's values go as those of the record's other audit items (privacy.py)
        named = as_json_value(creation.changes)
        creation.changes = {name: {"before": None, "after": None, "personal": True} for name in named}
    own = None if creation_audit_deferred(item) else audit_item(spec, item)
    return [audited for audited in (creation, own) if audited is not None]


def _own_entry(
    spec: ObjectSpec, item: RecordItem, details: list[EventDetail], timeline: list[TableItem]
) -> TableItem | None:
    """The last event's entry in the record's own timeline."""
    if not details:
        return None
    own_pk = keys.record_pk(item.tenant_id, spec.object_type, item.id)
    last_sk = f"EVT#{details[-1]['id']}"
    return next((t for t in timeline if own_pk == t.PK and last_sk == t.SK), None)


def duplicate_pairs(spec: ObjectSpec, item: RecordItem, before: RecordItem | None) -> list[TableItem]:
    """A new duplicate key looks up who else has it (one bounded Query of the search entries of its
    token, which is one of the record's type-ahead tokens): the pairs it forms."""
    if item.archived_at is not None:
        return []
    old_keys: set[str] = set(before.dedupe_keys or []) if before and before.archived_at is None else set()
    # One pair per other record, however many keys they share (same name and same phone).
    reasons: dict[str, str] = {}
    shared, known = _lookups.get(), _known.get()
    for key in sorted(set(item.dedupe_keys or []) - old_keys):
        reason, token = key.split(":", 1)
        pk = keys.search_pk(item.tenant_id, spec.object_type, token)
        found = shared.get(f"{pk}|{token}") if shared is not None else None
        if known is not None and not known.look_up:
            found = []
        if found is None:
            others, _ = repo.query_page(
                pk,
                range_condition=TableItem.SK.startswith(f"{token}#"),
                limit=DUPLICATE_LOOKUP,
            )
            found = [other.record_id for other in others if isinstance(other, IndexEntry)]
            if shared is not None:
                shared[f"{pk}|{token}"] = found
        if known is not None:
            found = [*found, *known.holders.get(key, [])]
        for other_id in found:
            if other_id != item.id:
                reasons.setdefault(other_id, reason)
    found_at = utc_now()
    pairs_pk = keys.duplicates_pk(item.tenant_id, spec.object_type)
    return [
        repo.duplicate_pair(pairs_pk, item.id, other_id, reason, found_at)
        for other_id, reason in reasons.items()
    ]


# The search entries a page of a bucket read (``holders_in_table``) asks for: small items, well under 1 MB.
BUCKET_PAGE = 1000


def holders_in_table(tenant_id: str, spec: ObjectSpec, dedupe_keys: set[str]) -> dict[str, list[str]]:
    """The records that hold these duplicate keys now (at most ``DUPLICATE_LOOKUP`` a key), read from the
    whole search buckets the keys' tokens fall in (pages of ``BUCKET_PAGE`` entries) rather than a Query
    per key: for many keys against a tenant with few records of the type, far fewer calls."""
    by_bucket: dict[str, dict[str, str]] = {}
    for key in dedupe_keys:
        token = key.split(":", 1)[1]
        by_bucket.setdefault(keys.search_pk(tenant_id, spec.object_type, token), {})[token] = key
    found: dict[str, list[str]] = {}
    for pk, wanted in sorted(by_bucket.items()):
        start: dict[str, str] | None = None
        while True:
            entries, start = repo.query_page(pk, limit=BUCKET_PAGE, start_key=start)
            for entry in entries:
                held = wanted.get(entry.SK.rsplit("#", 1)[0])
                if held is not None and isinstance(entry, IndexEntry):
                    holders = found.setdefault(held, [])
                    if len(holders) < DUPLICATE_LOOKUP:
                        holders.append(entry.record_id)
            if start is None:
                break
    return found


def pairs_among(spec: ObjectSpec, items: list[RecordItem]) -> dict[str, list[TableItem]]:
    """The pairs new records written together form among themselves (none of them is there yet for the
    others' lookups to find): each with the earlier ones that share a duplicate key, at most
    ``DUPLICATE_LOOKUP`` a key, by record id."""
    earlier: dict[str, list[str]] = {}
    pairs: dict[str, list[TableItem]] = {}
    found_at = utc_now()
    for item in items:
        reasons: dict[str, str] = {}
        for key in sorted(set(item.dedupe_keys or [])):
            for other_id in earlier.get(key, [])[-DUPLICATE_LOOKUP:]:
                reasons.setdefault(other_id, key.split(":", 1)[0])
            earlier.setdefault(key, []).append(item.id)
        pairs_pk = keys.duplicates_pk(item.tenant_id, spec.object_type)
        pairs[item.id] = [
            repo.duplicate_pair(pairs_pk, item.id, other_id, reason, found_at)
            for other_id, reason in reasons.items()
        ]
    return pairs


# ---------------------------------------------------------------------------------------------- repair


def last_entry_key(spec: ObjectSpec, new: RecordItem) -> tuple[str, str] | None:
    """Where the committed change ``new`` keeps the entry its request writes last."""
    change = as_json_value(new.change) if new.change is not None else {}
    events = change.get("events") or []
    if not events:
        return None
    return keys.record_pk(new.tenant_id, spec.object_type, new.id), f"EVT#{events[-1]['id']}"


def repair(spec: ObjectSpec, old: RecordItem | None, new: RecordItem) -> int:
    """What the request of the change ``old`` -> ``new`` did not live to write, written from the record
    as it is now (a later change may have moved it on: its side entries are then the current ones), and
    its events' timeline entries and its audit item, from ``new``; the number of items written."""
    current = repo.get_record(new.tenant_id, spec.object_type, new.id, consistent=True)
    wanted = side_entries(spec, current) if current is not None else {}
    stale = (side_entries(spec, old) if old is not None else {}).keys() | side_entries(spec, new).keys()
    pairs = duplicate_pairs(spec, current, None) if current is not None else []
    details = events_of(spec, new)
    timeline = timeline_items(spec, new, details)
    own = _own_entry(spec, new, details, timeline)
    puts: list[TableItem] = [repo.entry(pk, sk, new.id) for pk, sk in sorted(wanted)]
    puts += pairs + [t for t in timeline if t is not own]
    puts += audit_items(spec, old, new)
    deletes = sorted(stale - wanted.keys())
    DerivedWrites(puts, deletes, own).write()
    return len(puts) + len(deletes) + (1 if own is not None else 0)
