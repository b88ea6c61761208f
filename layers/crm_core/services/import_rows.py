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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict
from crm_core.ids import derived_id
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import UniqueMarker
from crm_core.services.records import RecordService
from crm_core.services.records.batch import BATCH_CONCURRENCY
from crm_core.services.records.writes import Prepared, holder_of_own_unique, write_retrying
from crm_core.validation import set_fields, validate

CREATED, UPDATED, SKIPPED, FAILED = "created", "updated", "skipped", "failed"
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
}


class _WrittenMeanwhile(Exception):
    """The row's record was created by another try of its chunk while this one prepared it."""


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, for the import's ``error``."""


@dataclass(frozen=True)
class Row:
    number: int  # 1 for the first row after the header
    cells: dict[str, str]  # by header
    extra_cells: int = 0  # cells beyond the header's columns: the row is refused


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
    """The fields a column can fill: those a create takes from one value (not lists, nor objects)."""
    model: type[BaseModel] = service.spec.create_model
    return [name for name, info in model.model_fields.items() if _scalar(info.annotation)]


def _folded(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


def guess_mapping(service: RecordService, header: list[str]) -> dict[str, str]:
    """Each column whose name is a field's, ignoring case, spaces, underscores, hyphens and dots ("First
    Name", "E-mail"), or a common other name of it ("Email Address", "Surname"); the others are left out."""
    wanted: dict[str, str] = {}
    for field_name in importable_fields(service):
        for spelling in (_folded(field_name), *SYNONYMS.get(field_name, ())):
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
    """A problem in one line: its detail, then each field's message."""
    parts = [problem.detail] + [f"{e.field}: {e.message}" if e.field else e.message for e in problem.errors]
    return " ".join(part for part in parts if part)


def record_id_of(import_id: str, row: Row) -> str:
    return derived_id(import_id, "row", str(row.number))


def write_rows(
    service: RecordService,
    ctx: RequestContext,
    *,
    import_id: str,
    on_duplicate: str,
    mapping: dict[str, str],
    rows: list[Row],
) -> list[RowOutcome]:
    """Each row's outcome, in order. Rows with the same unique value (a contact's email) are written one
    after the other, in the file's order, so the second finds the first's record as it would find one
    that was there before the import; the others a bounded number at once, each in its own transaction
    as in a batch that is not all-or-none."""
    spec = service.spec
    fields_of = {row.number: _fields(row, mapping) for row in rows}
    unique_of = {row.number: _unique_value(service, fields_of[row.number]) for row in rows}
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
    ours = set(
        repo.batch_get_records(ctx.tenant_id, spec.object_type, [record_id_of(import_id, r) for r in rows])
    )

    def one(row: Row, existing: str | None) -> RowOutcome:
        own_id = record_id_of(import_id, row)
        if own_id in ours:
            return RowOutcome(CREATED)  # written by an earlier try of this chunk
        if row.extra_cells:
            return RowOutcome(FAILED, f"The row has {row.extra_cells} more cells than the header.")
        try:
            return _write(service, ctx, on_duplicate, fields_of[row.number], own_id, existing)
        except ProblemError as problem:
            return RowOutcome(FAILED, problem_text(problem))

    outcomes: dict[int, RowOutcome] = {}
    for wave in waves:
        owners = _unique_owners(service, ctx, [unique_of[row.number] for row in wave])
        # Each row runs in a copy of the worker's context (context variables: what logs and measures it).
        work = [(contextvars.copy_context(), row, owners.get(unique_of[row.number] or "")) for row in wave]
        with ThreadPoolExecutor(max_workers=BATCH_CONCURRENCY) as pool:
            results = list(pool.map(lambda job: job[0].run(one, job[1], job[2]), work))
        outcomes.update({row.number: result for row, result in zip(wave, results, strict=True)})
    return [outcomes[row.number] for row in rows]


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
