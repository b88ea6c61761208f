"""Rows to Parquet and back, with pyarrow (imported here only: the reports extra, never the shared layer).

Timestamps are stored as UTC without a zone (``timestamp[ms]``), which Athena and DuckDB both read as a
plain TIMESTAMP; dates as ``date32``; amounts as ``decimal(19,4)`` (exact: up to 10^15 with 4 places).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crm_core.reports.columns import ObjectColumns, Row

if TYPE_CHECKING:
    import pyarrow as pa


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    simple = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "double": pa.float64(),
        "timestamp": pa.timestamp("ms"),
        "date": pa.date32(),
        "decimal(19,4)": pa.decimal128(19, 4),
        "array<string>": pa.list_(pa.string()),
    }
    return simple[kind]


def schema(object_columns: ObjectColumns) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(kind)) for name, kind in object_columns.all_columns])


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


_CONVERT = {"timestamp": _timestamp, "date": _date, "decimal(19,4)": _decimal}


def to_parquet(object_columns: ObjectColumns, rows: Sequence[Row]) -> bytes:
    """One Parquet file (zstd) holding ``rows``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {}
    for name, kind in object_columns.all_columns:
        convert = _CONVERT.get(kind)
        values = [row.get(name) for row in rows]
        columns[name] = [convert(v) for v in values] if convert else values
    table = pa.table(columns, schema=schema(object_columns))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def concatenated(object_columns: ObjectColumns, files: Iterable[bytes]) -> bytes:
    """Several files of one object as one (the compaction), each row once: a row that appears in more than
    one file (a micro-batch written again after a retry) keeps one copy."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(io.BytesIO(content), schema=schema(object_columns)) for content in files]
    table = pa.concat_tables(tables) if tables else schema(object_columns).empty_table()
    if not object_columns.versioned:  # a log: every line counts, in time order
        table = table.sort_by([("at", "ascending")]) if "at" in table.column_names else table
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()
    keys = ["id", "version", object_columns.row_key] if object_columns.row_key != "id" else ["id", "version"]
    seen: set[tuple[Any, ...]] = set()
    keep: list[int] = []
    for index, key in enumerate(zip(*(table.column(k).to_pylist() for k in keys), strict=True)):
        if key not in seen:
            seen.add(key)
            keep.append(index)
    table = table.take(keep).sort_by([(k, "ascending") for k in keys])
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
