"""``crm dev --data DIR``: the local table survives a restart, a crash (``kill -9``) included.

DIR holds:

- ``table.jsonl``: a snapshot of the table, one item a line (DynamoDB JSON);
- ``journal.jsonl``: what happened since the snapshot, one JSON line per entry:
  ``{"changes": [{"put": item} | {"delete": key}, ...], "outbox": [key, ...]}`` for each DynamoDB request
  that changed items (a transaction is one line, so a torn last line loses one unanswered request whole,
  never half of one; ``outbox`` names the items it changed whose stream records carry events: a record's
  change, an event item), ``{"published": [{"Keys": key, "version": n}, ...]}`` for each batch of changes
  the relay published, and ``{"pending": [stream record, ...]}``, first after a compaction, for the changes
  not published yet (a record changed twice meanwhile has both, each with its own images);
- ``.lock``: held by the ``crm dev`` that uses DIR (``instance_lock``).

A request's changes reach the journal, written and flushed to disk, before the request is answered: the
local endpoint hands them over at the place a committed change becomes a stream record of the table
(``moto_fidelity.commit_listeners``), so the journal holds every committed change and nothing of a request
that failed. The line is written under the table lock (journal order is commit order; from then on a killed
process cannot lose it), and synced to the disk after the lock is released, before the answer: one
``fdatasync`` covers every line written before it, and no other request waits for the disk meanwhile. The
relay notes each batch it published after publishing it.

At start the snapshot, then the journal, go straight into the local endpoint's table, without stream
records: what they hold was relayed in the run that wrote it, or is pending, and the pending events (those
committed and never noted as published) go to the relay first. Compaction, a new snapshot and a journal
holding only the pending events, happens at a clean stop and whenever the journal passes ``compact_bytes``.

This is a laptop tool's store, not a request path: the snapshot walks the whole table.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from crm_local.instance_lock import InstanceLock

SNAPSHOT = "table.jsonl"
JOURNAL = "journal.jsonl"
LOCK = ".lock"
COMPACT_BYTES = int(os.environ.get("CRM_DATA_COMPACT_BYTES", str(64 * 1024 * 1024)))

Image = dict[str, Any]  # an item, or a key, in DynamoDB JSON


class DamagedJournal(Exception):
    """The journal cannot be read whole: a damaged line is followed by others (not a torn last write)."""


@dataclass(frozen=True)
class Restored:
    items: list[Image]  # what the table holds now
    pending: list[dict[str, Any]]  # the changes still to publish, as stream records, in commit order


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    getattr(os, "fdatasync", os.fsync)(handle.fileno())


def _sync_folder(folder: Path) -> None:
    """A rename is durable once the folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _version_suffix(version: Any) -> str:
    return f"@{version}" if version is not None else ""


def _stream_record(key: Image, new: Image | None, old: Image | None) -> dict[str, Any]:
    """A change as the stream records it (what the relay reads)."""
    record: dict[str, Any] = {"eventName": "INSERT" if old is None else "MODIFY", "dynamodb": {"Keys": key}}
    if new is not None:
        record["dynamodb"]["NewImage"] = new
    if old is not None:
        record["dynamodb"]["OldImage"] = old
    return record


def _line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, separators=(",", ":")) + "\n").encode()


class DataDir:
    def __init__(self, path: Path, *, compact_bytes: int = COMPACT_BYTES) -> None:
        self.path = path
        self.compact_bytes = compact_bytes
        self.lock = InstanceLock(path / LOCK)
        self._journal: BinaryIO | None = None
        self._table: Any = None  # (backend, table name): moto replaces a table object on some rollbacks
        # changes not published yet, by key text and version: their stream records (None: an event item
        # noted by its key alone, by a journal older than record changes' events, read from the table)
        self._pending: dict[str, dict[str, Any] | None] = {}
        self._key_attributes: tuple[str, ...] = ()
        self._guard = threading.Lock()  # the journal file and the pending events
        # Journal positions are (generation, offset); a compaction starts a new generation, all on disk.
        self._generation = 0
        self._synced = (0, 0)  # on disk up to here (written under _syncing only)
        self._syncing = threading.Lock()  # one fdatasync at a time; a waiter may find its line synced

    # ---------------------------------------------------------------------------------------------- start

    def restore(self, backend: Any, table_name: str) -> Restored:
        """Load the snapshot and replay the journal into the (empty) table; from here on, append."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._table = (backend, table_name)
        table = backend.get_table(table_name)
        self._key_attributes = tuple(a for a in (table.hash_key_attr, table.range_key_attr) if a)
        state = self._read_snapshot()
        self._replay_journal(state)
        shard, table.stream_shard = table.stream_shard, None  # no stream records: see the module's doc
        try:
            for item in state.values():
                table.put_item(item, overwrite=True)
        finally:
            table.stream_shard = shard
        self._journal = (self.path / JOURNAL).open("ab")
        return Restored(list(state.values()), self._unpublished(state))

    def _read_snapshot(self) -> dict[str, Image]:
        """The items of the last compaction, by key text (none before the first)."""
        state: dict[str, Image] = {}
        snapshot = self.path / SNAPSHOT
        if snapshot.exists():
            with snapshot.open() as lines:
                for line in lines:
                    if line.strip():
                        item = json.loads(line)
                        state[self._key_text(item)] = item
        return state

    def _replay_journal(self, state: dict[str, Image]) -> None:
        """The journal's changes applied to ``state`` in order, and its changes still to publish noted in
        ``_pending`` with their images as they were then."""
        for entry in self._read_journal():
            outbox = entry.get("outbox", [])
            old_images = {self._key_text(key): state.get(self._key_text(key)) for key in outbox}
            for change in entry.get("changes", []):
                if "put" in change:
                    state[self._key_text(change["put"])] = change["put"]
                else:
                    state.pop(self._key_text(change["delete"]), None)
            for key in outbox:
                key_text = self._key_text(key)
                record = _stream_record(key, state.get(key_text), old_images[key_text])
                self._pending[self._pending_key(record)] = record
            for pending in entry.get("pending", []):
                if "dynamodb" in pending:
                    self._pending[self._pending_key(pending)] = pending
                else:  # a key alone: an event item, by a journal of before
                    self._pending[self._key_text(pending)] = None
            for published in entry.get("published", []):
                key, version = (
                    (published["Keys"], published.get("version"))
                    if "Keys" in published
                    else (
                        published,
                        None,
                    )
                )
                self._pending.pop(self._key_text(key) + _version_suffix(version), None)

    def _unpublished(self, state: dict[str, Image]) -> list[dict[str, Any]]:
        """The pending changes as stream records for the relay; an event item noted by its key alone that
        is gone since (expired) has nothing to publish and is forgotten."""
        pending = []
        for pending_key, record in list(self._pending.items()):
            if record is None:
                image = state.get(pending_key)
                if image is None:
                    del self._pending[pending_key]
                    continue
                record = {"eventName": "INSERT", "dynamodb": {"Keys": self._key_of(image), "NewImage": image}}
                self._pending[pending_key] = record
            pending.append(record)
        return pending

    def _key_of(self, item: Image) -> Image:
        return {name: item[name] for name in self._key_attributes}

    def _pending_key(self, record: dict[str, Any]) -> str:
        """A change's place among the pending: its item's key and, for a record, its version (a record
        changes again before its first change is published)."""
        dynamodb = record["dynamodb"]
        version = ((dynamodb.get("NewImage") or {}).get("version") or {}).get("N")
        return self._key_text(dynamodb["Keys"]) + _version_suffix(version)

    def _read_journal(self) -> Iterator[dict[str, Any]]:
        """The journal's entries; a torn last line (a write the crash cut short, never acknowledged) is cut
        off the file so that what is appended next starts on a line of its own."""
        journal = self.path / JOURNAL
        if not journal.exists():
            return
        good = 0
        with journal.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    if not line.endswith(b"\n"):
                        raise ValueError("no end of line")
                    entry = json.loads(line)
                except ValueError as error:
                    if lines.read(1):
                        raise DamagedJournal(
                            f"{journal}: line {number} is damaged ({error}) and lines follow it: the data "
                            "cannot be read whole"
                        ) from error
                    break
                good += len(line)
                yield entry
        if good < journal.stat().st_size:
            os.truncate(journal, good)

    def _key_text(self, item: Image) -> str:
        return json.dumps([item[name] for name in self._key_attributes], sort_keys=True)

    # ------------------------------------------------------------------------------------------ running

    def record(self, changes: list[Any]) -> Callable[[], None] | None:
        """``moto_fidelity.commit_listeners``: one request's committed changes, written now (under the
        table lock); what it answers syncs them to the disk (before the request's answer)."""
        from crm_core.outbox import carries_events

        backend, table_name = self._table
        mine = [c for c in changes if c.table_name == table_name]
        if not mine:
            return None
        entry: dict[str, Any] = {
            "changes": [{"put": c.new_image} if c.new_image is not None else {"delete": c.keys} for c in mine]
        }
        outbox = [record for record in (c.stream_record() for c in mine) if carries_events(record)]
        if outbox:
            entry["outbox"] = [record["dynamodb"]["Keys"] for record in outbox]
        with self._guard:
            position = self._write(entry)
            for record in outbox:
                self._pending[self._pending_key(record)] = record
            # Under the table lock (the caller's): the snapshot sees every change before this one, none after.
            if position[1] > self.compact_bytes:
                self._compact(backend.get_table(table_name))
        return lambda: self._sync_to(position)

    def published(self, records: list[dict[str, Any]]) -> None:
        """The relay published the events of these stream records: not again after a restart."""
        done = []
        for record in records:
            dynamodb = record["dynamodb"]
            version = ((dynamodb.get("NewImage") or {}).get("version") or {}).get("N")
            done.append({"Keys": dynamodb["Keys"], "version": version})
        if not done:
            return
        with self._guard:
            position = self._write({"published": done})
            for record in records:
                self._pending.pop(self._pending_key(record), None)
        self._sync_to(position)

    def _write(self, entry: dict[str, Any]) -> tuple[int, int]:
        """Append the entry (in the OS's hands: a killed process cannot lose it); where it ends."""
        if self._journal is None:
            raise RuntimeError("the data folder is closed")
        self._journal.write(_line(entry))
        self._journal.flush()
        return self._generation, self._journal.tell()

    def _sync_to(self, position: tuple[int, int]) -> None:
        """Until the journal is on the disk up to ``position`` (a power cut cannot lose it either)."""
        with self._syncing:
            with self._guard:
                if position[0] < self._generation or position <= self._synced:
                    return  # a compaction, or another request's sync, took it to the disk
                target = (self._generation, self._journal.tell() if self._journal else 0)
                fd = os.dup(self._journal.fileno()) if self._journal else None
            if fd is not None:  # a descriptor of its own: a compaction may close the journal's meanwhile
                try:
                    getattr(os, "fdatasync", os.fsync)(fd)
                finally:
                    os.close(fd)
            self._synced = target

    # ------------------------------------------------------------------------------------------ compact

    def compact(self) -> int:
        """A new snapshot of the table and a journal of the pending events only; the number of items. The
        caller keeps writes out (the table lock)."""
        backend, table_name = self._table
        with self._guard:
            return self._compact(backend.get_table(table_name))

    def _compact(self, table: Any) -> int:
        # Each file is replaced whole (written aside, synced, renamed). A crash between the two renames
        # leaves the new snapshot with the old journal, whose replay over it changes nothing: the snapshot
        # is the state the old journal leads to.
        count = 0
        snapshot = self.path / SNAPSHOT
        partial = snapshot.with_suffix(".partial")
        with partial.open("wb") as out:
            for item in table.all_items():
                out.write(_line(item.to_json()["Attributes"]))
                count += 1
            _sync(out)
        os.replace(partial, snapshot)
        journal = self.path / JOURNAL
        partial = journal.with_suffix(".partial")
        with partial.open("wb") as out:
            if self._pending:
                # every one is a stream record by now: restore() made those noted by key alone into ones
                out.write(_line({"pending": [r for r in self._pending.values() if r is not None]}))
            _sync(out)
        if self._journal is not None:
            self._journal.close()
        os.replace(partial, journal)
        _sync_folder(self.path)
        self._journal = journal.open("ab")
        self._generation += 1
        return count

    def close(self) -> None:
        with self._guard:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
        self.lock.release()
