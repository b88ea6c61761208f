"""The report SQL, written once: every file parses in Athena's dialect (Trino) as Athena receives it, every
report has its file, and the tenant is put in by the code, never taken from a parameter."""

from __future__ import annotations

import pytest
import sqlglot
from crm_core.reports import engine
from crm_core.reports.catalog import PARAMETERS, REPORTS
from crm_core.reports.columns import ALL
from crm_core.services import reports
from sqlglot import exp

TENANT = "01JHC0TENANT0000000000000A"


def test_every_sql_file_is_a_report_or_the_shared_part() -> None:
    files = {path.stem for path in engine.SQL_DIR.glob("*.sql")}
    assert files == {r.name for r in REPORTS} | {"_latest", "_storage"}


@pytest.mark.parametrize("report", [r.name for r in REPORTS] + ["_storage"])
def test_each_report_parses_as_trino_and_reads_only_the_tenants_partition(report: str) -> None:
    athena = engine.AthenaEngine("crm_analytics", "crm-reports")
    statement, values = athena_statement(athena, report)
    parsed = sqlglot.parse_one(statement, read="trino")
    tables = {t.name for t in parsed.find_all(exp.Table) if t.args.get("db")}
    assert tables == set(engine.reads(report)), "every object it reads through its tenant's partition"
    assert tables <= set(ALL)
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


class FakeAthena:
    """What the Athena engine calls, answering as Athena does (the header row first, values as text)."""

    def __init__(self) -> None:
        self.started: dict[str, object] = {}
        self.states = ["QUEUED", "RUNNING", "SUCCEEDED"]

    def start_query_execution(self, **request: object) -> dict[str, str]:
        self.started = request
        return {"QueryExecutionId": "q1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, object]:
        return {"QueryExecution": {"Status": {"State": self.states.pop(0)}}}

    def get_paginator(self, name: str) -> FakeAthena:
        assert name == "get_query_results"
        return self

    def paginate(self, QueryExecutionId: str) -> list[dict[str, object]]:
        info = [{"Name": "stage_id", "Type": "varchar"}, {"Name": "count", "Type": "bigint"}]
        info += [{"Name": "amount", "Type": "decimal(38,4)"}, {"Name": "weighted_amount", "Type": "double"}]
        header = {"Data": [{"VarCharValue": i["Name"]} for i in info]}
        row = {"Data": [{"VarCharValue": "won"}, {"VarCharValue": "2"}, {"VarCharValue": "10.5000"}, {}]}
        return [{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": info}, "Rows": [header, row]}}]


def test_the_athena_engine_runs_in_its_workgroup_and_reads_typed_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crm_core import aws

    fake = FakeAthena()
    monkeypatch.setattr(aws, "client", lambda service: fake)
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    athena = engine.AthenaEngine("crm_analytics", "crm-reports")
    params = {"from": "2030-01-01", "to": None, "owner_id": None, "pipeline_id": None}
    rows = athena.run(TENANT, "pipeline", params, [])
    assert rows == [{"stage_id": "won", "count": 2, "amount": 10.5, "weighted_amount": None}]
    assert fake.started["WorkGroup"] == "crm-reports"
    assert fake.started["QueryExecutionContext"] == {"Database": "crm_analytics"}
    parameters = fake.started["ExecutionParameters"]
    assert isinstance(parameters, list) and "'2030-01-01'" in parameters and "NULL" in parameters
    assert f"tenant = '{TENANT}'" in str(fake.started["QueryString"])
