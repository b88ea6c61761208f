"""The per-container cache of tenants' credentials (crm_core.tenant_access): one AssumeRole per tenant however
many threads ask at once, at most MAX_TENANTS kept (least recently used out), credentials renewed before they
expire, and the function's own clients outside a tenant's scope. AssumeRole is replaced by a counter here;
the integration test (tests/integration/test_tenant_credentials.py) goes through the local endpoint's STS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from crm_core import aws, tenant_access
from crm_core.config import settings


@pytest.fixture
def assumed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The tenants AssumeRole was called for; each answer expires ``expires_in`` from now (changeable)."""
    calls: list[str] = []
    lock = threading.Lock()
    monkeypatch.setenv("CRM_TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/crm-tenant-access")
    settings.cache_clear()
    tenant_access.clear()

    def fake(tenant_id: str) -> dict[str, str]:
        with lock:
            calls.append(tenant_id)
            number = len(calls)
        expiry = datetime.now(UTC) + fake.expires_in  # type: ignore[attr-defined]
        return {
            "access_key": f"ASIA{number:016d}",
            "secret_key": "secret",
            "token": f"token-{tenant_id}",
            "expiry_time": expiry.isoformat(),
        }

    fake.expires_in = timedelta(hours=1)  # type: ignore[attr-defined]
    monkeypatch.setattr(tenant_access, "_assume", fake)
    yield calls
    tenant_access.clear()
    monkeypatch.delenv("CRM_TENANT_ROLE_ARN")
    settings.cache_clear()


def test_one_assume_role_per_tenant_and_a_bounded_cache(
    assumed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a scope: the function's own client, and no AssumeRole.
    assert aws.client("dynamodb") is aws.function_client("dynamodb")
    assert aws.client("sqs") is aws.function_client("sqs")

    # Eight threads asking at once for a new tenant's client: one AssumeRole, one client.
    found: list[object] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        with tenant_access.scoped("T1"):
            found.append(aws.client("dynamodb"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert assumed == ["T1"]
    assert len({id(client) for client in found}) == 1
    with tenant_access.scoped("T1"):
        assert aws.client("dynamodb") is found[0]
        assert aws.client("s3") is not aws.function_client("s3")
        assert aws.client("events") is aws.function_client("events")  # only DynamoDB and S3 are scoped
        scoped_credentials = aws.client("dynamodb")._request_signer._credentials
        assert scoped_credentials.access_key == "ASIA0000000000000001"
    assert assumed == ["T1"]

    # Bounded: past MAX_TENANTS the least recently used tenant goes, and comes back with a new AssumeRole.
    monkeypatch.setattr(tenant_access, "MAX_TENANTS", 3)
    for tenant_id in ("T2", "T3", "T1", "T4"):  # T1 used again: T2 is the least recently used
        with tenant_access.scoped(tenant_id):
            aws.client("dynamodb")
    assert tenant_access.cached_tenants() == 3
    assert assumed == ["T1", "T2", "T3", "T4"]
    with tenant_access.scoped("T1"):
        aws.client("dynamodb")
    assert assumed == ["T1", "T2", "T3", "T4"]
    with tenant_access.scoped("T2"):
        aws.client("dynamodb")
    assert assumed == ["T1", "T2", "T3", "T4", "T2"]


def test_credentials_are_renewed_before_they_expire(assumed: list[str]) -> None:
    tenant_access._assume.expires_in = timedelta(minutes=12)  # type: ignore[attr-defined]
    with tenant_access.scoped("T1"):
        credentials = aws.client("dynamodb")._request_signer._credentials
        assert assumed == ["T1"]
        # 12 minutes left: within botocore's advisory window (15 minutes), so the next use renews them, once.
        tenant_access._assume.expires_in = timedelta(hours=1)  # type: ignore[attr-defined]
        renewed = credentials.get_frozen_credentials().access_key
        again = credentials.get_frozen_credentials().access_key
    assert assumed == ["T1", "T1"]
    assert renewed == again == "ASIA0000000000000002"
