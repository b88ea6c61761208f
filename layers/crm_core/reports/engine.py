"""Report SQL, written once (``sql/<report>.sql``), run on DuckDB locally and on Athena in AWS.

A report's file is a query over the objects' latest versions, named as the collections (``deals``,
``contacts``, ``companies``, ``activities``, ``pipelines``: one row per stage), with ``:name`` parameters.
``query`` puts the objects in front of it as CTEs (``sql/_latest.sql`` over the tenant's rows) and turns
the parameters into ``?`` with their values in order. The tenant is never a parameter: the code names the
source from the caller's credential (the tenant's own partition files for DuckDB; ``WHERE tenant = '<id>'``
on the partitioned Glue tables for Athena, whose partition projection needs the value in the query text,
and which is checked to be an id before it is put there).
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from crm_core.reports import store
from crm_core.reports.columns import ALL

SQL_DIR = Path(__file__).parent / "sql"
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)\b")
_TENANT = re.compile(r"^[0-9A-Za-z]{1,64}$")
_COMMENT = re.compile(r"^\s*--[^\n]*\n", re.MULTILINE)

Row = dict[str, Any]


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _body(name: str) -> str:
    """The report's SQL without its leading comments."""
    text = sql_text(name)
    while True:
        stripped = _COMMENT.sub("", text, count=1) if text.lstrip().startswith("--") else text
        if stripped == text:
            return text.strip().rstrip(";")
        text = stripped


@cache
def reads(report: str) -> tuple[str, ...]:
    """The collections the report's SQL names (an object's name as a word of its text)."""
    body = _body(report)
    return tuple(c for c in ALL if re.search(rf"\b{c}\b", body))


def query(report: str, sources: dict[str, str], params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The whole statement for ``report`` with each object it reads taken from ``sources[collection]``
    (a versioned object's latest versions; a log's rows as they are), and the values of its ``?`` in
    order."""
    latest = _body("_latest")
    ctes = [
        f"{collection} AS (\n{latest.format(source=sources[collection], row_key=o.row_key)}\n)"
        if o.versioned
        else f"{collection} AS (\nSELECT * FROM {sources[collection]} AS c\n)"
        for collection, o in ALL.items()
        if collection in reads(report)
    ]
    body = _body(report)
    if re.match(r"(?i)^with\s", body):
        statement = "WITH " + ",\n".join(ctes) + ",\n" + re.sub(r"(?i)^with\s+", "", body)
    else:
        statement = "WITH " + ",\n".join(ctes) + "\n" + body
    values: list[Any] = []

    def bind(match: re.Match[str]) -> str:
        values.append(params.get(match.group(1)))
        return "?"

    return _PARAMETER.sub(bind, statement), values


def plain(value: Any) -> Any:
    """A value as JSON answers it: decimals as numbers, dates and times as text."""
    if isinstance(value, Decimal):
        return float(round(value, 4))
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


class Engine(Protocol):
    def run(
        self, tenant_id: str, report: str, params: dict[str, Any], files: list[store.StoredFile]
    ) -> list[Row]:
        """The report's rows for the tenant; ``files`` are the tenant's analytics files as listed."""


# --------------------------------------------------------------------------------------------- DuckDB


@dataclass
class DuckDbEngine:
    """DuckDB in the process over local copies of the tenant's files (DuckDB's httpfs extension cannot be
    installed here: NOTES.md). A file is copied once (its key names its content) into ``cache_dir``."""

    cache_dir: Path
    bytes_read: int = 0  # what the last run read: the tenant's files, for the bench

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def _local(self, stored: store.StoredFile) -> Path:
        path = self.cache_dir / stored.key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{threading.get_ident()}.part")
            partial.write_bytes(store.get(stored.key))
            partial.replace(path)
        return path

    def _empty(self, collection: str) -> Path:
        """A file with the object's columns and no rows, read with the tenant's: the columns are there
        even when the tenant has no file (or an older file lacks a newer column)."""
        from crm_core.reports.parquet import to_parquet

        path = self.cache_dir / "_schema" / f"{collection}.parquet"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(to_parquet(ALL[collection], []))
        return path

    def sources(
        self, files: list[store.StoredFile], collections: tuple[str, ...] = tuple(ALL)
    ) -> dict[str, str]:
        sources = {}
        for collection in collections:
            paths = [self._empty(collection)] + [self._local(f) for f in files if f.object == collection]
            listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
            sources[collection] = f"read_parquet([{listed}], union_by_name = true)"
        return sources

    def run(
        self, tenant_id: str, report: str, params: dict[str, Any], files: list[store.StoredFile]
    ) -> list[Row]:
        import duckdb

        # only the tenant's own partition files, of the objects the report reads
        mine = [f for f in files if f.tenant_id == tenant_id and f.object in reads(report)]
        with self._lock:
            statement, values = query(report, self.sources(mine, reads(report)), params)
        connection = duckdb.connect(config={"threads": 2})
        try:
            cursor = connection.execute(statement, values)
            names = [column[0] for column in cursor.description or []]
            rows = [{n: plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]
        finally:
            connection.close()
        self.bytes_read = sum(f.size for f in mine)
        return rows


# --------------------------------------------------------------------------------------------- Athena

ATHENA_TYPES = {
    "bigint": int,
    "integer": int,
    "smallint": int,
    "tinyint": int,
    "double": float,
    "real": float,
}


@dataclass
class AthenaEngine:
    """Athena over the Glue tables (one per object, partitioned by tenant, object and date with partition
    projection), in the workgroup whose per-query scan cutoff and encrypted results CDK sets."""

    database: str
    workgroup: str
    timeout_s: float = 25.0

    def sources(self, tenant_id: str) -> dict[str, str]:
        if not _TENANT.match(tenant_id):
            raise ValueError("not a tenant id")  # it comes from the credential: never a caller's text
        return {
            collection: f'(SELECT * FROM "{self.database}"."{collection}" WHERE tenant = \'{tenant_id}\')'
            for collection in ALL
        }

    @staticmethod
    def parameter(value: Any) -> str:
        """An execution parameter as Athena substitutes it: a literal (validated values only)."""
        if value is None:
            return "NULL"
        return "'" + str(value).replace("'", "''") + "'"

    def run(
        self, tenant_id: str, report: str, params: dict[str, Any], files: list[store.StoredFile]
    ) -> list[Row]:
        from crm_core import aws

        athena = aws.client("athena")
        statement, values = query(report, self.sources(tenant_id), params)
        request: dict[str, Any] = {
            "QueryString": statement,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database},
        }
        if values:
            request["ExecutionParameters"] = [self.parameter(v) for v in values]
        execution = athena.start_query_execution(**request)["QueryExecutionId"]
        self._wait(athena, execution)
        return self._rows(athena, execution)

    def _wait(self, athena: Any, execution: str) -> None:
        deadline = time.monotonic() + self.timeout_s
        pause = 0.1
        while True:
            status = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                return
            if status["State"] in ("FAILED", "CANCELLED"):
                raise RuntimeError(f"report query {status['State']}: {status.get('StateChangeReason', '')}")
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=execution)
                raise TimeoutError("report query took too long")
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    @staticmethod
    def _rows(athena: Any, execution: str) -> list[Row]:
        rows: list[Row] = []
        names: list[str] = []
        kinds: list[str] = []
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution):
            result = page["ResultSet"]
            if not names:
                info = result["ResultSetMetadata"]["ColumnInfo"]
                names, kinds = [c["Name"] for c in info], [c["Type"] for c in info]
                data = result["Rows"][1:]  # the first row of the first page repeats the names
            else:
                data = result["Rows"]
            for row in data:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append({n: _typed(k, v) for n, k, v in zip(names, kinds, values, strict=True)})
        return rows


def _typed(kind: str, value: str | None) -> Any:
    if value is None:
        return None
    if kind in ATHENA_TYPES:
        return ATHENA_TYPES[kind](value)
    if kind.startswith("decimal"):
        return round(float(value), 4)
    if kind == "boolean":
        return value == "true"
    return value


@cache
def engine() -> Engine:
    from crm_core.config import settings

    if settings().report_engine == "duckdb":
        import atexit
        import shutil

        cache = Path(tempfile.mkdtemp(prefix="crm-analytics-"))
        atexit.register(shutil.rmtree, cache, True)  # the copies go with the process that made them
        return DuckDbEngine(cache)
    return AthenaEngine(settings().glue_database, settings().athena_workgroup)
