"""What tenant-scoped credentials cost a request (docs/decisions/0035), on the local runtime: the AWS calls
of a tenant's first request in a container (cold: it assumes the role) and of the next ones (warm), STS
calls per 1,000 requests, and the same requests with the function's own credentials, side by side.

    .venv/bin/python -m bench.tenant_access [REQUESTS] [TENANTS]

Each request is one of a mix (create a contact, read it, list, search), round robin over the tenants. A
call is counted when it is made while a tenant's request is served (crm_core.tenant_access's scope).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests
from botocore.client import BaseClient
from crm_core import tenant_access
from crm_core.config import settings
from crm_core.services import tenant_lifecycle

from crm_local.runtime import LocalRuntime

_calls: Counter[str] = Counter()
_original: Callable[..., Any] = getattr(BaseClient, "_make_api_call")  # noqa: B009


def _counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    if tenant_access.current_tenant() is not None:
        _calls[f"{self.meta.service_model.service_name}.{operation}"] += 1
    return _original(self, operation, params)


def _requests(api: str, key: str, n: int) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    kind = n % 4
    if kind == 0:
        body = {"email": f"p{n}-{time.monotonic_ns()}@bench.example", "first_name": f"P{n}"}
        return requests.post(f"{api}/v1/contacts", json=body, headers=headers, timeout=30)
    if kind == 1:
        return requests.get(f"{api}/v1/contacts", params={"limit": 10}, headers=headers, timeout=30)
    if kind == 2:
        return requests.get(f"{api}/v1/contacts", params={"q": "p"}, headers=headers, timeout=30)
    return requests.get(f"{api}/v1/companies", headers=headers, timeout=30)


def _run(api: str, keys: list[str], total: int) -> dict[str, Any]:
    """``total`` requests over the tenants (each tenant's first one apart: cold)."""
    cold: list[tuple[Counter[str], float]] = []
    warm_calls: Counter[str] = Counter()
    warm_ms: list[float] = []
    assumed_before = tenant_access.assume_role_calls()
    for n in range(total):
        key = keys[n % len(keys)]
        _calls.clear()
        began = time.perf_counter()
        answer = _requests(api, key, n)
        elapsed = (time.perf_counter() - began) * 1000
        assert answer.status_code < 300, answer.text
        if n < len(keys):
            cold.append((Counter(_calls), elapsed))
        else:
            warm_calls.update(_calls)
            warm_ms.append(elapsed)
    warm = total - len(keys)
    assumed = tenant_access.assume_role_calls() - assumed_before
    return {
        "requests": total,
        "tenants": len(keys),
        "cold_calls": dict(sum((c for c, _ in cold), Counter())),
        "cold_ms_median": round(statistics.median(ms for _, ms in cold), 1),
        "warm_calls_per_request": {k: round(v / warm, 3) for k, v in sorted(warm_calls.items())},
        "warm_ms_median": round(statistics.median(warm_ms), 1),
        "sts_calls": assumed,
        "sts_calls_per_1000_requests": round(1000 * assumed / total, 1),
    }


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    tenants = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    runtime = LocalRuntime(port=0, state_file=None)
    runtime.start()
    setattr(BaseClient, "_make_api_call", _counting)  # noqa: B010
    try:
        role_arn = settings().tenant_role_arn
        results: dict[str, Any] = {}
        # Twice each, alternating: the first run of a process warms what the second does not pay.
        runs = [("function role", ""), ("scoped", role_arn)] * 2
        for number, (label, arn) in enumerate(runs):
            label = f"{label} (run {number // 2 + 1})"
            os.environ["CRM_TENANT_ROLE_ARN"] = arn
            settings.cache_clear()
            tenant_access.clear()
            keys = [
                tenant_lifecycle.create(f"Bench {label} {t}", plan="business")["api_key"]
                for t in range(tenants)
            ]
            results[label] = _run(runtime.api_url, keys, total)
        # What a new tenant's clients cost a warm container: AssumeRole, the session, the clients.
        settings.cache_clear()
        for tenant_id in ("01JBENCHAAAAAAAAAAAAAAAAAA", "01JBENCHBBBBBBBBBBBBBBBBBB"):
            began = time.perf_counter()
            with tenant_access.scoped(tenant_id):
                tenant_access.client("dynamodb")
                tenant_access.connection(None)  # type: ignore[arg-type]
            results[f"new tenant {tenant_id[-1]}: session and clients (ms)"] = round(
                (time.perf_counter() - began) * 1000, 1
            )
        for label, result in results.items():
            print(f"{label}: {result}")
    finally:
        setattr(BaseClient, "_make_api_call", _original)  # noqa: B010
        runtime.stop()


if __name__ == "__main__":
    main()
