"""Migrations of a deployed table's items: an operator's tool, never on a request path.

A migration is a step applied to every item of the table, found by a parallel ``Scan`` (each segment in a
thread of its own). The step looks at one item and answers what to do with it: nothing, delete it, update
it, or call a function (work done through the services). It must answer nothing for an item it has already
migrated, so that running a migration twice changes nothing the second time, and a run stopped half-way can
be run again from the start, or resumed.

Plain boto3 against a table name (not the pynamodb models): the models describe the items as they are
written now, and a migration reads the items written before.

Writes go in bounded batches as each page of the scan is read: deletes in ``BatchWriteItem`` calls of at
most 25, updates one conditional ``UpdateItem`` each (the item still there and, when the step says so, as
it was read: a request's write in between wins). A segment's progress (the last key of the last page it
finished) is kept in a state file after each page, so ``resume`` starts each segment where it stopped.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Item = dict[str, Any]  # an item as the low-level client reads it (DynamoDB JSON)
Key = dict[str, Any]

BATCH_WRITE_LIMIT = 25  # DynamoDB's bound on one BatchWriteItem
DEFAULT_SEGMENTS = 4
DEFAULT_PAGE_SIZE = 500  # items read per Scan call: a page is the unit of progress kept for a resume
MAX_UNPROCESSED_TRIES = 8


@dataclass(frozen=True)
class Delete:
    pass


@dataclass(frozen=True)
class Update:
    """An ``UpdateItem`` of the scanned item. ``condition`` is added to the item still existing (so an
    update never recreates an item deleted since the scan)."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None


@dataclass(frozen=True)
class Call:
    """Work a step cannot express as one item's update (e.g. records made through their service, with
    their events and counters): ``run`` does it and answers whether it wrote anything (False: it had been
    done). It must be idempotent, as every step is. Not called in a dry run."""

    run: Callable[[], bool]


Action = Delete | Update | Call | None


@dataclass(frozen=True)
class Migration:
    name: str
    description: str
    kind: Callable[[Item], str]  # how the summary counts an item
    step: Callable[[Item], Action]
    # The attributes ``kind`` and ``step`` read (None: all). A Scan is charged for whole items either way;
    # fewer attributes are less to send (and, on the local endpoint, to serialize: most of its time).
    reads: tuple[str, ...] | None = None


def text(item: Item, name: str) -> str:
    """A string attribute of a scanned item ("" when it has none, or it is not a string)."""
    value = item.get(name) or {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def item_kind(item: Item) -> str:
    """An item's ``type`` (pynamodb's discriminator); a record's with its record type."""
    kind = text(item, "type") or "(no type)"
    return f"record:{text(item, 'object_type')}" if kind == "record" else kind


@dataclass
class Summary:
    """What a run did, by kind of item (or, in a dry run, would do)."""

    migration: str
    dry_run: bool
    segments: int
    tenant: str | None = None
    scanned: Counter[str] = field(default_factory=Counter)
    rewritten: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)  # changed or deleted by someone else since read
    # Per segment, the last key of the last page it finished (None: none yet, or the segment's end).
    last_keys: dict[int, Key | None] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)

    def add(self, other: Summary) -> None:
        self.scanned.update(other.scanned)
        self.rewritten.update(other.rewritten)
        self.deleted.update(other.deleted)
        self.conflicts.update(other.conflicts)

    @property
    def complete(self) -> bool:
        return len(self.finished) == self.segments

    def lines(self) -> list[str]:
        verb = ("to rewrite", "to delete") if self.dry_run else ("rewritten", "deleted")
        totals = (sum(self.scanned.values()), sum(self.rewritten.values()), sum(self.deleted.values()))
        head = (
            f"migration {self.migration}{f' of tenant {self.tenant}' if self.tenant else ''}"
            f"{' (dry run: nothing written)' if self.dry_run else ''}: "
            f"{totals[0]} item(s) scanned in {self.segments} segment(s), {totals[1]} {verb[0]}, "
            f"{totals[2]} {verb[1]}"
        )
        kinds = sorted(self.scanned)
        width = max([len("kind"), *map(len, kinds)])
        rows = [head, f"  {'kind':<{width}}  {'scanned':>9}  {verb[0]:>10}  {verb[1]:>10}"]
        for kind in kinds:
            counts = (self.scanned[kind], self.rewritten[kind], self.deleted[kind])
            rows.append(f"  {kind:<{width}}  {counts[0]:>9}  {counts[1]:>10}  {counts[2]:>10}")
        if self.conflicts:
            rows.append(
                f"  changed by a request since read, left as it was: {sum(self.conflicts.values())} "
                "(run again to migrate them)"
            )
        if not self.complete:
            rows.append("  stopped before the end; the last key each segment finished:")
            rows += [
                f"    segment {s}: {'finished' if s in self.finished else json.dumps(self.last_keys.get(s))}"
                for s in range(self.segments)
            ]
        return rows


class MigrationStopped(Exception):
    """A segment failed: the others stopped after their page. ``summary`` holds where each stopped."""

    def __init__(self, cause: BaseException, summary: Summary) -> None:
        super().__init__(
            "interrupted" if isinstance(cause, KeyboardInterrupt) else f"{type(cause).__name__}: {cause}"
        )
        self.summary = summary


class StateMismatch(Exception):
    pass


class _State:
    """The state file: which migration, how many segments, each segment's last key and whether it is done.
    Written whole after each page (a rename, so a crash leaves the old one or the new one)."""

    def __init__(self, path: Path | None, summary: Summary) -> None:
        self.path, self.summary = path, summary
        self.lock = threading.Lock()

    def load(self) -> None:
        assert self.path is not None
        saved = json.loads(self.path.read_text())
        run = self.summary
        mine = (run.migration, run.segments, run.dry_run, run.tenant)
        theirs = (saved.get("migration"), saved.get("segments"), saved.get("dry_run"), saved.get("tenant"))
        if mine != theirs:
            raise StateMismatch(
                f"{self.path} is the state of migration {theirs[0]} over {theirs[1]} segment(s)"
                f"{' (dry run)' if theirs[2] else ''}{f' of tenant {theirs[3]}' if theirs[3] else ''}: "
                "resume it with the same"
            )
        self.summary.last_keys = {int(s): key for s, key in saved["last_keys"].items()}
        self.summary.finished = set(saved["finished"])

    def save(self, segment: int, last_key: Key | None, finished: bool) -> None:
        with self.lock:
            self.summary.last_keys[segment] = last_key
            if finished:
                self.summary.finished.add(segment)
            if self.path is None:
                return
            state = {
                "migration": self.summary.migration,
                "segments": self.summary.segments,
                "dry_run": self.summary.dry_run,
                "tenant": self.summary.tenant,
                "last_keys": {str(s): key for s, key in sorted(self.summary.last_keys.items())},
                "finished": sorted(self.summary.finished),
            }
            written = self.path.with_name(self.path.name + ".tmp")
            written.write_text(json.dumps(state, indent=1))
            written.replace(self.path)


def run(
    client: Any,
    table: str,
    migration: Migration,
    *,
    dry_run: bool = False,
    segments: int = DEFAULT_SEGMENTS,
    page_size: int = DEFAULT_PAGE_SIZE,
    state_file: Path | None = None,
    resume: bool = False,
    tenant: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Apply ``migration`` to every item of ``table`` with ``segments`` parallel scans. ``progress`` is
    told how many items each page scanned (from the segments' threads). With ``resume``, each segment
    starts after the last key ``state_file`` holds for it, and a finished one is not scanned again (the
    counts are then this run's only). With ``tenant``, only that tenant's items are migrated (a canary
    before the whole table): the scan still reads every item, and the step sees the tenant's."""
    summary = Summary(migration.name, dry_run, segments, tenant)
    state = _State(state_file, summary)
    if resume:
        if state_file is None or not state_file.exists():
            raise StateMismatch(f"nothing to resume: {state_file} does not exist")
        state.load()
    stop = threading.Event()
    failures: list[BaseException] = []
    counted = [Summary(migration.name, dry_run, segments, tenant) for _ in range(segments)]

    def segment(number: int) -> None:
        if number in summary.finished:
            return
        try:
            _scan_segment(client, table, migration, number, counted[number], state, stop, page_size, progress)
        except BaseException as error:  # whatever it is, the segment's page is not done: say so
            failures.append(error)
            stop.set()  # the other segments finish their page (kept in the state) and stop

    pool = ThreadPoolExecutor(max_workers=segments, thread_name_prefix="migrate")
    running = [pool.submit(segment, number) for number in range(segments)]
    try:
        while wait(running, timeout=0.5).not_done:
            pass
    except KeyboardInterrupt as interrupt:  # Ctrl-C: stop as after a failure, so that it can be resumed
        failures.insert(0, interrupt)
        stop.set()
        wait(running)
    finally:
        pool.shutdown(wait=True)
    for done in counted:
        summary.add(done)
    if failures:
        raise MigrationStopped(failures[0], summary)
    return summary


def _scan_segment(
    client: Any,
    table: str,
    migration: Migration,
    number: int,
    done: Summary,
    state: _State,
    stop: threading.Event,
    page_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    start = state.summary.last_keys.get(number)
    while not stop.is_set():
        request: dict[str, Any] = {
            "TableName": table,
            "Segment": number,
            "TotalSegments": done.segments,
            "Limit": page_size,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        request.update(_scan_options(migration, done.tenant))
        page = client.scan(**request)
        deletes: list[tuple[str, Key]] = []
        for item in page.get("Items", []):
            kind = migration.kind(item)
            done.scanned[kind] += 1
            action = migration.step(item)
            if isinstance(action, Delete):
                deletes.append((kind, {"PK": item["PK"], "SK": item["SK"]}))
            elif isinstance(action, Update):
                if done.dry_run or _update(client, table, item, action):
                    done.rewritten[kind] += 1
                else:
                    done.conflicts[kind] += 1
            elif isinstance(action, Call) and (done.dry_run or action.run()):
                done.rewritten[kind] += 1
        if not done.dry_run:
            _delete_all(client, table, [key for _, key in deletes])
        done.deleted.update(kind for kind, _ in deletes)
        start = page.get("LastEvaluatedKey")
        state.save(number, start, finished=start is None)
        if progress is not None:
            progress(page.get("ScannedCount", len(page.get("Items", []))))
        if start is None:
            return


def _scan_options(migration: Migration, tenant: str | None) -> dict[str, Any]:
    """The projection of the attributes the migration reads, and the filter of one tenant's items."""
    names: dict[str, str] = {"#pk": "PK"}
    options: dict[str, Any] = {}
    if migration.reads is not None:
        read = {f"#a{n}": name for n, name in enumerate(dict.fromkeys(("SK", *migration.reads)))}
        names.update(read)
        options["ProjectionExpression"] = ", ".join(["#pk", *read])
    if tenant is not None:
        # Every key starts with the tenant: its own items (T#<t>: tenant, users, API keys) and the rest.
        options["FilterExpression"] = "#pk = :tenant OR begins_with(#pk, :prefix)"
        options["ExpressionAttributeValues"] = {
            ":tenant": {"S": f"T#{tenant}"},
            ":prefix": {"S": f"T#{tenant}#"},
        }
    if options:
        options["ExpressionAttributeNames"] = names
    return options


def _update(client: Any, table: str, item: Item, action: Update) -> bool:
    """The update made; False when the item was changed or deleted since it was read (the condition)."""
    condition = "attribute_exists(PK)" + (f" AND ({action.condition})" if action.condition else "")
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {"PK": item["PK"], "SK": item["SK"]},
        "UpdateExpression": action.expression,
        "ConditionExpression": condition,
    }
    if action.names:
        request["ExpressionAttributeNames"] = action.names
    if action.values:
        request["ExpressionAttributeValues"] = action.values
    try:
        client.update_item(**request)
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _delete_all(client: Any, table: str, keys: list[Key]) -> None:
    """Deletes in batches of 25; what DynamoDB leaves unprocessed (throttled) is sent again, backing off."""
    for start in range(0, len(keys), BATCH_WRITE_LIMIT):
        pending: list[dict[str, Any]] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_LIMIT]
        ]
        for attempt in range(MAX_UNPROCESSED_TRIES):
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 5.0))
        else:
            raise RuntimeError(
                f"{len(pending)} delete(s) still unprocessed after {MAX_UNPROCESSED_TRIES} tries"
            )


def migrations() -> dict[str, Migration]:
    """Every migration, by its name (the decision record it comes with)."""
    from crm_core.migrations import migration_0008, migration_0011, migration_0038

    return {m.name: m for m in (migration_0008.MIGRATION, migration_0011.MIGRATION, migration_0038.MIGRATION)}
