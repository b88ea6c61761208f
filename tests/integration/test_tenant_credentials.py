"""A tenant's requests reach DynamoDB and S3 with its own scoped credentials (crm_core.tenant_access,
docs/decisions/0035): on the local runtime through the same AssumeRole as in AWS. The local endpoint
evaluates no policy, so every call the requests made is recorded and evaluated against the tenant's
policies (tests/support/iam_policy.py): all allowed for the tenant, none for another tenant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient
from crm_core import tenant_access
from crm_core.config import settings
from crm_core.definitions import TABLE, TENANT_ACCESS

from tests.support.client import ApiClient
from tests.support.iam_policy import Request, allowed, dynamodb_requests, s3_requests

PARTITION_KEYS = {"": TABLE.partition_key, **{i.name: i.partition_key for i in TABLE.indexes}}


@dataclass(frozen=True)
class Call:
    tenant_id: str
    service: str
    operation: str
    params: dict[str, Any]
    access_key: str


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    """Every DynamoDB and S3 call made while a tenant's request is served, with the access key signing it."""
    made: list[Call] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        tenant_id = tenant_access.current_tenant()
        service = self.meta.service_model.service_name
        if tenant_id is not None and service in tenant_access.SCOPED_SERVICES:
            credentials = self._request_signer._credentials  # type: ignore[attr-defined]
            made.append(Call(tenant_id, service, operation, dict(params), credentials.access_key))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield made


def _policies(tenant_id: str) -> list[dict[str, Any]]:
    table = f"arn:aws:dynamodb:{settings().region}:123456789012:table/{settings().table_name}"
    role = tenant_access.role_policy(
        table, f"arn:aws:s3:::{settings().imports_bucket}", f"arn:aws:s3:::{settings().analytics_bucket}"
    )
    return [role, tenant_access.session_policy(tenant_id)]


def _requests(call: Call, caller: str) -> list[Request]:
    table = f"arn:aws:dynamodb:{settings().region}:123456789012:table/{settings().table_name}"
    context = {f"aws:PrincipalTag/{TENANT_ACCESS.tag}": [caller]}
    if call.service == "s3":
        return s3_requests(call.operation, call.params, context)
    return dynamodb_requests(call.operation, call.params, table, PARTITION_KEYS, context)


def test_requests_use_the_tenants_scoped_credentials(
    client: ApiClient, other: ApiClient, calls: list[Call]
) -> None:
    assert settings().tenant_role_arn  # the local runtime configures the role, as CDK does
    before = tenant_access.assume_role_calls()

    # A first request of the tenant in this process assumes the role once; the next ones reuse it.
    contact = client.create("contacts", {"email": "ada@example.com", "first_name": "Ada", "last_name": "L"})
    assert tenant_access.assume_role_calls() == before + 1
    company = client.create("companies", {"name": "Analytical Engines", "domain": "engines.example"})
    linked = client.patch(f"/v1/contacts/{contact['id']}", {"company_id": company["id"]})
    assert linked.status_code == 200, linked.text
    again = client.post("/v1/contacts", {"email": "bob@example.com"}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201, again.text
    replay = client.post("/v1/contacts", {"email": "bob@example.com"}, headers={"Idempotency-Key": "k1"})
    assert replay.json()["id"] == again.json()["id"]
    assert client.get(f"/v1/contacts/{contact['id']}").status_code == 200
    assert [c["id"] for c in client.get("/v1/contacts", params={"q": "ada"}).json()["items"]] == [
        contact["id"]
    ]
    assert client.get("/v1/companies").json()["items"]
    # A report lists the tenant's analytics files (the local runtime reads them from S3 itself).
    assert client.get("/v1/reports/pipeline").status_code == 200
    assert tenant_access.assume_role_calls() == before + 1  # warm: no STS call

    # The other tenant's first request: its own session.
    assert other.get(f"/v1/contacts/{contact['id']}").status_code == 404
    assert tenant_access.assume_role_calls() == before + 2

    own = [call for call in calls if call.tenant_id == client.tenant_id]
    operations = {(call.service, call.operation) for call in own}
    expected = {("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "TransactWriteItems")}
    assert expected | {("dynamodb", "PutItem"), ("s3", "ListObjectsV2")} <= operations, operations
    keys = {
        tenant_id: tenant_access._cache.get(tenant_id).session.get_credentials().access_key
        for tenant_id in (client.tenant_id, other.tenant_id)
    }
    assert keys[client.tenant_id] != keys[other.tenant_id]
    for call in calls:
        # Signed with the assumed role's credentials of the tenant whose request made it...
        assert call.access_key == keys[call.tenant_id], call
        # ...and within what that tenant's policies allow, and nothing another tenant's would.
        assert all(allowed(_policies(call.tenant_id), r) for r in _requests(call, call.tenant_id)), call
        stranger = other.tenant_id if call.tenant_id == client.tenant_id else client.tenant_id
        assert not any(
            all(allowed([policy], r) for r in _requests(call, stranger)) for policy in _policies(stranger)
        ), call
