"""boto3 clients, created once per container and shared.

The same code reaches AWS in Lambda and the local endpoint on a laptop: boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from functools import cache
from typing import Any

# Connections kept open per client (botocore's default is 10). A Lambda serves one request at a time, but
# a batch writes ten inputs at once, each with its derived writes, and locally one process serves every
# concurrent request: past the pool's size each call opens a connection and throws it away, which costs a
# handshake and leaves sockets in TIME_WAIT until the local endpoint's port range runs dry under load.
MAX_POOL_CONNECTIONS = 50


def client(service: str) -> Any:
    """The client of ``service``: inside ``tenant_access.scoped`` DynamoDB's and S3's are the tenant's
    (credentials that reach only its items and files), every other the function's own."""
    from crm_core import tenant_access

    return tenant_access.client(service) or function_client(service)


@cache
def function_client(service: str) -> Any:
    """The client of ``service`` with the function's own role (what the work of no one tenant uses)."""
    import boto3  # lazy: a request that needs no client does not pay for boto3
    from botocore.config import Config

    from crm_core.config import settings

    session: Any = boto3.session.Session()
    return session.client(
        service, region_name=settings().region, config=Config(max_pool_connections=MAX_POOL_CONNECTIONS)
    )
