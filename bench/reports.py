"""``python -m bench.reports``: the pipeline and forecast reports over 1,000,000 deals (issue 16).

Two measurements, side by side:

1. **The local engine** (crm_core.reports.engine.DuckDbEngine): Parquet written directly in the exporter's
   layout for ``--deals`` deals spread over ``--tenants`` tenants (the first holds half of them; a third of
   the deals have a second version, as a changed deal has in the change log; one file per tenant, object
   and day over 30 days, as compaction leaves them). Each report is run per tenant as the API runs it
   (the tenant's own files only, latest version per deal); the time, and the bytes of the files it reads as
   a fraction of all tenants' files.
2. **DynamoDB directly**, on the local runtime (moto): ``--dynamodb-deals`` deals made through the API in one
   tenant, then the same pipeline report computed by reading every deal with the tenant's own keys (the
   Query + BatchGetItem pages a tenant export makes) and summing per stage in Python. Its time and calls,
   extrapolated linearly to the local engine's largest tenant (reading every deal grows with the deals; a
   Query page holds 500 keys, a BatchGetItem 100 items).

Not part of ``make bench`` (it writes ~100 MB of Parquet to a temporary folder and takes minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.import_pipeline import _ORIGINAL, _counting

DAYS = 30
STAGES = (
    ("s1", "Qualified", 0.2, "open"),
    ("s2", "Proposal", 0.5, "open"),
    ("s3", "Negotiation", 0.8, "open"),
    ("won", "Won", 1.0, "won"),
    ("lost", "Lost", 0.0, "lost"),
)


def _tenant_id(n: int) -> str:
    return f"01BENCHTENANT{n:013d}"


def _shares(tenants: int) -> list[float]:
    """The first tenant holds half the deals, the others share the rest."""
    return [0.5] + [0.5 / (tenants - 1)] * (tenants - 1) if tenants > 1 else [1.0]


def _deal_days(tenant_id: str, count: int, rng: random.Random) -> dict[int, dict[str, list[Any]]]:
    """The change log of ``count`` deals, by day: each deal's first version, and for a third a second."""
    start = dt.datetime(2026, 10, 1)
    days: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for n in range(count):
        created = rng.randrange(DAYS)
        versions = [(1, created)] + ([(2, rng.randrange(created, DAYS))] if n % 3 == 0 else [])
        for version, day in versions:
            stage = STAGES[rng.randrange(len(STAGES))]
            at = start + dt.timedelta(days=day, seconds=rng.randrange(86_400))
            row = days[day]
            row["id"].append(f"{tenant_id[:14]}D{n:011d}")
            row["version"].append(version)
            row["changed_at"].append(at)
            row["archived"].append(n % 50 == 0)
            row["created_at"].append(start + dt.timedelta(days=created))
            row["pipeline_id"].append("P1")
            row["stage_id"].append(stage[0])
            row["status"].append(stage[3])
            row["amount"].append(rng.randrange(100, 100_000))
            row["currency"].append("EUR")
            row["close_date"].append(dt.date(2026, 11, 1) + dt.timedelta(days=rng.randrange(365)))
            row["closed_at"].append(at if stage[3] != "open" else None)
            row["owner_id"].append(f"U{n % 20}")
            row["company_id"].append(f"C{n % 5000}")
            row["tags"].append([])
            row["custom"].append(None)
    return days


def write_tenant(cache: Path, tenant_id: str, deals: int, rng: random.Random) -> list[Any]:
    """The tenant's files, where the engine keeps its copies (so it reads them from disk, as after its
    first request); their StoredFile entries."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from crm_core.reports import store
    from crm_core.reports.columns import OBJECTS, rows
    from crm_core.reports.parquet import schema, to_parquet

    files = []
    deal_schema = schema(OBJECTS["deals"])
    for day, columns in sorted(_deal_days(tenant_id, deals, rng).items()):
        arrays = []
        for field in deal_schema:
            values = columns[field.name]
            if field.name == "amount":
                arrays.append(pa.array([Decimal(v) for v in values], field.type))
            else:
                arrays.append(pa.array(values, field.type))
        table = pa.Table.from_arrays(arrays, schema=deal_schema)
        date = (dt.date(2026, 10, 1) + dt.timedelta(days=day)).isoformat()
        newest = max(columns["changed_at"]).isoformat(timespec="milliseconds") + "Z"
        key = store.file_key(tenant_id, "deals", date, newest, "compacted", [f"{tenant_id}{day}"])
        path = cache / key
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        files.append(store.parse(key, "bench", path.stat().st_size))
    pipeline = {
        "id": "P1",
        "version": 1,
        "archived": False,
        "created_at": "2026-10-01T00:00:00.000Z",
        "name": "Sales",
        "currency": "EUR",
        "stages": [{"id": s[0], "name": s[1], "probability": s[2], "kind": s[3]} for s in STAGES],
    }
    changed = "2026-10-01T00:00:00.000Z"
    key = store.file_key(tenant_id, "pipelines", "2026-10-01", changed, "compacted", [tenant_id])
    path = cache / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_parquet(OBJECTS["pipelines"], rows(OBJECTS["pipelines"], pipeline, changed)))
    files.append(store.parse(key, "bench", path.stat().st_size))
    return files


def measure_engine(deals: int, tenants: int, repeats: int) -> dict[str, Any]:
    from crm_core.reports.engine import DuckDbEngine

    cache = Path(tempfile.mkdtemp(prefix="crm-bench-reports-"))
    try:
        rng = random.Random(16)
        started = time.perf_counter()
        files = {
            _tenant_id(n): write_tenant(cache, _tenant_id(n), round(deals * share), rng)
            for n, share in enumerate(_shares(tenants))
        }
        generated_s = time.perf_counter() - started
        every = [f for listed in files.values() for f in listed]
        total_bytes = sum(f.size for f in every)
        engine = DuckDbEngine(cache)
        results: dict[str, Any] = {}
        for tenant_id, share in zip(files, _shares(tenants), strict=True):
            per_report = {}
            for report in ("pipeline", "forecast"):
                params = {"from": None, "to": None, "owner_id": None, "pipeline_id": None}
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    rows = engine.run(tenant_id, report, params, every)  # every file listed: it keeps its own
                    times.append(time.perf_counter() - started)
                per_report[report] = {
                    "seconds_best": round(min(times), 3),
                    "seconds_median": round(sorted(times)[len(times) // 2], 3),
                    "rows": len(rows),
                    "bytes_read": engine.bytes_read,
                    "fraction_of_all_bytes": round(engine.bytes_read / total_bytes, 4),
                }
            results[tenant_id] = {"deals": round(deals * share), **per_report}
        return {
            "deals": deals,
            "tenants": tenants,
            "files": len(every),
            "parquet_bytes": total_bytes,
            "generated_seconds": round(generated_s, 1),
            "per_tenant": results,
        }
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def measure_dynamodb(deals: int) -> dict[str, Any]:
    """The pipeline report computed from DynamoDB directly (every deal read with the tenant's keys)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from botocore.client import BaseClient
    from crm_core.services.exports import _as_answered as as_answered
    from crm_core.services.exports import _pages as record_pages
    from crm_core.services.records import represent  # noqa: F401  (the models, imported before timing)
    from crm_core.services.tenants import create_tenant

    from crm_local.runtime import LocalRuntime
    from crm_local.seed import call_api

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    runtime.relay.stop()  # on no report's path: the exporter is not measured here
    calls: Counter[str] = Counter()
    try:
        tenant = create_tenant("Bench")
        stages = call_api(instance.api, tenant.api_key, "GET", "/v1/pipelines")["items"][0]["stages"]
        for start in range(0, deals, 100):
            inputs = [
                {"name": f"D{n}", "amount": str(100 + n % 1000), "stage_id": stages[n % len(stages)]["id"]}
                for n in range(start, min(deals, start + 100))
            ]
            call_api(instance.api, tenant.api_key, "POST", "/v1/deals/batch/create", {"inputs": inputs})
        from crm_core.record_types import RECORD_TYPES

        service = next(t for t in RECORD_TYPES if t.name == "deal").record_service()
        for page in record_pages(tenant.tenant_id, "deal"):  # once untimed: connections, first imports
            as_answered(service, tenant.tenant_id, page)
        setattr(BaseClient, "_make_api_call", _counting(calls, threading.Lock()))  # noqa: B010
        started = time.perf_counter()
        per_stage: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        read = 0
        for page in record_pages(tenant.tenant_id, "deal"):
            for deal in as_answered(service, tenant.tenant_id, page):
                if not deal["archived"]:
                    per_stage[deal["stage_id"]][0] += 1
                    per_stage[deal["stage_id"]][1] += float(deal["amount"] or 0)
                read += 1
        seconds = time.perf_counter() - started
    finally:
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
        runtime.stop()
    made = {name: n for name, n in calls.items() if n}
    return {"deals": read, "seconds": round(seconds, 3), "calls": made, "stages": len(per_stage)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument(
        "--deals", type=int, default=1_000_000, help="deals over all tenants (default 1,000,000)"
    )
    parser.add_argument("--tenants", type=int, default=5, help="tenants (default 5; the first has half)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each report per tenant (default 3)")
    parser.add_argument(
        "--dynamodb-deals", type=int, default=2000, help="deals read from DynamoDB (default 2000)"
    )
    args = parser.parse_args(argv)
    engine = measure_engine(args.deals, args.tenants, args.repeats)
    direct = measure_dynamodb(args.dynamodb_deals)
    largest = max(engine["per_tenant"].values(), key=lambda t: t["deals"])
    scale = largest["deals"] / max(direct["deals"], 1)
    print(
        json.dumps(
            {
                "local_engine": engine,
                "dynamodb_direct": direct,
                "side_by_side_largest_tenant": {
                    "deals": largest["deals"],
                    "local_engine_pipeline_seconds": largest["pipeline"]["seconds_median"],
                    "local_engine_forecast_seconds": largest["forecast"]["seconds_median"],
                    "dynamodb_pipeline_seconds_extrapolated": round(direct["seconds"] * scale, 1),
                    "dynamodb_calls_extrapolated": {k: round(v * scale) for k, v in direct["calls"].items()},
                    "note": "DynamoDB figures are moto's (local), scaled linearly from the deals read; "
                    "the engine's exclude copying the tenant's files from S3 (its cache keeps them).",
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
