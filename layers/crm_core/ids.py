"""Identifiers and timestamps: opaque, URL-safe, time-sortable ids (ULIDs); RFC 3339 UTC times."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def new_id() -> str:
    """A ULID: 48 bits of milliseconds and 80 random bits, Crockford base32. Ids made in the same
    millisecond by this process increase (the random part is incremented), so ids sort in creation order."""
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms == _last_ms:
            _last_random = (_last_random + 1) & ((1 << 80) - 1)
        else:
            _last_ms, _last_random = now_ms, int.from_bytes(os.urandom(10), "big")
        value = (now_ms << 80) | _last_random
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def first_id_at(moment: datetime) -> str:
    """The least id made at ``moment`` or later: a bound for a key range of ids (they sort by time)."""
    value = (int(moment.timestamp() * 1000) & ((1 << 48) - 1)) << 80
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def derived_id(base_id: str, *parts: str) -> str:
    """A ULID with ``base_id``'s time and a random part derived from it and ``parts``: the same inputs give
    the same id, so work that may run twice (a message delivered twice) names its result the same way."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join((base_id, *parts)).encode()).digest()[:10], "big")
    return base_id[:10] + "".join(_CROCKFORD[(digest >> shift) & 31] for shift in range(75, -1, -5))


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC (a time without a zone taken as UTC). ValueError when that falls outside years 1 to
    9999, where an offset can push a time that is inside them (``0001-01-01T00:00:00+05:00``)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range: in UTC it falls before 0001-01-01 or after 9999-12-31") from None


def days_after(day: date, days: int) -> date | None:
    """``day`` moved by ``days`` (back when negative); None past the calendar's ends, 0001-01-01 and
    9999-12-31, which a date the API takes may be."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def utc_text(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision: every stored time has this form, so text order is time
    order (the year in four digits: ``0056-06-05T22:28:09.000Z``). A time without a zone is taken as UTC."""
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def utc_now() -> str:
    return utc_text(datetime.now(UTC))
