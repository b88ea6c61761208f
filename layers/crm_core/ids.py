"""Identifiers and timestamps: opaque, URL-safe, time-sortable ids; RFC 3339 UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def utc_now() -> str:
    """RFC 3339 in UTC with millisecond precision, so that string order is time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
