"""A crash between a change's commit and its publication loses nothing: the relay retries from the
stream position it had, so the event still arrives, once."""

from __future__ import annotations

from typing import Any

import pytest

from crm_local.runtime import LocalRuntime
from tests.e2e.test_events import BusTap
from tests.support.client import ApiClient


def test_a_failed_publish_is_retried_from_the_stream(
    runtime: LocalRuntime, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.outbox_relay import handler as relay_function

    tap = BusTap(runtime, client.tenant_id)
    publish = relay_function.publish
    injected: list[int] = []

    def bus_down_once(entries: list[dict[str, Any]], events_client: Any) -> None:
        if not injected and any(client.tenant_id in entry["Detail"] for entry in entries):
            injected.append(len(entries))
            raise ConnectionError("the bus is unreachable (injected)")
        publish(entries, events_client)

    monkeypatch.setattr(relay_function, "publish", bus_down_once)
    contact = client.create("contacts", {"email": "survives@example.com"})
    try:
        events = tap.drain(expected=1, timeout=15)
    finally:
        assert runtime.relay is not None
        seen_error, runtime.relay.error = runtime.relay.error, None  # expected here; not a fault of the run
    assert injected, "the fault was never injected"
    assert isinstance(seen_error, ConnectionError)
    assert [(e["detail-type"], e["detail"]["data"]["id"]) for e in events] == [
        ("contact.created", contact["id"])
    ]
