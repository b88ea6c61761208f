"""Tamper-evident tokens (list cursors today, tracking links later), signed with the tenant in them.

The key lives in Secrets Manager (created by the CDK app; by the local runtime on its local endpoint)
and is fetched once per container.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.errors import bad_request


@lru_cache(maxsize=1)
def _signing_key() -> bytes:
    arn = settings().cursor_secret_arn
    if not arn:
        raise RuntimeError("CRM_CURSOR_SECRET_ARN is not set")
    value = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(purpose: str, tenant_id: str, payload: dict[str, Any]) -> str:
    body = json.dumps({"p": purpose, "t": tenant_id, "d": payload}, separators=(",", ":"), sort_keys=True)
    mac = hmac.new(_signing_key(), body.encode(), hashlib.sha256).digest()[:16]
    return f"{_b64(body.encode())}.{_b64(mac)}"


def verify(purpose: str, tenant_id: str, token: str) -> dict[str, Any] | None:
    """The payload, or None when the token is forged, altered, for another purpose or another tenant."""
    try:
        body_part, mac_part = token.split(".", 1)
        body = _unb64(body_part)
        mac = _unb64(mac_part)
    except (ValueError, TypeError):
        return None
    expected = hmac.new(_signing_key(), body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    decoded = json.loads(body)
    if decoded.get("p") != purpose or decoded.get("t") != tenant_id:
        return None
    payload: dict[str, Any] = decoded["d"]
    return payload


def verify_carrying_tenant(purpose: str, token: str) -> tuple[str, dict[str, Any]] | None:
    """The tenant a token was signed for and its payload, when nothing of it is forged or altered (a public
    link, such as an email's tracking link, is read before any tenant is known: the token names it)."""
    try:
        body_part, _ = token.split(".", 1)
        decoded = json.loads(_unb64(body_part))
        tenant_id = decoded["t"]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    if not isinstance(tenant_id, str) or not tenant_id:
        return None
    payload = verify(purpose, tenant_id, token)
    return None if payload is None else (tenant_id, payload)


def encode_cursor(tenant_id: str, query_fingerprint: str, last_key: dict[str, Any]) -> str:
    return sign("cursor", tenant_id, {"q": query_fingerprint, "k": last_key})


def decode_cursor(tenant_id: str, query_fingerprint: str, cursor: str) -> dict[str, Any]:
    """The position a cursor stands for; a forged, foreign or mismatched cursor is a 400."""
    payload = verify("cursor", tenant_id, cursor)
    if payload is None or payload.get("q") != query_fingerprint:
        raise bad_request("The cursor is not valid for this list.", field_name="cursor")
    key: dict[str, Any] = payload["k"]
    return key
