"""A change may not leave a record as no create could make it: what a type requires stays (422 naming the
field), and nothing is written."""

from __future__ import annotations

import pytest
from crm_core.auth import Role

from tests.support.client import ApiClient
from tests.support.credentials import user_client


@pytest.mark.parametrize(
    ("collection", "body", "cleared"),
    [
        ("deals", {"name": "Named"}, {"name": None}),
        ("activities", {"type": "call", "subject": "Typed"}, {"type": None}),
        ("companies", {"name": "Named Ltd"}, {"name": None}),
        ("contacts", {"email": "only@rules.example"}, {"email": None}),
    ],
)
def test_what_a_type_requires_cannot_be_cleared(
    client: ApiClient, collection: str, body: dict[str, str], cleared: dict[str, None]
) -> None:
    record = client.create(collection, body)
    response = client.patch(f"/v1/{collection}/{record['id']}", cleared)
    assert response.status_code == 422, response.text
    after = client.get(f"/v1/{collection}/{record['id']}").json()
    assert after["version"] == 1 and all(after[k] == body[k] for k in body)


def test_a_contact_keeps_one_identifying_field(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "two@rules.example", "phone": "+1 555 0100 300"})
    assert client.patch(f"/v1/contacts/{contact['id']}", {"email": None}).status_code == 200
    last = client.patch(f"/v1/contacts/{contact['id']}", {"phone": None})
    assert last.status_code == 422
    assert client.get(f"/v1/contacts/{contact['id']}").json()["phone"] == "+1 555 0100 300"


def test_a_viewers_all_or_none_batch_is_403_not_422(client: ApiClient) -> None:
    viewer = user_client(client, Role.VIEWER)
    response = viewer.post(
        "/v1/contacts/batch/create",
        {"inputs": [{"email": "v@rules.example"}]},
        params={"all_or_none": "true"},
    )
    assert response.status_code == 403, response.text
    assert client.all_pages("/v1/contacts") == []
