"""Custom properties a test's records hold: a record's ``custom`` is validated against its object's
definitions (docs/decisions/0012), so a test that writes values defines them first."""

from __future__ import annotations

from tests.support.client import ApiClient


def define_properties(client: ApiClient, object_name: str, types: dict[str, str]) -> None:
    """``types``: {name: type}, each defined (by the tenant's admin) for ``object_name``."""
    for name, kind in types.items():
        body = {"name": name, "label": name, "type": kind}
        response = client.post(f"/v1/properties/{object_name}", body)
        assert response.status_code == 201, response.text
