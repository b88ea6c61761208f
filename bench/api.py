"""A partner's view of the API for the bench: a tenant's API key and an HTTP session to the gateway."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

# The gateway caches the authorizer's answer this long per Authorization header (as API Gateway does);
# warm again well before it runs out so that no measured request pays for the authorizer.
AUTHORIZER_CACHE_SECONDS = 300
REWARM_AFTER_SECONDS = 200


@dataclass
class Api:
    base_url: str
    api_key: str
    tenant_id: str
    user_id: str
    session: requests.Session = field(default_factory=requests.Session)
    warmed_at: float = 0.0

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {self.api_key}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        return self.session.request(
            method, f"{self.base_url}{path}", data=data, headers=all_headers, params=params, timeout=120
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: int = 200,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A request that must answer ``expect``; its JSON body (None when empty)."""
        response = self.request(method, path, body=body, params=params, headers=headers)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code}, wanted {expect}: {response.text}")
        return response.json() if response.content else None

    def warm(self) -> None:
        """Load the functions, cache the authorizer's answer and fetch the cursor-signing secret, so
        that what a measured request costs is what a warm Lambda container pays."""
        self.call("GET", "/v1/companies", params={"limit": 1})
        self.call("GET", "/v1/contacts", params={"limit": 1})
        self.call("GET", "/v1/deals", params={"limit": 1})
        self.warmed_at = time.monotonic()

    def keep_warm(self) -> None:
        if time.monotonic() - self.warmed_at > REWARM_AFTER_SECONDS:
            self.warm()


def new_tenant_api(base_url: str, name: str) -> Api:
    """A new tenant with its admin's API key (through the service layer, as the tests do)."""
    from crm_core.services.tenants import create_tenant

    tenant = create_tenant(name, plan="business")  # the bench's load and sizes: beyond the free plan
    return Api(base_url, tenant.api_key, tenant.tenant_id, tenant.user_id)
