"""boto3 clients, created once per container and shared.

The same code reaches AWS in Lambda and the local endpoint on a laptop: boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from crm_core import tenant_access
from crm_core.config import MAX_POOL_CONNECTIONS, settings


def client(service: str) -> Any:
    """The client of ``service``: inside ``tenant_access.scoped`` DynamoDB's and S3's are the tenant's
    (credentials that reach only its items and files), every other the function's own."""
    return tenant_access.client(service) or function_client(service)


@cache
def function_client(service: str) -> Any:
    """The client of ``service`` with the function's own role (what the work of no one tenant uses)."""
    import boto3  # lazy: a request that needs no client does not pay for boto3
    from botocore.config import Config

    session: Any = boto3.session.Session()
    return session.client(
        service, region_name=settings().region, config=Config(max_pool_connections=MAX_POOL_CONNECTIONS)
    )
