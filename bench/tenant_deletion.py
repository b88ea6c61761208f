"""How long the operator's deletion of a tenant takes on the local runtime, and that it leaves nothing of
it and all of the other tenant (decision 0028): two tenants of N contacts each (batch API), one deleted.

    .venv/bin/python -m bench.tenant_deletion [N]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import requests
from crm_core.services import tenant_deletion, tenant_lifecycle

from crm_local.runtime import LocalRuntime


def measure(contacts: int, runtime: LocalRuntime) -> dict[str, Any]:
    made = [tenant_lifecycle.create(name) for name in ("Deleted", "Kept")]
    for tenant in made:
        headers = {"Authorization": f"Bearer {tenant['api_key']}"}
        for start in range(0, contacts, 100):
            inputs = [
                {"email": f"p{n}@bench.example", "first_name": f"P{n}", "tags": ["bench"]}
                for n in range(start, min(contacts, start + 100))
            ]
            answer = requests.post(
                f"{runtime.api_url}/v1/contacts/batch/create",
                json={"inputs": inputs},
                headers=headers,
                timeout=60,
            )
            answer.raise_for_status()
    kept_before = tenant_lifecycle.check(made[1]["tenant_id"])
    began = time.monotonic()
    report = tenant_deletion.shown(tenant_deletion.run(made[0]["tenant_id"]))
    seconds = time.monotonic() - began
    return {
        "contacts": contacts,
        "seconds": round(seconds, 2),
        "deleted": report,
        "other_tenant_before": kept_before,
        "other_tenant_after": tenant_lifecycle.check(made[1]["tenant_id"]),
    }


def main() -> None:
    contacts = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    runtime = LocalRuntime(port=0, state_file=None)
    runtime.start()
    try:
        print(measure(contacts, runtime))
    finally:
        runtime.stop()


if __name__ == "__main__":
    main()
