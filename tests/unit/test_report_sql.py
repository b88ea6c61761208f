"""The report SQL, written once: every file parses in Athena's dialect (Trino) as Athena receives it, every
report has its file, and the tenant is put in by the code, never taken from a parameter."""

from __future__ import annotations

import pytest
import sqlglot
from crm_core.reports import engine
from crm_core.reports.catalog import PARAMETERS, REPORTS
from crm_core.reports.columns import OBJECTS
from crm_core.services import reports
from sqlglot import exp

TENANT = "01JHC0TENANT0000000000000A"


def test_every_sql_file_is_a_report_or_the_shared_part() -> None:
    files = {path.stem for path in engine.SQL_DIR.glob("*.sql")}
    assert files == {r.name for r in REPORTS} | {"_latest"}


@pytest.mark.parametrize("report", [r.name for r in REPORTS])
def test_each_report_parses_as_trino_and_reads_only_the_tenants_partition(report: str) -> None:
    athena = engine.AthenaEngine("crm_analytics", "crm-reports")
    statement, values = athena_statement(athena, report)
    parsed = sqlglot.parse_one(statement, read="trino")
    tables = {t.name for t in parsed.find_all(exp.Table) if t.args.get("db")}
    assert tables == set(OBJECTS), "every object through its tenant's partition"
    for table in parsed.find_all(exp.Table):
        if table.args.get("db"):  # the Glue table: read where tenant = the credential's
            where = table.find_ancestor(exp.Select).args["where"]
            assert where.sql(dialect="trino") == f"WHERE tenant = '{TENANT}'"
    # Parameters are the report's own, bound as ?: never the tenant.
    assert statement.count("?") == len(values)
    assert {v for v in values if v is not None} <= {"2030-01-01", "2030-12-31", "x"}
    # The same statement parses for DuckDB too (the local engine reads files instead of tables).
    sqlglot.parse_one(statement, read="duckdb")


def athena_statement(athena: engine.AthenaEngine, report: str) -> tuple[str, list[object]]:
    params = {"from": "2030-01-01", "to": "2030-12-31", "group_by": "x"}
    return engine.query(report, athena.sources(TENANT), params)


def test_a_tenant_id_that_is_not_an_id_is_refused() -> None:
    with pytest.raises(ValueError):
        engine.AthenaEngine("db", "wg").sources("x' OR '1'='1")
    assert engine.AthenaEngine.parameter("it's") == "'it''s'"
    assert engine.AthenaEngine.parameter(None) == "NULL"


def test_parameters_are_checked_and_named() -> None:
    pipeline = next(r for r in REPORTS if r.name == "pipeline")
    assert reports.parameters(pipeline, {"from": "2030-01-31"})["from"] == "2030-01-31"
    with pytest.raises(Exception) as refused:
        reports.parameters(pipeline, {"from": "2030-02-30", "group_by": "owner", "owner_id": "me"})
    assert sorted(e.field for e in refused.value.errors) == ["from", "group_by", "owner_id"]  # type: ignore[attr-defined]
    assert set(PARAMETERS) == {"from", "to", "owner_id", "pipeline_id", "group_by"}
