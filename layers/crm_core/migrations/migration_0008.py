"""Migration 0008 (docs/decisions/0008-write-path-cost.md): what the write path's cost changes left behind.

- The duplicate-key entries (PK ``T#<tenant>#<type>#dedupe#<reason>:<key>``, SK the record's id), which
  records wrote beside themselves until duplicates were found through the type-ahead entries: nothing reads
  them, nothing writes them, so they are deleted.
- Records stay as they are: the write path still keeps ``search_tokens``, ``dedupe_keys`` and ``related``
  on them (the difference it writes is from those), and the first name's token of a contact written
  before is dropped by the contact's next change, as any token it no longer has.
- Outbox ``event`` items and ``timeline_entry`` items stay: the timeline reads them. They are counted, so
  the summary says how many a later step of the decision would turn into slim timeline entries.
"""

from __future__ import annotations

from crm_core.migrations import Action, Delete, Item, Migration, item_kind, text

DUPLICATE_KEY_ENTRY = "duplicate-key entry (legacy)"


def is_duplicate_key_entry(item: Item) -> bool:
    """Exactly what ``keys.dedupe_pk`` and the record's side entries wrote (removed in 8c41c05): an
    ``entry`` item whose PK's fourth part is ``dedupe`` and whose SK is the record it names."""
    parts = text(item, "PK").split("#", 4)
    return (
        text(item, "type") == "entry"
        and len(parts) == 5
        and parts[0] == "T"
        and parts[3] == "dedupe"
        and text(item, "SK") == text(item, "record_id") != ""
    )


def kind(item: Item) -> str:
    return DUPLICATE_KEY_ENTRY if is_duplicate_key_entry(item) else item_kind(item)


def step(item: Item) -> Action:
    return Delete() if is_duplicate_key_entry(item) else None


MIGRATION = Migration(
    name="0008",
    description="delete the duplicate-key entries nothing reads since duplicates are found through "
    "type-ahead entries; records, outbox events and timeline entries are left as they are (and counted)",
    kind=kind,
    step=step,
    reads=("type", "object_type", "record_id"),
)
