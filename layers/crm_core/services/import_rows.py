"""What an import does with a CSV file's rows: reading the file (UTF-8 with or without a BOM, ``,`` or
``;``, quoted fields over several lines), the column mapping (given, or guessed from the header), and
writing a chunk of rows as the API writes records, each row validated as a request's body would be.

A row's record id is derived from the import's id and the row's number, and a row whose record exists
already by that id was written by an earlier try of the same chunk: it counts as created again, so a chunk
delivered twice (a worker that died half-way) writes each record once and counts each row the same way.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import io
import re
import types
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict
from crm_core.ids import derived_id
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import UniqueMarker
from crm_core.repositories.transaction import (
    MAX_TRANSACTION_ITEMS,
    ChangeSet,
    TransactionRefused,
    WriteConflict,
)
from crm_core.services.import_references import reference_fields
from crm_core.services.import_references import resolve as resolve_references
from crm_core.services.records import RecordService
from crm_core.services.records.batch import BATCH_CONCURRENCY
from crm_core.services.records.derived import (
    DUPLICATE_LOOKUP,
    DerivedWrites,
    KnownHolders,
    holders_known,
    pairs_among,
    shared_lookups,
    write_after_commit,
)
from crm_core.services.records.writes import Prepared, back_off, holder_of_own_unique, write_retrying
from crm_core.validation import set_fields, validate

logger = Logger(child=True)

CREATED, UPDATED, SKIPPED, FAILED = "created", "updated", "skipped", "failed"
_Job = typing.TypeVar("_Job")
_Out = typing.TypeVar("_Out")
GROUP_ATTEMPTS = 5  # a shared transaction another one held is tried this often before its rows go alone
ON_DUPLICATE = ("skip", "update", "create")
# Header names that are not a field's name spelled otherwise, by the field they mean.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("emailaddress", "mail", "emailid"),
    "phone": ("phonenumber", "telephone", "tel", "mobile", "mobilephone"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "title": ("jobtitle", "position"),
    "name": ("companyname",),
    "domain": ("website", "companydomain", "webdomain"),
    "company_domain": ("companywebsite", "companydomain"),
    "contact_email": ("contact", "email", "emailaddress"),
    "stage": ("dealstage", "stagename"),
    "pipeline": ("pipelinename", "dealpipeline"),
    "amount": ("value", "dealvalue", "dealamount"),
    "close_date": ("closedate", "expectedclosedate"),
}
# Where an object's field goes by other names than another object's field of the same name.
OBJECT_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {"deal": {"name": ("dealname", "title")}}


class _WrittenMeanwhile(Exception):
    """The row's record was created by another try of its chunk while this one prepared it."""


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, for the import's ``error``."""


@dataclass(frozen=True)
class Row:
    number: int  # 1 for the first row after the header
    cells: dict[str, str]  # by header
    extra_cells: int = 0  # cells beyond the header's columns: the row is refused
    # the earlier rows of the file that share a duplicate key with this one (row numbers by key), as
    # the splitter found them (``earlier_rows``); None: not known (a chunk split before they were)
    earlier: dict[str, list[int]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RowOutcome:
    outcome: str  # created, updated, skipped, failed
    error: str | None = None  # why a failed row failed: the API's problem, in one line


# -------------------------------------------------------------------------------------------- reading


def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the file is not UTF-8 (byte {error.start} is not)") from None


def _delimiter(text: str) -> str:
    """``;`` when the header has more columns split on it than on ``,`` (a spreadsheet saved where the
    decimal separator is a comma), else ``,``."""
    first_line = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in (",", ";")}
    return ";" if counts[";"] > counts[","] else ","


def read_csv(data: bytes) -> tuple[list[str], list[Row]]:
    """The header and the rows that hold anything (blank lines are not rows)."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise UnreadableFile("the file is empty: the first line must name the columns") from None
    except csv.Error as error:
        raise UnreadableFile(f"the header cannot be read: {error}") from None
    if not any(header):
        raise UnreadableFile("the first line must name the columns")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise UnreadableFile(f"columns named more than once: {', '.join(repeated)}")
    rows: list[Row] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            number = len(rows) + 1
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            padded = cells[: len(header)] + [""] * (len(header) - len(cells))
            rows.append(Row(number, dict(zip(header, padded, strict=True)), len(extra)))
    except csv.Error as error:
        raise UnreadableFile(f"row {len(rows) + 1} cannot be read: {error}") from None
    return header, rows


def write_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    """Rows as CSV (UTF-8 with a BOM, which spreadsheets need to read it as UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


# -------------------------------------------------------------------------------------------- mapping


def _scalar(annotation: Any) -> bool:
    """Whether a field of this type is written from one cell (text, a choice, a number, a date)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _scalar(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return all(_scalar(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin is typing.Literal:
        return True
    return annotation in (str, int, float, Decimal, bool, date, datetime)


def importable_fields(service: RecordService) -> list[str]:
    """The fields a column can fill: those a create takes from one value (not lists, nor objects), and
    the columns that name another record (import_references.py: a deal's ``stage`` by name)."""
    model: type[BaseModel] = service.spec.create_model
    scalar = [name for name, info in model.model_fields.items() if _scalar(info.annotation)]
    return scalar + reference_fields(service.spec.object_type)


def _folded(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


def guess_mapping(service: RecordService, header: list[str]) -> dict[str, str]:
    """Each column whose name is a field's, ignoring case, spaces, underscores, hyphens and dots ("First
    Name", "E-mail"), or a common other name of it ("Email Address", "Surname"); the others are left out."""
    wanted: dict[str, str] = {}
    synonyms = {**SYNONYMS, **OBJECT_SYNONYMS.get(service.spec.object_type, {})}
    for field_name in importable_fields(service):
        for spelling in (_folded(field_name), *synonyms.get(field_name, ())):
            wanted.setdefault(spelling, field_name)
    mapping: dict[str, str] = {}
    for column in header:
        match = wanted.get(_folded(column))
        if match and match not in mapping.values():
            mapping[column] = match
    return mapping


def mapping_problems(service: RecordService, mapping: dict[str, str]) -> dict[str, str]:
    """What is wrong with a given mapping, by column: a field the object does not have or a column
    cannot fill, or a field two columns fill."""
    fields = importable_fields(service)
    problems: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, field_name in mapping.items():
        if field_name not in fields:
            problems[column] = f"is not a field a column can fill; one of: {', '.join(fields)}"
        elif field_name in seen:
            problems[column] = f"maps to {field_name}, as {seen[field_name]!r} does"
        seen.setdefault(field_name, column)
    return problems


# -------------------------------------------------------------------------------------------- writing


def problem_text(problem: ProblemError) -> str:
    """A problem in one line: its detail, then each field's message the detail does not already say (a
    problem about one field is often detailed with its message)."""
    fields = [f"{e.field}: {e.message}" if e.field else e.message for e in problem.errors]
    detail = problem.detail or ""
    return " ".join([detail, *(part for part in fields if part not in detail)]).strip()


def record_id_of(import_id: str, row: Row | int) -> str:
    return derived_id(import_id, "row", str(row.number if isinstance(row, Row) else row))


def duplicate_keys(service: RecordService, mapping: dict[str, str], row: Row) -> list[str]:
    """The row's duplicate keys (a contact's full name, its phone) as a create of its cells would have
    them."""
    try:
        return sorted(set(service.spec.dedupe_keys(_fields(row, mapping))))
    except (TypeError, ValueError):
        return []


def earlier_rows(service: RecordService, mapping: dict[str, str], rows: list[Row]) -> list[Row]:
    """The rows, each with the earlier rows of the file that share a duplicate key with it, at most
    ``DUPLICATE_LOOKUP`` a key, the nearest: the pairs it forms in the file, found once by the one reader
    of the whole file, whichever chunk each row goes to. The keys are those of the row's cells as a create
    would take them (a row that then fails has no record: a pair with it is never shown, as one with an
    archived record is not)."""
    holders: dict[str, list[int]] = {}
    found: list[Row] = []
    for row in rows:
        row_keys = duplicate_keys(service, mapping, row)
        earlier = {key: holders[key][-DUPLICATE_LOOKUP:] for key in row_keys if holders.get(key)}
        for key in row_keys:
            holders.setdefault(key, []).append(row.number)
        found.append(Row(row.number, row.cells, row.extra_cells, earlier))
    return found


def write_rows(
    service: RecordService,
    ctx: RequestContext,
    *,
    import_id: str,
    on_duplicate: str,
    mapping: dict[str, str],
    rows: list[Row],
    look_up_existing: bool = True,
    holders: dict[str, list[str]] | None = None,
) -> list[RowOutcome]:
    """Each row's outcome, in order. Rows with the same unique value (a contact's email) are written in
    waves, one after the other in the file's order, so the second finds the first's record as it would
    find one that was there before the import. In a wave, the new records are committed several to a
    transaction (``_commit_together``: each with its unique marker, counts and event; a row whose
    condition fails leaves the transaction and is written alone) and what derives from them is written
    in shared ``BatchWriteItem``s; a row that updates a record, or fell out of a shared transaction, is
    written alone, as an API write, a bounded number at once.

    A new record's duplicate pairs: with the earlier rows of the file that share a key (``Row.earlier``,
    when the splitter found them), and with the records that hold the key in the table, looked up once per
    key for the chunk, only when ``look_up_existing``; else ``holders`` has them, as the splitter found
    them (none when the tenant had no record of the type: the file's rows are the only holders)."""
    spec = service.spec
    in_file = all(row.earlier is not None for row in rows)
    fields_of = {row.number: _fields(row, mapping) for row in rows}
    unresolved = resolve_references(ctx, spec.object_type, fields_of)
    unique_of = {row.number: _unique_value(service, fields_of[row.number]) for row in rows}
    waves = _waves(rows, unique_of)
    ours = set(
        repo.batch_get_records(ctx.tenant_id, spec.object_type, [record_id_of(import_id, r) for r in rows])
    )

    def prepare(job: tuple[Row, str | None]) -> RowOutcome | Prepared | None:
        """The row's outcome when it needs no write of its own, its new record's change, or None: it is
        written alone (its unique value has a record)."""
        row, existing = job
        own_id = record_id_of(import_id, row)
        if own_id in ours or existing == own_id:
            return RowOutcome(CREATED)  # written by an earlier try of this chunk
        if row.extra_cells:
            return RowOutcome(FAILED, f"The row has {row.extra_cells} more cells than the header.")
        if row.number in unresolved:
            return RowOutcome(FAILED, problem_text(unresolved[row.number]))
        if existing is not None:
            return None
        try:
            fields = set_fields(validate(spec.create_model, fields_of[row.number]))
            with _holders_known(import_id, row, look_up_existing, holders or {}):
                return service.prepare_create(ctx, fields, own_id)
        except ProblemError as problem:
            return RowOutcome(FAILED, problem_text(problem))

    def alone(job: tuple[Row, str | None]) -> RowOutcome:
        row, existing = job
        own_id = record_id_of(import_id, row)
        try:
            return _write(service, ctx, on_duplicate, fields_of[row.number], own_id, existing)
        except ProblemError as problem:
            return RowOutcome(FAILED, problem_text(problem))

    outcomes: dict[int, RowOutcome] = {}
    with shared_lookups():
        for wave in waves:
            owners = _unique_owners(service, ctx, [unique_of[row.number] for row in wave])
            existing_of = {row.number: owners.get(unique_of[row.number] or "") for row in wave}
            prepared = _in_parallel(prepare, [(row, existing_of[row.number]) for row in wave])
            together: list[tuple[int, Prepared]] = []
            by_itself: list[Row] = []
            for row, result in zip(wave, prepared, strict=True):
                if isinstance(result, RowOutcome):
                    outcomes[row.number] = result
                elif isinstance(result, Prepared):
                    together.append((row.number, result))
                else:
                    by_itself.append(row)
            if not in_file:
                # The wave's new records are not there for each other's duplicate lookups: their pairs.
                among = pairs_among(spec, [change.item for _, change in together])
                for _, change in together:
                    change.derived.puts.extend(among[change.item.id])
            committed, fell_out = _commit_together(together)
            outcomes.update(dict.fromkeys(committed, RowOutcome(CREATED)))
            # A row that fell out of its transaction is written alone: as a create again (its unique
            # value taken meanwhile: skipped, updated or refused as on_duplicate says; its record written
            # by another try of the chunk: counted as created).
            by_number = {row.number: row for row in wave}
            by_itself += [by_number[number] for number in fell_out]
            done = _in_parallel(
                alone,
                [(row, None if row.number in fell_out else existing_of[row.number]) for row in by_itself],
            )
            outcomes.update({row.number: result for row, result in zip(by_itself, done, strict=True)})
    return [outcomes[row.number] for row in rows]


def _holders_known(
    import_id: str, row: Row, look_up_existing: bool, existing: dict[str, list[str]]
) -> AbstractContextManager[None]:
    """The duplicate keys' holders the row's new record knows: the records that held them when the file
    was read, its earlier rows in the file (as record ids), and whether to look the keys up in the table
    instead; nothing known when the splitter did not say (every key looked up)."""
    if row.earlier is None:
        return nullcontext()
    holders = {key: list(ids) for key, ids in existing.items()}
    for key, numbers in row.earlier.items():
        holders.setdefault(key, []).extend(record_id_of(import_id, number) for number in numbers)
    return holders_known(KnownHolders(holders, look_up=look_up_existing))


def _waves(rows: list[Row], unique_of: dict[int, str | None]) -> list[list[Row]]:
    """The rows in waves: the n-th row of a unique value in the n-th wave, in the file's order."""
    waves: list[list[Row]] = []
    seen: dict[str, int] = {}
    for row in rows:
        value = unique_of[row.number]
        position = seen.get(value, 0) if value else 0
        if value:
            seen[value] = position + 1
        while len(waves) <= position:
            waves.append([])
        waves[position].append(row)
    return waves


def _in_parallel(work: Callable[[_Job], _Out], jobs: list[_Job]) -> list[_Out]:
    """``work`` of each job, a bounded number at once, each in a copy of the worker's context (context
    variables: what logs and measures it, the shared lookups)."""
    if len(jobs) <= 1:
        return [work(job) for job in jobs]
    contexts = [contextvars.copy_context() for _ in jobs]
    with ThreadPoolExecutor(max_workers=BATCH_CONCURRENCY) as pool:
        return list(pool.map(lambda i: contexts[i].run(work, jobs[i]), range(len(jobs))))


def _commit_together(creates: list[tuple[int, Prepared]]) -> tuple[list[int], set[int]]:
    """New records committed several to a ``TransactWriteItems`` (as many as fit in its 100 items: each
    row's record with its event, its unique marker, and the counts they add to, summed), then what
    derives from them in shared ``BatchWriteItem``s (every row's side entries, then every row's own
    timeline entry, which says the rest is written: the relay's repair rule holds per row). A row whose
    condition fails (its unique value taken meanwhile, its record written by another try) is taken out
    and the rest committed again: one row never keeps the others from committing. The rows committed,
    and those that fell out (to be written alone)."""
    committed: list[int] = []
    fell_out: set[int] = set()
    for group in _groups(creates):
        attempt = 0
        while group:
            changes = ChangeSet()
            for number, prepared in group:
                for op in prepared.changes.operations:
                    op.label = f"{number}:{op.label.rsplit(':', 1)[-1]}"
                changes.extend(prepared.changes)
            try:
                changes.commit()
            except WriteConflict as error:
                failed = {int(label.split(":", 1)[0]) for label in error.labels if ":" in label}
                if not failed:  # another transaction held one of the items: the whole group again
                    attempt += 1
                    if attempt >= GROUP_ATTEMPTS:
                        fell_out.update(number for number, _ in group)
                        break
                    back_off(attempt)
                    continue
                fell_out |= failed
                group = [(number, prepared) for number, prepared in group if number not in failed]
                continue
            except TransactionRefused:
                # Refused as a whole for another reason (its 4 MB of large records, throttling): its rows
                # go alone, where each is what one API write is.
                logger.warning("a shared transaction was refused; its rows are written alone", exc_info=True)
                fell_out.update(number for number, _ in group)
                break
            committed += [number for number, _ in group]
            write_after_commit(
                DerivedWrites(
                    puts=[put for _, p in group for put in p.derived.puts],
                    deletes=[key for _, p in group for key in p.derived.deletes],
                ),
                DerivedWrites(puts=[p.derived.last for _, p in group if p.derived.last is not None]),
            )
            break
    return committed, fell_out


def _groups(creates: list[tuple[int, Prepared]]) -> list[list[tuple[int, Prepared]]]:
    """The creates in groups whose operations fit one transaction (the counts they share counted once)."""
    groups: list[list[tuple[int, Prepared]]] = []
    size, counters = 0, set[tuple[str, str]]()
    for number, prepared in creates:
        ops = len(prepared.changes.operations)
        new_counters = set(prepared.changes.counters) - counters
        if not groups or size + ops + len(counters) + len(new_counters) > MAX_TRANSACTION_ITEMS:
            groups.append([])
            size, counters = 0, set()
            new_counters = set(prepared.changes.counters)
        groups[-1].append((number, prepared))
        size += ops
        counters |= new_counters
    return groups


def _fields(row: Row, mapping: dict[str, str]) -> dict[str, Any]:
    """The row's mapped cells that hold something; an empty cell leaves its field as it is."""
    return {
        field: row.cells[column].strip()
        for column, field in mapping.items()
        if row.cells.get(column, "").strip()
    }


def _unique_value(service: RecordService, fields: dict[str, Any]) -> str | None:
    spec = service.spec
    value = fields.get(spec.unique_field) if spec.unique_field else None
    if not isinstance(value, str) or not value:
        return None
    try:
        return spec.normalize_unique(value)
    except ValueError:
        return None  # not a valid value: its validation names it


def _unique_owners(service: RecordService, ctx: RequestContext, values: list[str | None]) -> dict[str, str]:
    """The records that hold these unique values now, by value: one BatchGetItem per 100 values."""
    spec = service.spec
    wanted = sorted({value for value in values if value})
    if not wanted or not spec.unique_field:
        return {}
    pks = {keys.unique_pk(ctx.tenant_id, spec.object_type, spec.unique_field, v): v for v in wanted}
    return {
        pks[item.PK]: item.record_id
        for item in repo.get_items([(pk, keys.UNIQUE_SK) for pk in pks], consistent=True)
        if isinstance(item, UniqueMarker) and item.PK in pks
    }


def _write(
    service: RecordService,
    ctx: RequestContext,
    on_duplicate: str,
    raw: dict[str, Any],
    own_id: str,
    existing: str | None,
) -> RowOutcome:
    spec = service.spec
    if existing == own_id:
        return RowOutcome(CREATED)
    if existing is None:
        fields = set_fields(validate(spec.create_model, raw))
        tries = 0

        def prepare() -> Prepared:
            nonlocal tries
            tries += 1
            # A create that lost a race may have lost it to another try of the same chunk (a message
            # handed to two workers at once): then the record is there, by its id.
            if tries > 1 and repo.get_record(ctx.tenant_id, spec.object_type, own_id, consistent=True):
                raise _WrittenMeanwhile
            return service.prepare_create(ctx, fields, own_id)

        try:
            write_retrying(spec, ctx, prepare)
            return RowOutcome(CREATED)
        except _WrittenMeanwhile:
            return RowOutcome(CREATED)
        except ProblemError as problem:
            taken = holder_of_own_unique(spec, problem)  # not a unique custom value's holder
            if not taken:
                raise
            if taken == own_id:
                return RowOutcome(CREATED)
            existing = str(taken)  # created meanwhile, outside this import
    if on_duplicate == "skip":
        validate(spec.update_model, raw)  # a row is reported invalid whatever else befalls it
        return RowOutcome(SKIPPED)
    if on_duplicate == "create":
        validate(spec.create_model, raw)
        field_name = spec.unique_field or "id"
        raise conflict(
            f"A {spec.object_type} with this {field_name} already exists.",
            field_name=field_name,
            existing_id=existing,
        )
    fields = set_fields(validate(spec.update_model, raw))
    write_retrying(spec, ctx, lambda: service.prepare_update(ctx, existing, fields, None))
    return RowOutcome(UPDATED)
