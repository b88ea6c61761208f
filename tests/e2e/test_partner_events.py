"""Inbound partner events: a registered source's lead.submitted creates (or updates) one lead; events of
unregistered sources, of removed sources, or naming another tenant change nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from tests.support.client import ApiClient


def put(source: str, tenant_id: str, lead: dict[str, Any], detail_type: str = "lead.submitted") -> None:
    entry = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps({"tenant_id": tenant_id, "lead": lead}),
        "EventBusName": "crm",
    }
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def contacts(client: ApiClient) -> list[dict[str, Any]]:
    return client.all_pages("/v1/contacts")


def settle(client: ApiClient, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(contacts(client)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # and nothing more arrives
    return contacts(client)


def test_registered_sources_only(client: ApiClient, other: ApiClient) -> None:
    registered = client.post("/v1/event-sources", {"source": "partner.acme", "description": "Acme forms"})
    assert registered.status_code == 201, registered.text
    assert client.post("/v1/event-sources", {"source": "partner.acme"}).status_code == 409

    put("partner.acme", client.tenant_id, {"email": "inbound@acme.example", "first_name": "Ina"})
    put(
        "partner.acme", client.tenant_id, {"email": "INBOUND@acme.example", "last_name": "Bound"}
    )  # the same lead
    put("partner.unknown", client.tenant_id, {"email": "stranger@acme.example"})
    put("partner.acme", other.tenant_id, {"email": "not-registered-there@acme.example"})
    put("partner.acme", client.tenant_id, {"email": "not-an-email"})

    found = settle(client, 1)
    assert [(c["email"], c["first_name"], c["last_name"], c["lifecycle_stage"]) for c in found] == [
        ("inbound@acme.example", "Ina", "Bound", "lead")
    ]
    assert contacts(other) == []
    timeline = client.get(f"/v1/contacts/{found[0]['id']}/timeline").json()["items"]
    assert timeline[-1]["actor"] == {"type": "system", "id": "partner.acme"}

    assert client.delete(f"/v1/event-sources/{registered.json()['id']}").status_code == 204
    put("partner.acme", client.tenant_id, {"email": "after-removal@acme.example"})
    assert len(settle(client, 2, timeout=3)) == 1
