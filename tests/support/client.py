"""An HTTP client for the API as a partner uses it: a base URL and a bearer credential."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class ApiClient:
    base_url: str
    api_key: str | None
    tenant_id: str = ""
    user_id: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        if json_body is not None:
            data = json.dumps(json_body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        return self.session.request(
            method, f"{self.base_url}{path}", data=data, headers=all_headers, params=params, timeout=30
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(f"/v1/{collection}", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def all_pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            response = self.get(path, params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            if not page["next_cursor"]:
                return items
            query["cursor"] = page["next_cursor"]
