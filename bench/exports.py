"""``python -m bench.exports``: records per second of a tenant export through the local pipeline (POST, the
queue, the worker, until the export is completed and its zip is in S3), beside a bare read of the same
records (the Query + BatchGetItem pages the worker makes, without the zip), the DynamoDB calls per
record, and the zip's size per record. Not part of ``make bench``.

The relay is stopped (it is on no export's path).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections import Counter
from typing import Any

from botocore.client import BaseClient

from bench.import_pipeline import _ORIGINAL, _counting
from crm_local.seed import call_api


def measure(contacts: int) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from crm_core.services import exports
    from crm_core.services.tenants import create_tenant

    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    runtime.relay.stop()
    calls: Counter[str] = Counter()
    try:
        tenant = create_tenant("Bench")
        for start in range(0, contacts, 100):
            inputs = [
                {"email": f"p{n}@bench.example", "first_name": f"P{n}", "last_name": f"Row{n}"}
                for n in range(start, min(contacts, start + 100))
            ]
            call_api(instance.api, tenant.api_key, "POST", "/v1/contacts/batch/create", {"inputs": inputs})

        started = time.perf_counter()
        read = sum(len(page) for page in exports._pages(tenant.tenant_id, "contact"))
        read_s = time.perf_counter() - started
        assert read == contacts, read

        setattr(BaseClient, "_make_api_call", _counting(calls, threading.Lock()))  # noqa: B010
        started = time.perf_counter()
        job = call_api(instance.api, tenant.api_key, "POST", "/v1/exports", {})
        while job["status"] not in ("completed", "failed"):
            time.sleep(0.1)
            job = call_api(instance.api, tenant.api_key, "GET", f"/v1/exports/{job['id']}")
        export_s = time.perf_counter() - started
    finally:
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
        runtime.stop()
    assert job["status"] == "completed", job
    records = sum(job["objects"].values())
    return {
        "contacts": contacts,
        "records": records,
        "export_seconds": round(export_s, 2),
        "export_records_per_second": round(records / export_s, 1),
        "bare_read_seconds": round(read_s, 2),
        "bare_read_records_per_second": round(read / read_s, 1),
        "ratio_export_to_bare_read": round(read_s / export_s * records / read, 3),
        "dynamodb_calls_per_record": round(sum(calls.values()) / records, 3),
        "dynamodb_calls": dict(calls.most_common()),
        "zip_bytes_per_record": round(job["size_bytes"] / records, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    parser.add_argument("--contacts", type=int, default=2000, help="contacts of the tenant (default 2000)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.contacts), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
