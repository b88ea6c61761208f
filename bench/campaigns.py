"""``python -m bench.campaigns`` (and ``make bench``): emails per second through the local pipeline (POST
/send, the event through the relay and the bus, the fan-out over the segment's pages, the send queue, the
sender's claims, SES on the local endpoint, until the campaign is sent), and the DynamoDB calls and items
written per recipient, from the send to the campaign's ``sent`` (docs/decisions/0018-campaigns.md).

The tenant's contacts are half consenting: the skipped half costs its claim too. The sending rate is
lifted (``CRM_EMAIL_RATE_PER_SECOND``) so that the pipeline, not the rate, is measured. The clock starts
at the POST /send, after the contacts, the segment and the campaign are made and their events relayed.

Then the birthday campaign: the first ``--birthdays`` contacts were born today; a birthday campaign is
activated, and one run of the birthdays' day for the tenant (``birthdays.notify_tenant``, as the hourly
schedule's message runs it) is counted in two parts: the owners' part (finding the day's birthdays, telling
their owner) and the birthday fan-out (``birthday_campaigns.greet``: the active birthday campaigns, the
markers already there, the send messages), then the sender's calls until every greeting is sent, and a
second run of the day (the schedule firing again: nothing more is queued or sent).
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


def _wait_quiet(calls: Counter[str], lock: threading.Lock, quiet_s: float = 1.0) -> None:
    """Until no DynamoDB call was made by the runtime's threads for ``quiet_s`` (the relay and the
    consumers are done with what setup caused), at most 60 s."""
    deadline = time.monotonic() + 60
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        with lock:
            now = sum(calls.values())
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


def measure(contacts: int, born_today: int = 200) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["CRM_EMAIL_RATE_PER_SECOND"] = "100000"
    from datetime import UTC, datetime

    from crm_core.repositories.record_repository import get_record
    from crm_core.services.records import record_data
    from crm_core.services.tenants import create_tenant

    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    calls: Counter[str] = Counter()
    lock = threading.Lock()
    today = f"--{datetime.now(UTC):%m-%d}"
    birthday: dict[str, Any] = {}
    try:
        tenant = create_tenant("Bench")
        for start in range(0, contacts, 100):
            inputs = [
                {
                    "email": f"p{n}@bench.example",
                    "first_name": f"P{n}",
                    "tags": ["bench"],
                    "consent": {"email": "granted" if n % 2 == 0 else "unknown"},
                    **({"birthday": today} if n < born_today else {}),
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
        setattr(BaseClient, "_make_api_call", _counting_but_here(calls, lock))  # noqa: B010
        _wait_quiet(calls, lock)  # the creations' events out of the way: setup is not measured
        calls.clear()
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
        if born_today:
            birthday = _birthday_campaign(instance, tenant, born_today)
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
        "birthday_campaign": birthday,
    }


def _birthday_campaign(instance: Any, tenant: Any, born_today: int) -> dict[str, Any]:
    """A birthday campaign (no segment: every contact born today who may be emailed) activated, then the
    day's run counted: the owners' part, the fan-out, the sender's part, and a second run of the day."""
    from crm_core.services import birthday_campaigns, birthdays

    campaign = call_api(
        instance.api,
        tenant.api_key,
        "POST",
        "/v1/campaigns",
        {
            "name": "Birthdays",
            "trigger": "birthday",
            "subject": "Happy birthday",
            "from": "hello@bench.example",
            "body": "<p>Happy birthday, {{ first_name }}!</p>",
        },
    )
    call_api(instance.api, tenant.api_key, "POST", f"/v1/campaigns/{campaign['id']}/send")
    everyone: Counter[str] = Counter()
    lock = threading.Lock()
    here = threading.current_thread()
    part = {"now": "owners"}
    greeting = birthday_campaigns.greet

    def greet(*args: Any) -> int:
        part["now"] = "fan_out"
        try:
            return greeting(*args)
        finally:
            part["now"] = "owners"

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            name = part["now"] if threading.current_thread() is here else "others"
            with lock:
                everyone[f"{name} {operation}"] += 1
                everyone[name] += 1
        return _ORIGINAL(client, operation, params)

    setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
    birthday_campaigns.greet = greet  # type: ignore[assignment]
    try:
        _wait_quiet(everyone, lock)
        everyone.clear()
        started = time.perf_counter()
        birthdays.notify_tenant(tenant.tenant_id)
        expected = (born_today + 1) // 2  # the consenting half
        while True:
            stats = call_api(instance.api, tenant.api_key, "GET", f"/v1/campaigns/{campaign['id']}/stats")
            if stats["sent"] >= expected or time.perf_counter() - started > 300:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        _wait_quiet(everyone, lock)
        first = Counter(everyone)
        everyone.clear()
        part["now"] = "owners"
        birthdays.notify_tenant(tenant.tenant_id)  # the schedule fires again the same day
        _wait_quiet(everyone, lock)
        again = Counter(everyone)
        stats = call_api(instance.api, tenant.api_key, "GET", f"/v1/campaigns/{campaign['id']}/stats")
    finally:
        birthday_campaigns.greet = greeting
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010
    greeted = max(1, stats["sent"])
    return {
        "born_today": born_today,
        "greeted": stats["sent"],
        "skipped": stats["skipped"],
        "seconds_to_all_greeted": round(seconds, 2),
        "fan_out_calls_per_greeted_contact": round(first["fan_out"] / greeted, 3),
        "owners_part_calls_per_greeted_contact": round(first["owners"] / greeted, 3),
        "sender_and_relay_calls_per_greeted_contact": round(first["others"] / greeted, 3),
        "second_run_of_the_day_calls": {k: v for k, v in again.items() if " " not in k},
        "fan_out_calls": {k.split(" ", 1)[1]: v for k, v in first.items() if k.startswith("fan_out ")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.campaigns", description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000, help="contacts in the segment (default 1000)")
    parser.add_argument(
        "--birthdays", type=int, default=200, help="of them, born today (default 200; 0: no birthday part)"
    )
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.contacts, min(args.birthdays, args.contacts)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
