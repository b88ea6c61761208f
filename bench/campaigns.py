"""``python -m bench.campaigns`` (and ``make bench``): emails per second through the local pipeline (POST
/send, the event through the relay and the bus, the fan-out over the segment's pages, the send queue, the
sender's claims, SES on the local endpoint, until the campaign is sent), and the DynamoDB calls and items
written per recipient, from the send to the campaign's ``sent`` (docs/decisions/0018-campaigns.md).

The tenant's contacts are half consenting: the skipped half costs its claim too. The sending rate is
lifted (``CRM_EMAIL_RATE_PER_SECOND``) so that the pipeline, not the rate, is measured.
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

from bench.import_pipeline import _ORIGINAL, ITEMS, _written
from crm_local.seed import call_api


def _counting_but_here(calls: Counter[str], lock: threading.Lock) -> Any:
    """DynamoDB calls and items written, but for this thread's own (its polls of the campaign's status)."""
    here = threading.current_thread()

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and threading.current_thread() is not here:
            with lock:
                calls[operation] += 1
                calls[ITEMS] += _written(operation, params)
        return _ORIGINAL(client, operation, params)

    return make_api_call


def measure(contacts: int) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["CRM_EMAIL_RATE_PER_SECOND"] = "100000"
    from crm_core.repositories.record_repository import get_record
    from crm_core.services.records import record_data
    from crm_core.services.tenants import create_tenant

    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    calls: Counter[str] = Counter()
    try:
        tenant = create_tenant("Bench")
        for start in range(0, contacts, 100):
            inputs = [
                {
                    "email": f"p{n}@bench.example",
                    "first_name": f"P{n}",
                    "tags": ["bench"],
                    "consent": {"email": "granted" if n % 2 == 0 else "unknown"},
                }
                for n in range(start, min(contacts, start + 100))
            ]
            call_api(instance.api, tenant.api_key, "POST", "/v1/contacts/batch/create", {"inputs": inputs})
        rule = {"property": "tags", "operator": "contains", "value": "bench"}
        segment = call_api(
            instance.api,
            tenant.api_key,
            "POST",
            "/v1/segments",
            {"name": "Bench", "filter": {"any": [{"all": [rule]}]}},
        )
        campaign = call_api(
            instance.api,
            tenant.api_key,
            "POST",
            "/v1/campaigns",
            {
                "name": "Bench",
                "segment_id": segment["id"],
                "subject": "Hello",
                "from": "news@bench.example",
                "body": '<p>Hello {{ first_name }}</p><p><a href="https://bench.example/">More</a></p>',
            },
        )
        time.sleep(1)  # the creations' events out of the way
        setattr(BaseClient, "_make_api_call", _counting_but_here(calls, threading.Lock()))  # noqa: B010
        started = time.perf_counter()
        call_api(instance.api, tenant.api_key, "POST", f"/v1/campaigns/{campaign['id']}/send")
        while True:
            item = get_record(tenant.tenant_id, "campaign", campaign["id"], consistent=True)
            if item is not None and record_data(item).get("status") == "sent":
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
        stats = call_api(instance.api, tenant.api_key, "GET", f"/v1/campaigns/{campaign['id']}/stats")
    finally:
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
        runtime.stop()
    recipients = stats["recipients"]
    calls_made = sum(n for name, n in calls.items() if name != ITEMS)
    return {
        "contacts": contacts,
        "recipients": recipients,
        "sent": stats["sent"],
        "skipped": stats["skipped"],
        "seconds": round(seconds, 2),
        "emails_per_second": round(stats["sent"] / seconds, 1),
        "recipients_per_second": round(recipients / seconds, 1),
        "dynamodb_calls_per_recipient": round(calls_made / recipients, 3),
        "items_written_per_recipient": round(calls[ITEMS] / recipients, 3),
        "dynamodb_calls": dict(calls.most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.campaigns", description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000, help="contacts in the segment (default 1000)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.contacts), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
