"""Waiting for what the CRM does in the background (the relay, the queue consumers, the schedules)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tests.support.client import ApiClient

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, every: float = 0.2) -> T:
    """``check()`` until it answers something true or ``timeout`` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


def finished_job(client: ApiClient, location: str, timeout: float = 60.0) -> dict[str, Any]:
    """A background job (an import, an export) read at ``location`` until it has completed or failed."""

    def finished() -> dict[str, Any] | None:
        answer = client.get(location)
        assert answer.status_code == 200, answer.text
        current: dict[str, Any] = answer.json()
        return current if current["status"] in ("completed", "failed") else None

    done = eventually(finished, timeout=timeout)
    assert done, f"{location} did not finish"
    return done
