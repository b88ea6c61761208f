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


@pytest.fixture
def public_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call | str]]:
    """Every DynamoDB and S3 call a public function (no credential: tracking links, survey and quote pages)
    makes while it answers: a ``Call`` when made inside a tenant's scope, the operation's name when not."""
    import threading

    from crm_local.gateway import Gateway

    made: list[Call | str] = []
    serving = threading.local()
    invoke, original = Gateway._invoke, BaseClient._make_api_call

    def invoking(self: Gateway, route: Any, path_parameters: dict[str, str], request: Any) -> Any:
        serving.public = route.function.public
        try:
            return invoke(self, route, path_parameters, request)
        finally:
            serving.public = False

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        if getattr(serving, "public", False) and service in tenant_access.SCOPED_SERVICES:
            tenant_id = tenant_access.current_tenant()
            credentials = self._request_signer._credentials  # type: ignore[attr-defined]
            made.append(
                operation
                if tenant_id is None
                else Call(tenant_id, service, operation, dict(params), credentials.access_key)
            )
        return original(self, operation, params)

    monkeypatch.setattr(Gateway, "_invoke", invoking)
    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield made


def test_public_pages_use_their_tokens_tenants_credentials(
    client: ApiClient, other: ApiClient, public_calls: list[Call | str]
) -> None:
    """The tracking links, the survey page and the quote page reach the table with the credentials of the
    tenant their signed token names, and nothing else; a forged token reaches nothing."""
    import requests
    from crm_core.services.campaign_sends import tracking_url
    from crm_core.services.quote_mail import page_token
    from crm_core.services.surveys import nps_id, survey_url

    from tests.integration.test_campaigns import BODY, LINK, contacts, finished, segment_of

    domain = f"p{client.tenant_id.lower()}.example"
    (person,) = contacts(client, domain, ["granted"], "public")
    body = {"name": "P", "segment_id": segment_of(client, "public"), "subject": "P", "from": f"n@{domain}"}
    campaign = client.create("campaigns", {**body, "body": BODY})
    assert client.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 200
    finished(client, campaign["id"])
    product = client.create(
        "products", {"sku": "PUB-1", "name": "Pub", "prices": [{"currency": "EUR", "unit_price": "10"}]}
    )
    quote = client.create(
        "quotes",
        {
            "deal_id": client.create("deals", {"name": "Public"})["id"],
            "contact_id": person["id"],
            "currency": "EUR",
            "line_items": [{"product_id": product["id"], "quantity": "1"}],
        },
    )
    assert client.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    public_calls.clear()  # the campaign's and the quote's sending are not the pages' work

    def link(action: str) -> str:
        return tracking_url(client.tenant_id, campaign["id"], person["id"], action)

    survey = survey_url(
        client.tenant_id,
        "nps",
        nps_id(campaign["id"], person["id"]),
        person["id"],
        campaign_id=campaign["id"],
    )
    quote_page = f"{client.base_url}/q/{page_token(client.tenant_id, quote['id'])}"
    answers = [
        requests.get(link("open"), timeout=30),
        requests.get(link("click"), params={"u": LINK}, allow_redirects=False, timeout=30),
        requests.get(link("unsubscribe"), timeout=30),
        requests.post(link("unsubscribe"), timeout=30),
        requests.get(survey, timeout=30),
        requests.post(survey, data={"score": "9", "comment": "Good"}, timeout=30),
        requests.get(quote_page, timeout=30),
        requests.post(f"{quote_page}/accept", timeout=30),
    ]
    assert [a.status_code for a in answers] == [200, 302, 200, 200, 200, 200, 200, 200], [
        a.text[:200] for a in answers
    ]
    assert client.get(f"/v1/quotes/{quote['id']}").json()["status"] == "accepted"
    unscoped = [c for c in public_calls if isinstance(c, str)]
    assert not unscoped, f"a public page's calls outside its tenant's scope: {unscoped}"
    calls = [c for c in public_calls if isinstance(c, Call)]
    assert {c.operation for c in calls} >= {"GetItem", "TransactWriteItems"}, calls
    own_key = tenant_access._cache.get(client.tenant_id).session.get_credentials().access_key
    for call in calls:
        assert call.tenant_id == client.tenant_id and call.access_key == own_key, call
        assert all(allowed(_policies(call.tenant_id), r) for r in _requests(call, call.tenant_id)), call
        assert not any(
            all(allowed([policy], r) for r in _requests(call, other.tenant_id))
            for policy in _policies(other.tenant_id)
        ), call

    # A token signed for another purpose, or altered, names no tenant: refused before any call.
    public_calls.clear()
    forged = link("open").replace("/t/", "/t/x")
    wrong_purpose = f"{client.base_url}/q/{link('open').split('/t/')[1].split('/')[0]}"
    assert requests.get(forged, timeout=30).status_code == 404
    assert requests.get(wrong_purpose, timeout=30).status_code == 404
    assert public_calls == []
