"""``python -m bench.usage``: usage metering's figures (docs/decisions/0026).

1. **The usage query over a month of lines**: ``--lines-per-day`` usage lines a day for 30 days for one
   tenant (one file per day, as the daily compaction leaves them), beside ``--others`` tenants with as many;
   the ``usage`` report (the SQL /v1/usage runs) on the local engine: its time, and the bytes of the files
   it reads against all tenants' files.
2. **The meter's cost per DynamoDB call**: the two botocore handlers (crm_core.usage) run on a call's
   parameters and its answer, inside a meter, timed over ``--calls`` calls; beside it the time of one
   GetItem to the local endpoint (moto, in this process), for scale.
3. ``--item-sizes``: each record type's stored bytes per record (the record, its search entries, markers,
   timeline and event items), measured on the local runtime by making ``--records`` of each through the API
   and summing DynamoDB's item size (attribute names and values) of the tenant's items before and after:
   the figures ``crm_core.usage.ITEM_BYTES`` holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

DAYS = 30
ROUTES = ("GET /v1/contacts", "POST /v1/contacts", "GET /v1/deals/{id}", "PATCH /v1/deals/{id}")


def _tenant_id(n: int) -> str:
    return f"01BENCHUSAGE{n:014d}"


def write_month(cache: Path, tenant_id: str, per_day: int, rng: random.Random) -> list[Any]:
    from crm_core.reports import store
    from crm_core.reports.columns import USAGE
    from crm_core.reports.parquet import to_parquet

    files = []
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    for day in range(DAYS):
        lines = []
        for n in range(per_day):
            at = start + dt.timedelta(days=day, seconds=n * 86_400 // per_day)
            kind = "api" if n % 20 else rng.choice(("event", "email"))
            lines.append(
                {
                    "at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "kind": kind,
                    "quantity": 1 if kind == "api" else rng.randrange(1, 10),
                    "route": rng.choice(ROUTES) if kind == "api" else None,
                    "status": 200 if kind == "api" else None,
                    "read_units": rng.choice((0.5, 1.0, 2.5)) if kind == "api" else 0.0,
                    "write_units": rng.choice((0.0, 0.0, 4.0)) if kind == "api" else 0.0,
                }
            )
        date = (start + dt.timedelta(days=day)).date().isoformat()
        key = store.file_key(
            tenant_id, "usage", date, str(lines[-1]["at"]), "compacted", [f"{tenant_id}{day}"]
        )
        path = cache / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_parquet(USAGE, lines))
        files.append(store.parse(key, "bench", path.stat().st_size))
    return files


def measure_query(per_day: int, others: int, repeats: int) -> dict[str, Any]:
    from crm_core.reports.engine import DuckDbEngine

    cache = Path(tempfile.mkdtemp(prefix="crm-bench-usage-"))
    try:
        rng = random.Random(24)
        every = [f for n in range(others + 1) for f in write_month(cache, _tenant_id(n), per_day, rng)]
        engine = DuckDbEngine(cache)
        params = {"from": "2026-10-01", "to": "2026-10-30"}
        times = []
        rows: list[dict[str, Any]] = []
        for _ in range(repeats):
            started = time.perf_counter()
            rows = engine.run(_tenant_id(0), "usage", params, every)
            times.append(time.perf_counter() - started)
        total = sum(f.size for f in every)
        return {
            "lines_per_day": per_day,
            "days": DAYS,
            "tenant_lines": per_day * DAYS,
            "tenants": others + 1,
            "seconds_median": round(sorted(times)[len(times) // 2], 3),
            "seconds_best": round(min(times), 3),
            "rows": len(rows),
            "api_calls_counted": sum(r["api_calls"] for r in rows),
            "bytes_read": engine.bytes_read,
            "bytes_per_line": round(engine.bytes_read / (per_day * DAYS), 2),
            "all_tenants_bytes": total,
            "fraction_of_all_bytes": round(engine.bytes_read / total, 4),
        }
    finally:
        shutil.rmtree(cache, ignore_errors=True)


class _Model:
    def __init__(self, name: str) -> None:
        self.name = name


def measure_meter(calls: int) -> dict[str, Any]:
    """The handlers' own time per call (what metering adds to each DynamoDB call's CPU time)."""
    import boto3
    from crm_core import usage
    from moto import mock_aws

    model = _Model("GetItem")
    answer = {"Item": {}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}
    with usage.metered() as meter:
        started = time.perf_counter()
        for _ in range(calls):
            params: dict[str, Any] = {"TableName": "t", "Key": {}}
            context: dict[str, Any] = {}
            usage._ask_for_capacity(params, model, context)
            usage._count_capacity(answer, model, context)
        metered_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(calls):
        usage._ask_for_capacity({}, model, {})  # outside a meter: returns at once
    idle_s = time.perf_counter() - started
    assert meter.read_units == 0.5 * calls
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item={"PK": {"S": "a"}})
        gets = min(calls, 500)
        started = time.perf_counter()
        for _ in range(gets):
            client.get_item(TableName="t", Key={"PK": {"S": "a"}})
        get_s = time.perf_counter() - started
    return {
        "calls": calls,
        "microseconds_per_call_metered": round(metered_s / calls * 1e6, 2),
        "microseconds_per_call_outside_a_meter": round(idle_s / calls * 1e6, 2),
        "microseconds_per_get_item_in_process_moto": round(get_s / gets * 1e6, 1),
    }


def measure_item_sizes(records: int) -> dict[str, Any]:
    import requests
    from crm_core.services.tenants import create_tenant
    from moto.dynamodb.models import dynamodb_backends

    from bench.capacity import item_size
    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    try:
        tenant = create_tenant("Item sizes")
        headers = {"Authorization": f"Bearer {tenant.api_key}", "Content-Type": "application/json"}
        account = instance.resources["table_stream_arn"].split(":")[4]
        table = dynamodb_backends[account]["us-east-1"].tables[instance.resources["table_name"]]

        def tenant_bytes() -> tuple[int, int]:
            found = [i.to_json()["Attributes"] for i in table.all_items()]
            mine = [a for a in found if tenant.tenant_id in json.dumps(a)]
            return sum(item_size(a) for a in mine), len(mine)

        bodies = {
            "contacts": lambda i: {
                "first_name": f"Ada{i}",
                "last_name": "Lovelace",
                "email": f"ada{i}@example.com",
                "phone": "+44 20 7946 0000",
                "tags": ["vip"],
            },
            "companies": lambda i: {"name": f"Engines {i}", "domain": f"engines{i}.example"},
            "deals": lambda i: {"name": f"Deal {i}", "amount": "1200.00"},
            "activities": lambda i: {"type": "task", "subject": f"Call {i}"},
            "tickets": lambda i: {"subject": f"Broken {i}", "description": "It does not work at all"},
        }
        time.sleep(2)
        sizes = {}
        for collection, body in bodies.items():
            before, items_before = tenant_bytes()
            for n in range(records):
                made = requests.post(
                    f"{runtime.api_url}/v1/{collection}",
                    headers=headers,
                    data=json.dumps(body(n)),
                    timeout=30,
                )
                assert made.status_code == 201, made.text
            time.sleep(3)  # the relay's and consumers' items too
            after, items_after = tenant_bytes()
            sizes[collection] = {
                "bytes_per_record": round((after - before) / records),
                "items_per_record": round((items_after - items_before) / records, 2),
            }
        return {"records_each": records, "per_collection": sizes}
    finally:
        runtime.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.usage", description=__doc__)
    parser.add_argument("--lines-per-day", type=int, default=20_000, help="the tenant's lines a day (20,000)")
    parser.add_argument("--others", type=int, default=4, help="other tenants with as many lines (4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100_000, help="calls the meter is timed over")
    parser.add_argument("--item-sizes", action="store_true", help="measure stored bytes per record too")
    parser.add_argument("--records", type=int, default=20, help="records of each type for --item-sizes")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "usage_query": measure_query(args.lines_per_day, args.others, args.repeats),
        "meter": measure_meter(args.calls),
    }
    if args.item_sizes:
        result["item_sizes"] = measure_item_sizes(args.records)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
