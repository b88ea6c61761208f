"""Inbound leads: one contact per email however often the lead arrives."""

from __future__ import annotations

from tests.support.client import ApiClient


def test_a_lead_creates_then_updates_one_contact(client: ApiClient, other: ApiClient) -> None:
    first = client.post(
        "/v1/inbound/leads", {"email": "Lead@Example.com", "first_name": "Lee", "tags": ["webinar"]}
    )
    assert first.status_code == 201, first.text
    contact = first.json()["contact"]
    assert first.json()["result"] == "created"
    assert contact["lifecycle_stage"] == "lead" and contact["source"] == "inbound"

    again = client.post(
        "/v1/inbound/leads",
        {"email": "lead@example.com", "last_name": "Ads", "phone": "+1 555 0100", "tags": ["trial"]},
    )
    assert again.status_code == 200 and again.json()["result"] == "updated"
    updated = again.json()["contact"]
    assert updated["id"] == contact["id"]
    assert (updated["first_name"], updated["last_name"], updated["phone"]) == ("Lee", "Ads", "+1 555 0100")
    assert updated["tags"] == ["webinar", "trial"]
    assert len(client.all_pages("/v1/contacts")) == 1

    client.patch(f"/v1/contacts/{contact['id']}", {"lifecycle_stage": "customer"})
    third = client.post("/v1/inbound/leads", {"email": "lead@example.com"}).json()["contact"]
    assert third["lifecycle_stage"] == "customer"  # a returning lead never moves a customer back
    # Another tenant's form creates its own contact.
    assert other.post("/v1/inbound/leads", {"email": "lead@example.com"}).status_code == 201


def test_a_lead_needs_a_valid_email(client: ApiClient) -> None:
    for body in ({"first_name": "No email"}, {"email": "nope"}, {"email": "x@example.com", "id": "forged"}):
        response = client.post("/v1/inbound/leads", body)
        assert response.status_code == 422, body
    assert client.all_pages("/v1/contacts") == []


def test_a_retried_lead_with_an_idempotency_key_is_answered_once(client: ApiClient) -> None:
    headers = {"Idempotency-Key": "form-submission-1"}
    first = client.post("/v1/inbound/leads", {"email": "once@example.com"}, headers=headers)
    second = client.post("/v1/inbound/leads", {"email": "once@example.com"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    timeline = client.get(f"/v1/contacts/{first.json()['contact']['id']}/timeline").json()["items"]
    assert [e["type"] for e in timeline] == ["contact.created"]
