"""The OpenAPI document's models describe the real answers: each is validated with unknown fields refused,
so a field the code adds or renames without the document fails here."""

from __future__ import annotations

from typing import Any

import requests
from crm_core.http.api_docs import (
    Problem,
    TimelineEntry,
    batch_results_model,
    duplicate_pair_model,
    list_page_model,
    merge_result_model,
    page_model,
)
from pydantic import BaseModel

from functions.contacts.companies_routes import Company
from functions.contacts.contacts_routes import Contact
from tests.support.client import ApiClient
from tests.support.properties import define_properties


def conforms(model: type[BaseModel], response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    model.model_validate(body, strict=False)
    return body


def test_records_pages_and_batches_match_their_models(client: ApiClient) -> None:
    company = conforms(
        Company, client.post("/v1/companies", {"name": "Docs Ltd", "domain": "docs.example"}), 201
    )
    define_properties(client, "contacts", {"score": "number"})
    contact = conforms(
        Contact,
        client.post(
            "/v1/contacts",
            {
                "first_name": "Doc",
                "last_name": "Umented",
                "email": "doc@docs.example",
                "company_id": company["id"],
                "tags": ["x"],
                "consent": {"email": "granted"},
                "custom": {"score": 3},
            },
        ),
        201,
    )
    conforms(Contact, client.get(f"/v1/contacts/{contact['id']}"), 200)
    conforms(list_page_model("ContactPage", Contact), client.get("/v1/contacts"), 200)
    conforms(list_page_model("ContactPage", Contact), client.get("/v1/contacts", params={"q": "doc"}), 200)
    conforms(list_page_model("CompanyPage", Company), client.get("/v1/companies"), 200)
    conforms(page_model("P", TimelineEntry), client.get(f"/v1/contacts/{contact['id']}/timeline"), 200)
    client.post("/v1/contacts", {"first_name": "doc", "last_name": "umented"})
    pairs = conforms(
        page_model("D", duplicate_pair_model("ContactDuplicatePair", "contacts", Contact)),
        client.get("/v1/contacts/duplicates"),
        200,
    )
    assert pairs["items"]
    results = conforms(
        batch_results_model("ContactBatchResults", Contact),
        client.post(
            "/v1/contacts/batch/create", {"inputs": [{"email": "b1@docs.example"}, {"email": "bad"}]}
        ),
        200,
    )
    assert [r["status"] for r in results["results"]] == [201, 422]
    twin = client.create("contacts", {"first_name": "Twin"})
    merged = conforms(
        merge_result_model("ContactMergeResult", Contact),
        client.post(f"/v1/contacts/{contact['id']}/merge", {"duplicate_id": twin["id"]}),
        200,
    )
    assert merged["pending_moves"] == []


def test_problems_match_the_problem_model(client: ApiClient, anonymous: ApiClient) -> None:
    contact = client.create("contacts", {"email": "p@docs.example"})
    conforms(Problem, anonymous.get("/v1/contacts"), 401)
    conforms(Problem, client.get("/v1/contacts/01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404)
    conforms(Problem, client.post("/v1/contacts", {"email": "p@docs.example"}), 409)
    conforms(
        Problem,
        client.patch(f"/v1/contacts/{contact['id']}", {"title": "x"}, headers={"If-Match": '"9"'}),
        412,
    )
    conforms(Problem, client.post("/v1/contacts", {"email": 3, "nope": True}), 422)
    conforms(Problem, client.get("/v1/contacts", params={"cursor": "forged"}), 400)
