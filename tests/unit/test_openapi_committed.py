"""The committed OpenAPI document is the one the code generates (regenerate with `make openapi`)."""

from __future__ import annotations

from pathlib import Path

from crm_local.openapi import build_openapi, openapi_json

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    assert COMMITTED.read_text() == openapi_json(), "docs/openapi.json is stale: run `make openapi`"


def test_every_route_of_the_contract_is_documented() -> None:
    paths = build_openapi()["paths"]
    for collection in ("contacts", "companies"):
        base = f"/v1/{collection}"
        assert {"get", "post"} <= set(paths[base])
        assert {"get", "patch", "delete"} <= set(paths[f"{base}/{{record_id}}"])
        for suffix in ("restore", "merge"):
            assert "post" in paths[f"{base}/{{record_id}}/{suffix}"]
        assert "get" in paths[f"{base}/{{record_id}}/timeline"]
        assert "get" in paths[f"{base}/duplicates"]
        assert "post" in paths[f"{base}/batch/{{action}}"]
    assert "get" in paths["/v1/companies/{record_id}/contacts"]
