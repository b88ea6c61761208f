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


def _constrained(schema: dict[str, object]) -> bool:
    """A parameter's schema a value can fail: a pattern, a format, a bound, an enumeration, a type beyond
    text (``anyOf`` with null: the optional form of one of these)."""
    branches = schema.get("anyOf") or [schema]
    assert isinstance(branches, list)
    return any(
        isinstance(b, dict)
        and b.get("type") != "null"
        and (
            b.get("type") not in (None, "string")
            or bool({"pattern", "format", "enum", "maxLength", "minLength", "$ref"} & set(b))
        )
        for b in branches
    )


def test_every_operation_documents_the_errors_its_inputs_can_cause() -> None:
    """Generated over the document, every operation: a JSON body can be malformed (400), too large (413),
    not JSON (415) or invalid (422); a path or query parameter with a constraint can fail it (422). What the
    fuzzer found undocumented (a schedule's 400, a malformed id's 422 on a campaign's cancel and stats and a
    quote's PDF) is then found for the next route without anyone remembering it."""
    missing: list[str] = []
    for path, methods in build_openapi()["paths"].items():
        for method, operation in methods.items():
            documented = {int(status) for status in operation["responses"]}
            wanted: set[int] = {422} if path.startswith("/v1/") else set()  # an unknown query parameter
            if "application/json" in (operation.get("requestBody") or {}).get("content", {}):
                wanted |= {400, 413, 415, 422}
            if any(_constrained(p.get("schema", {})) for p in operation.get("parameters", [])):
                wanted.add(422)
            if wanted - documented:
                missing.append(f"{method.upper()} {path}: {sorted(wanted - documented)}")
            # Every error is problem details (Powertools adds a 422 of its own, as application/json, to a
            # route that does not list one).
            for status, answer in operation["responses"].items():
                if int(status) >= 400 and "application/problem+json" not in answer.get("content", {}):
                    missing.append(f"{method.upper()} {path}: {status} is not application/problem+json")
    assert not missing, "\n".join(missing)
