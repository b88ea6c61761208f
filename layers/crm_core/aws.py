"""boto3 clients, created once per container and shared.

The same code reaches AWS in Lambda and the local endpoint on a laptop: boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # lazy: a request that needs no client does not pay for boto3

    from crm_core.config import settings

    session: Any = boto3.session.Session()
    return session.client(service, region_name=settings().region)
