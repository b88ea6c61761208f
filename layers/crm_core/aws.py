"""boto3 clients, created once per container and shared.

The same code reaches AWS in Lambda and the local endpoint on a laptop: boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3  # lazy: a request that needs no client does not pay for boto3

    from crm_core.config import settings

    return boto3.session.Session().client(service, region_name=settings().region)
