"""S3 for files the API links to: the client signs with Signature Version 4, the one presigned URLs must
carry in every region (boto3's default may sign S3 URLs otherwise). Created once per container."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def presigning_client() -> Any:
    import boto3  # lazy, as crm_core.aws
    from botocore.config import Config

    from crm_core.config import settings

    session: Any = boto3.session.Session()
    return session.client("s3", region_name=settings().region, config=Config(signature_version="s3v4"))
