"""Waiting for what the CRM does in the background (the relay, the queue consumers, the schedules)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, every: float = 0.2) -> T:
    """``check()`` until it answers something true or ``timeout`` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)
