"""Ordinary input never answers 500: what one write may hold (a record's size, the entries one change
adds and removes) is capped and refused with a 422 naming the field, and a batch answers every input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.properties import define_properties

KB = 1024


@pytest.fixture
def tap(runtime: LocalRuntime, client: ApiClient) -> Iterator[BusTap]:
    yield BusTap(runtime, client.tenant_id)


def problem_fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def test_a_second_contact_with_the_same_name_and_phone_is_one_recorded_pair(client: ApiClient) -> None:
    body = {"first_name": "Grace", "last_name": "Hopper", "phone": "+1 555 0100 200"}
    first = client.create("contacts", body)
    second = client.post("/v1/contacts", body)
    assert second.status_code == 201, second.text
    pairs = client.get("/v1/contacts/duplicates").json()["items"]
    assert [sorted(p["ids"]) for p in pairs] == [sorted([first["id"], second.json()["id"]])]


def test_a_batch_answers_every_input_even_when_one_fails_badly(client: ApiClient) -> None:
    same = {"first_name": "Alan", "last_name": "Turing", "phone": "+44 161 555 0199"}
    inputs = [same, same, {"email": "ok@limits.example"}, {"custom": {"big": "x" * 70_000}}]
    response = client.post("/v1/contacts/batch/create", {"inputs": inputs})
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == [201, 201, 201, 422]
    assert len(client.all_pages("/v1/contacts")) == 3


def test_a_change_too_big_for_one_transaction_is_422_naming_the_field(client: ApiClient) -> None:
    ids = []
    for start in (0, 50):  # two batches: a batch of 100 can outlast the client's timeout on a busy machine
        inputs = [{"last_name": f"C{n}"} for n in range(start, start + 50)]
        ids += [
            r["id"] for r in client.post("/v1/contacts/batch/create", {"inputs": inputs}).json()["results"]
        ]
    assert len(ids) == 100 and all(ids)
    deal = client.create("deals", {"name": "Crowded", "contact_ids": ids[:50]})
    response = client.patch(f"/v1/deals/{deal['id']}", {"contact_ids": ids[50:]})
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"contact_ids"}
    after = client.get(f"/v1/deals/{deal['id']}").json()
    assert after["version"] == 1 and after["contact_ids"] == ids[:50]
    # A change that fits is made.
    smaller = client.patch(f"/v1/deals/{deal['id']}", {"contact_ids": ids[:25] + ids[50:70]})
    assert smaller.status_code == 200, smaller.text


def test_values_and_records_have_size_caps(client: ApiClient) -> None:
    too_long = client.post(
        "/v1/contacts", {"email": "long@limits.example", "custom": {"notes": "x" * 150 * KB}}
    )
    assert too_long.status_code == 422 and problem_fields(too_long) == {"custom"}
    many = {f"p{n}": "y" * 9_000 for n in range(60)}  # each value allowed, the record 540 KB
    too_big = client.post("/v1/contacts", {"email": "big@limits.example", "custom": many})
    assert too_big.status_code == 422, too_big.text
    assert problem_fields(too_big) == {"custom.p0"}
    assert "64 KB" in too_big.json()["errors"][0]["message"]
    assert client.all_pages("/v1/contacts") == []


def test_the_largest_record_changes_and_publishes_its_event(client: ApiClient, tap: BusTap) -> None:
    """A record at its size cap, changed in full: the event (the record, the old and the new value) still
    fits EventBridge's 256 KB entry, and arrives."""
    near_cap = {f"p{n}": "é" * 1_500 for n in range(6)}  # non-ASCII: escaped six bytes a character
    define_properties(client, "contacts", dict.fromkeys(near_cap, "string"))
    contact = client.create("contacts", {"email": "cap@limits.example", "custom": near_cap})
    changed = {name: "ü" * 1_500 for name in near_cap}
    response = client.patch(f"/v1/contacts/{contact['id']}", {"custom": changed})
    assert response.status_code == 200, response.text

    events = [e for e in tap.drain(expected=2) if e["detail-type"] == "contact.updated"]
    assert len(events) == 1, "the update's event never reached the bus"
    detail = events[0]["detail"]
    assert detail["changes"]["custom"]["to"] == changed
    assert len(json.dumps(detail)) < 256 * KB
