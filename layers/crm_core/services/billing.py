"""The operator's monthly billing export (API.md section 6 "usage / billing"; docs/decisions/0034): one row
per tenant and calendar month (UTC) with its plan and what it used — API calls, DynamoDB read and write
units, events, emails and storage — written to the analytics bucket as

    billing/month=YYYY-MM/billing.csv     (a header line, then one line per tenant, by tenant id)
    billing/month=YYYY-MM/billing.jsonl   (the same rows, one JSON object a line)

The figures come from the tenants' usage files (``analytics/tenant=<id>/object=usage/``, docs/decisions/0026)
through the ``usage`` report itself (``reports/sql/usage.sql`` on the reports' engine: DuckDB locally,
Athena in AWS): its rows, one a day of the month, summed — the storage is the month's last measure. One
query per tenant that has usage files in the month; a tenant with none is a row of zeros, no query. The
plans carry no prices (crm_core.plans), so the export holds the units only; the operator's billing system
prices them.

A tenant deleted during a month is still billed for it: before its files go, the deletion keeps its rows of
the month and of the month before (``keep_deleted_tenant``: status ``deleted``) under
``billing/deleted/month=YYYY-MM/<tenant id>.json``, and the month's export adds them to the directory's
tenants.

A page of tenants (``TENANTS_PER_PAGE``, one directory Query, their queries ``QUERIES_AT_ONCE`` at a
time) is the unit of work: each page's rows are saved as ``billing/month=YYYY-MM/pages/<n>.jsonl``, and once
the directory is through the two files are written from the pages. In the control plane a run stops
taking pages after ``STEP_SECONDS`` and queues the next page (``QUEUE_NAME``, a message a step): however
many tenants, no invocation runs out of time (at about 1-2 s an Athena query, one invocation alone would
near Lambda's 15 minutes at 2,000 tenants).

Idempotent: the rows follow from the usage files alone (no time of writing in them, tenants in id order),
so running the export again for a month rewrites the same two files, with the same content once the
month's files stop changing. The daily schedule (the control plane's ``billing_export``) exports the month
so far and, on the 1st, the month just ended; ``crm tenant billing [--month YYYY-MM]`` runs the same code.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.errors import FieldError, validation_failed
from crm_core.repositories import tenant_repository
from crm_core.repositories.table import TenantItem
from crm_core.services.operator_work import send_work

PREFIX = "billing/"
DELETED_PREFIX = f"{PREFIX}deleted/"  # the rows of tenants deleted since (keep_deleted_tenant)
REPORT = "usage"  # reports/sql/usage.sql: a row a day
MEASURES = ("api_calls", "read_units", "write_units", "events", "emails", "storage_bytes")
SUMMED = MEASURES[:-1]  # storage_bytes: the month's last measure instead
COLUMNS = ("month", "tenant_id", "name", "plan", "status", *MEASURES)
TENANTS_PER_PAGE = 100  # the tenant directory is read a page (one Query) at a time
QUERIES_AT_ONCE = 4  # tenants queried in parallel (Athena runs them side by side)
STEP_SECONDS = 600.0  # a control-plane run stops taking pages after this (the function's timeout is 900 s)
QUEUE_NAME = "crm-billing-exports"  # the control plane's queue of an export's next pages (infra)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Export:
    month: str
    key: str  # the CSV's key in the analytics bucket
    json_key: str
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "bucket": settings().analytics_bucket,
            "key": self.key,
            "json_key": self.json_key,
            "tenants": len(self.rows),
        }


def parse_month(text: str | None, today: date | None = None) -> str:
    """``YYYY-MM`` (default: this month, UTC), not after this month; 422 naming ``month`` otherwise."""
    today = today or datetime.now(UTC).date()
    if text is None:
        return today.strftime("%Y-%m")
    if not _MONTH.match(text):
        raise validation_failed([FieldError("month", "must be a month, YYYY-MM")], "month: must be YYYY-MM")
    if text > today.strftime("%Y-%m"):
        raise validation_failed(
            [FieldError("month", "must not be after the current month")], "month: must not be in the future"
        )
    return text


def month_days(month: str) -> tuple[str, str]:
    """The first and last day (ISO dates) of ``YYYY-MM``."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def months_due(now: datetime) -> list[str]:
    """What the daily run exports at ``now``: the month so far, and on the 1st the month just ended (its
    last day's usage delivered by then: Firehose buffers 15 minutes; the run is at 02:00 UTC)."""
    today = now.astimezone(UTC).date()
    months = [today.strftime("%Y-%m")]
    if today.day == 1:
        months.insert(0, (today - timedelta(days=1)).strftime("%Y-%m"))
    return months


def keys(month: str) -> tuple[str, str]:
    folder = f"{PREFIX}month={month}/"
    return f"{folder}billing.csv", f"{folder}billing.jsonl"


def tenant_row(tenant: TenantItem, month: str) -> dict[str, Any]:
    """One tenant's row for the month: the usage report's days of the month over its usage files."""
    from crm_core.reports import store
    from crm_core.reports.engine import engine

    first, last = month_days(month)
    files = [f for f in store.tenant_files(tenant.id, "usage") if first <= f.date <= last]
    days = engine().run(tenant.id, REPORT, {"from": first, "to": last}, files) if files else []
    measured: dict[str, Any] = {name: sum(float(day[name] or 0) for day in days) for name in SUMMED}
    stored = [
        day["storage_bytes"] for day in sorted(days, key=lambda day: str(day["date"])) if day["storage_bytes"]
    ]
    measured["storage_bytes"] = stored[-1] if stored else 0
    return {
        "month": month,
        "tenant_id": tenant.id,
        "name": tenant.name,
        "plan": tenant.plan or "free",
        "status": tenant.status or "active",
        **{name: _number(measured.get(name)) for name in MEASURES},
    }


def _number(value: Any) -> int | float:
    if value is None:
        return 0
    number = round(float(value), 4)
    return int(number) if number.is_integer() else number


def _page_key(month: str, page: int) -> str:
    return f"{PREFIX}month={month}/pages/{page:05d}.jsonl"


def _rows_of_pages(month: str, pages: int) -> list[dict[str, Any]]:
    """Every tenant's row for the month, by tenant id: the directory's tenants (the saved pages), and those
    deleted since."""
    s3, bucket = aws.client("s3"), settings().analytics_bucket
    rows = [
        json.loads(line)
        for page in range(pages)
        for line in s3.get_object(Bucket=bucket, Key=_page_key(month, page))["Body"].read().splitlines()
    ]
    listed = {row["tenant_id"] for row in rows}
    rows += [row for row in _deleted_rows(month) if row["tenant_id"] not in listed]
    return sorted(rows, key=lambda row: str(row["tenant_id"]))


def _deleted_key(month: str, tenant_id: str) -> str:
    return f"{DELETED_PREFIX}month={month}/{tenant_id}.json"


def keep_deleted_tenant(tenant: TenantItem, now: datetime | None = None) -> list[str]:
    """Before a tenant's files are deleted (services/tenant_deletion.py): its rows of this month and the
    month before, status ``deleted``, kept where the months' exports find them once the tenant is gone — a
    tenant deleted on the 20th is billed for the 1st to the 20th, and one deleted on the 1st before the
    daily run for the whole month just ended. The keys written."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    months = [(today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"), today.strftime("%Y-%m")]
    s3, written = aws.client("s3"), []
    for month in months:
        row = {**tenant_row(tenant, month), "status": "deleted"}
        key = _deleted_key(month, str(tenant.id))
        s3.put_object(
            Bucket=settings().analytics_bucket,
            Key=key,
            Body=json.dumps(row, sort_keys=True).encode(),
            ContentType="application/json",
        )
        written.append(key)
    return written


def _deleted_rows(month: str) -> list[dict[str, Any]]:
    """The kept rows of the tenants deleted during or after ``month`` (one listing, a read each)."""
    s3, bucket = aws.client("s3"), settings().analytics_bucket
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{DELETED_PREFIX}month={month}/"
    )
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def to_json_lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows).encode()


def export(month: str) -> Export:
    """The month's export whole, in this process (``crm tenant billing``, tests)."""
    done = export_from(month)
    assert done is not None  # with no time limit, it goes through the directory
    return done


def export_from(
    month: str, page: int = 0, after: str | None = None, seconds: float | None = None
) -> Export | None:
    """The month's rows a page of tenants at a time from ``page`` (after the tenant id ``after``), each page
    saved; once the directory is through, the two files written from the pages (replacing what a previous
    run wrote): the ``Export``. With ``seconds``, a run that is not through by then queues its next page
    instead and answers None."""
    deadline = None if seconds is None else time.monotonic() + seconds
    s3, bucket = aws.client("s3"), settings().analytics_bucket
    with ThreadPoolExecutor(QUERIES_AT_ONCE) as pool:
        while True:
            tenants, after = tenant_repository.list_tenants(TENANTS_PER_PAGE, after)
            rows = list(pool.map(lambda tenant: tenant_row(tenant, month), tenants))
            s3.put_object(Bucket=bucket, Key=_page_key(month, page), Body=to_json_lines(rows))
            page += 1
            if after is None:
                break
            if deadline is not None and time.monotonic() >= deadline:
                send_work(QUEUE_NAME, {"month": month, "page": page, "after": after})
                return None
    rows = _rows_of_pages(month, page)
    csv_key, json_key = keys(month)
    s3.put_object(Bucket=bucket, Key=csv_key, Body=to_csv(rows), ContentType="text/csv")
    s3.put_object(Bucket=bucket, Key=json_key, Body=to_json_lines(rows), ContentType="application/x-ndjson")
    return Export(month, csv_key, json_key, rows)


def on_message(body: dict[str, Any]) -> Export | None:
    """A message of the billing queue: the export of its month goes on from its page."""
    after = body.get("after")
    return export_from(str(body["month"]), int(body["page"]), str(after) if after else None, STEP_SECONDS)


def run_daily(now: datetime | None = None) -> list[dict[str, Any]]:
    """The daily schedule's work: the months due at ``now`` exported; what was written (or, for a month
    whose export goes on from the queue, that it does)."""
    results = []
    for month in months_due(now or datetime.now(UTC)):
        done = export_from(month, seconds=STEP_SECONDS)
        results.append(done.as_dict() if done is not None else {"month": month, "continued": True})
    return results
