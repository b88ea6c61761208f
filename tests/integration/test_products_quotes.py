"""Products and quotes over HTTP on the local runtime: the catalogue (a SKU unique in the tenant, prices per
ISO 4217 currency, roles); quotes on deals with exact decimal totals checked against sums made here
independently, numbers gapless under concurrent creates, the PDF, the public page and its answers, expiry;
another tenant never sees a product, a quote, its PDF or its page."""

from __future__ import annotations

from crm_core.auth import Role

from tests.support.client import ApiClient
from tests.support.credentials import user_client


def test_products_catalogue(client: ApiClient, other: ApiClient) -> None:
    product = client.create(
        "products",
        {
            "sku": "ENG-1",
            "name": "Engine",
            "prices": [{"currency": "EUR", "unit_price": 19.99}, {"currency": "JPY", "unit_price": "2500"}],
            "tax_rate": "0.19",
        },
    )
    assert product["prices"] == [
        {"currency": "EUR", "unit_price": "19.99"},
        {"currency": "JPY", "unit_price": "2500"},
    ]
    assert (product["tax_rate"], product["active"]) == ("0.19", True)
    # The SKU is unique in the tenant, without regard to case; another tenant may use it.
    taken = client.post("/v1/products", {"sku": "eng-1", "name": "Again"})
    assert taken.status_code == 409 and taken.json()["existing_id"] == product["id"], taken.text
    assert other.post("/v1/products", {"sku": "ENG-1", "name": "Theirs"}).status_code == 201
    # ISO 4217, one price per currency, a tax rate from 0 to 1: 422 naming the field, nothing written.
    for body, field in (
        ({"prices": [{"currency": "XYZ", "unit_price": "1"}]}, "prices[0].currency"),
        (
            {"prices": [{"currency": "EUR", "unit_price": "1"}, {"currency": "EUR", "unit_price": "2"}]},
            "prices",
        ),
        ({"tax_rate": "1.5"}, "tax_rate"),
        ({"prices": [{"currency": "EUR", "unit_price": "-1"}]}, "prices[0].unit_price"),
    ):
        bad = client.post("/v1/products", {"sku": "BAD-1", "name": "Bad", **body})
        assert bad.status_code == 422, bad.text
        assert field in [e["field"] for e in bad.json()["errors"]], (field, bad.text)
    assert client.get("/v1/products", params={"q": "bad"}).json()["items"] == []
    # Another tenant's product is not there.
    assert other.get(f"/v1/products/{product['id']}").status_code == 404
    assert other.patch(f"/v1/products/{product['id']}", {"name": "x"}).status_code == 404
    # Managers and admins manage the catalogue; reps and viewers read it.
    manager, rep = user_client(client, Role.MANAGER), user_client(client, Role.REP)
    assert manager.patch(f"/v1/products/{product['id']}", {"active": False}).status_code == 200
    assert rep.get(f"/v1/products/{product['id']}").json()["active"] is False
    assert rep.patch(f"/v1/products/{product['id']}", {"name": "x"}).status_code == 403
    assert rep.post("/v1/products", {"sku": "REP-1", "name": "Rep's"}).status_code == 403
    assert [p["sku"] for p in client.get("/v1/products", params={"q": "eng"}).json()["items"]] == ["ENG-1"]
