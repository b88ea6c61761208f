"""The operator's monthly billing export (services/billing.py, docs/decisions/0034): the control plane's
daily schedule through ``chalice.test.Client`` and ``crm tenant billing``, over the session's local runtime
with usage files in place — one row per tenant, the month's usage summed by the reports' own SQL."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from crm_core import aws, usage
from crm_core.config import settings
from crm_core.errors import ProblemError
from crm_core.reports import store
from crm_core.reports.columns import USAGE
from crm_core.reports.parquet import to_parquet
from crm_core.services import billing, tenant_lifecycle

from crm_local import operator
from crm_local.runtime import LocalRuntime
from functions.control_plane.app import app
from functions.control_plane.handler import handler
from tests.support.client import ApiClient


@pytest.fixture
def chalice_client(runtime: LocalRuntime) -> Iterator[Client]:
    with Client(app) as client:
        yield client


def _months() -> tuple[str, str]:
    """The month before last and last month: past months, where no request of the session adds usage."""
    last = date.today().replace(day=1) - timedelta(days=1)
    before = last.replace(day=1) - timedelta(days=1)
    return before.strftime("%Y-%m"), last.strftime("%Y-%m")


def _put_usage(tenant_id: str, day: str, lines: list[dict[str, Any]]) -> None:
    """A usage file of the day, as Firehose (or crm dev's writer) puts it."""
    newest = max(str(one["at"]) for one in lines)
    key = store.file_key(tenant_id, USAGE.collection, day, newest, "usage", [json.dumps(lines)])
    store.put(key, to_parquet(USAGE, lines))


def _read(key: str) -> bytes:
    return bytes(aws.client("s3").get_object(Bucket=settings().analytics_bucket, Key=key)["Body"].read())


def test_the_daily_schedule_writes_each_tenants_month_and_a_rerun_rewrites_the_same_files(
    chalice_client: Client, client: ApiClient, other: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    before, last = _months()
    last_day = billing.month_days(last)[1]
    mine, theirs = client.tenant_id, other.tenant_id
    tenant_lifecycle.set_plan(mine, "team")
    api = [
        usage.line(
            "api", mine, route="GET /v1/contacts", status=200, read_units=1.5, at=f"{last}-03T10:00:00.000Z"
        ),
        usage.line(
            "api", mine, route="POST /v1/contacts", status=201, write_units=4, at=f"{last}-03T10:00:01.000Z"
        ),
    ]
    _put_usage(mine, f"{last}-03", [*api, usage.line("event", mine, 5, at=f"{last}-03T10:00:02.000Z")])
    _put_usage(
        mine,
        last_day,
        [
            usage.line(
                "api", mine, route="GET /v1/deals", status=200, read_units=0.5, at=f"{last_day}T23:59:59.000Z"
            ),
            usage.line("email", mine, 2, at=f"{last_day}T12:00:00.000Z"),
            usage.line("storage", mine, 9_000, at=f"{last_day}T00:30:00.000Z"),
        ],
    )
    _put_usage(mine, f"{last}-02", [usage.line("storage", mine, 7_000, at=f"{last}-02T00:30:00.000Z")])
    # The month before: its own export, not last month's.
    _put_usage(mine, f"{before}-15", [usage.line("api", mine, read_units=1, at=f"{before}-15T08:00:00.000Z")])
    _put_usage(theirs, f"{last}-10", [usage.line("api", theirs, read_units=2, at=f"{last}-10T08:00:00.000Z")])

    # The 1st of last month at 02:00: the month so far (last month) and the month just ended (before).
    event = chalice_client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    event["time"] = f"{last}-01T02:00:00Z"
    answer = chalice_client.lambda_.invoke("billing_export", event).payload
    assert [m["month"] for m in answer["exported"]] == [before, last], answer
    assert answer["exported"][1]["key"] == f"billing/month={last}/billing.csv"

    csv_key, json_key = billing.keys(last)
    first_csv, first_json = _read(csv_key), _read(json_key)
    rows = {row["tenant_id"]: row for row in csv.DictReader(io.StringIO(first_csv.decode()))}
    assert first_csv.decode().splitlines()[0] == ",".join(billing.COLUMNS)
    assert {k: rows[mine][k] for k in ("plan", "status", *billing.MEASURES)} == {
        "plan": "team",
        "status": "active",
        "api_calls": "3",
        "read_units": "2",  # 1.5 + 0.5; the month before's call is not in it
        "write_units": "4",
        "events": "5",
        "emails": "2",
        "storage_bytes": "9000",  # the month's last measure
    }, rows[mine]
    assert (rows[theirs]["api_calls"], rows[theirs]["read_units"], rows[theirs]["plan"]) == (
        "1",
        "2",
        "business",
    )
    lines = [json.loads(line) for line in first_json.decode().splitlines()]
    assert [line["tenant_id"] for line in lines] == sorted(rows)  # the same rows, by tenant id
    assert next(line for line in lines if line["tenant_id"] == mine)["read_units"] == 2
    earlier = {
        r["tenant_id"]: r for r in csv.DictReader(io.StringIO(_read(billing.keys(before)[0]).decode()))
    }
    assert (earlier[mine]["api_calls"], earlier[theirs]["api_calls"]) == ("1", "0")

    # A retry (the schedule's, or the same event through the deployed handler) rewrites the same files.
    handler(event, None)
    assert (_read(csv_key), _read(json_key)) == (first_csv, first_json)

    # `crm tenant billing --month` runs the same export and prints the table and where it went.
    assert operator._billing(argparse.Namespace(month=last, json=False)) == 0
    printed = capsys.readouterr().out
    assert mine in printed and f"billing/month={last}/billing.csv" in printed and "9,000" in printed
    assert _read(csv_key) == first_csv
    assert operator._billing(argparse.Namespace(month=last, json=True)) == 0
    assert capsys.readouterr().out.encode() == first_json
    for bad in ("2026-13", "26-01", (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m")):
        with pytest.raises(ProblemError) as refused:
            billing.parse_month(bad)
        assert refused.value.status == 422 and refused.value.errors[0].field == "month"


def test_the_months_due_and_the_schedule_as_deployed() -> None:
    assert billing.months_due(datetime(2026, 3, 1, 2, tzinfo=UTC)) == ["2026-02", "2026-03"]
    assert billing.months_due(datetime(2026, 3, 17, 2, tzinfo=UTC)) == ["2026-03"]
    assert billing.month_days("2028-02") == ("2028-02-01", "2028-02-29")
    assert billing.month_days("2026-12") == ("2026-12-01", "2026-12-31")
    (source,) = [s for s in app.event_sources if s.name == "billing_export"]
    assert source.schedule_expression.to_string() == "cron(0 2 * * ? *)"  # type: ignore[attr-defined]


def test_a_tenant_deleted_during_the_month_is_still_billed_for_it(runtime: LocalRuntime) -> None:
    """Its usage files go with it; its rows of the month and the month before stay in the exports."""
    from crm_core.services import tenant_deletion
    from crm_core.services.tenants import create_tenant

    leaving = create_tenant("Leaving", plan="team").tenant_id
    today = datetime.now(UTC).date()
    this_month, last_month = today.strftime("%Y-%m"), billing.month_days(_months()[1])[0][:7]
    at = f"{this_month}-01T09:00:00.000Z"
    _put_usage(leaving, f"{this_month}-01", [usage.line("api", leaving, write_units=6, at=at)])
    before = f"{last_month}-20T09:00:00.000Z"
    _put_usage(leaving, f"{last_month}-20", [usage.line("api", leaving, read_units=3, at=before)])

    job = tenant_deletion.run(leaving)
    assert job["state"] == "completed" and not any(job["left"].values()), job  # its files are gone
    assert not list(store.tenant_files(leaving, "usage"))
    for month, measure, value in ((this_month, "write_units", 6), (last_month, "read_units", 3)):
        (row,) = [r for r in billing.export(month).rows if r["tenant_id"] == leaving]
        assert (row["status"], row["plan"], row["name"], row["api_calls"], row[measure]) == (
            "deleted",
            "team",
            "Leaving",
            1,
            value,
        ), row
    # Another run of the deletion (its message again) keeps the rows as they were: it does nothing.
    kept = billing.export(this_month).rows
    tenant_deletion.run(leaving)
    assert billing.export(this_month).rows == kept


def _queued(queue_name: str) -> list[dict[str, Any]]:
    """The queue's messages (taken off it), as the control plane's function would receive them."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    bodies = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_an_export_of_more_tenants_than_a_run_goes_on_a_page_a_message(
    chalice_client: Client, client: ApiClient, other: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many tenants, no invocation runs out of time: a run out of time queues its next page, and the
    pages' messages, each through the deployed handler, end in the same files as one run in one go."""
    from crm_core.services import tenant_deletion

    from functions.control_plane.app import BILLING_QUEUE, DELETION_QUEUE

    assert (BILLING_QUEUE, DELETION_QUEUE) == (billing.QUEUE_NAME, tenant_deletion.QUEUE_NAME)
    _, last = _months()
    _put_usage(
        other.tenant_id,
        f"{last}-12",
        [usage.line("email", other.tenant_id, 3, at=f"{last}-12T08:00:00.000Z")],
    )
    whole = billing.export(last)
    files = (_read(billing.keys(last)[0]), _read(billing.keys(last)[1]))
    tenants = len(whole.rows) - len(billing._deleted_rows(last))
    assert tenants >= 2

    monkeypatch.setattr(billing, "TENANTS_PER_PAGE", 1)
    monkeypatch.setattr(billing, "STEP_SECONDS", 0.0)  # every run is out of time after its first page
    event = chalice_client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    event["time"] = f"{last}-15T02:00:00Z"  # the month so far: last month, on a day that is not the 1st
    assert handler(event, None) == {"exported": [{"month": last, "continued": True}]}
    steps = 0
    while bodies := _queued(billing.QUEUE_NAME):
        for body in bodies:
            assert body["month"] == last and body["page"] == steps + 1, body
            handler(chalice_client.events.generate_sqs_event([json.dumps(body)], billing.QUEUE_NAME), None)
            steps += 1
    assert steps == tenants - 1  # the first page in the scheduled run, then one message a tenant
    assert (_read(billing.keys(last)[0]), _read(billing.keys(last)[1])) == files
