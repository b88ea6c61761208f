"""Pipelines, deals and the board over HTTP (issue 3, first part)."""

from __future__ import annotations

from typing import Any

from tests.support.client import ApiClient


def default_pipeline(client: ApiClient) -> dict[str, Any]:
    pipelines = client.get("/v1/pipelines").json()["items"]
    assert len(pipelines) == 1
    pipeline: dict[str, Any] = pipelines[0]
    return pipeline


def stage(pipeline: dict[str, Any], name: str) -> str:
    stage_id: str = next(s["id"] for s in pipeline["stages"] if s["name"] == name)
    return stage_id


def test_every_tenant_starts_with_a_default_pipeline(client: ApiClient) -> None:
    pipeline = default_pipeline(client)
    kinds = [s["kind"] for s in pipeline["stages"]]
    assert kinds.count("open") >= 2 and kinds.count("won") == 1 and kinds.count("lost") == 1
    assert all(0 <= s["probability"] <= 1 for s in pipeline["stages"])
    assert pipeline["currency"] == "EUR"


def test_deal_defaults_exact_amounts_and_status_from_the_stage(client: ApiClient) -> None:
    pipeline = default_pipeline(client)
    created = client.post("/v1/deals", {"name": "Big one", "amount": "12500.10"})
    assert created.status_code == 201, created.text
    deal = created.json()
    assert deal["pipeline_id"] == pipeline["id"]
    assert deal["stage_id"] == pipeline["stages"][0]["id"]
    assert deal["amount"] == "12500.10" and deal["currency"] == "EUR"
    assert deal["status"] == "open" and deal["closed_at"] is None
    assert client.post("/v1/deals", {"name": "Float", "amount": 0.1}).json()["amount"] == "0.1"

    lost = client.patch(
        f"/v1/deals/{deal['id']}", {"stage_id": stage(pipeline, "Lost"), "lost_reason": "Price"}
    )
    assert lost.status_code == 200, lost.text
    assert (
        lost.json()["status"] == "lost" and lost.json()["closed_at"] and lost.json()["lost_reason"] == "Price"
    )
    reopened = client.patch(f"/v1/deals/{deal['id']}", {"stage_id": stage(pipeline, "Proposal")}).json()
    assert reopened["status"] == "open" and reopened["closed_at"] is None and reopened["lost_reason"] is None
    won = client.patch(f"/v1/deals/{deal['id']}", {"stage_id": stage(pipeline, "Won")}).json()
    assert won["status"] == "won" and won["closed_at"]

    timeline = client.get(f"/v1/deals/{deal['id']}/timeline").json()["items"]
    types = [e["type"] for e in timeline]
    assert types == [
        "deal.won",
        "deal.stage_changed",
        "deal.stage_changed",
        "deal.lost",
        "deal.stage_changed",
        "deal.created",
    ]
    moves = [e["changes"]["stage_id"] for e in timeline if e["type"] == "deal.stage_changed"]
    assert moves[-1] == {"from": stage(pipeline, "Qualified"), "to": stage(pipeline, "Lost")}
    assert all(e["actor"]["id"] == client.user_id for e in timeline)


def test_bad_deals_are_422_naming_the_field(client: ApiClient, other: ApiClient) -> None:
    foreign_stage = default_pipeline(other)["stages"][0]["id"]
    for body, field in (
        ({"name": "x", "stage_id": foreign_stage}, "stage_id"),
        ({"name": "x", "amount": "-1"}, "amount"),
        ({"name": "x", "amount": "1.23456"}, "amount"),
        ({"name": "x", "currency": "euro"}, "currency"),
        ({"name": "x", "pipeline_id": default_pipeline(other)["id"]}, "pipeline_id"),
        ({"name": "x", "status": "won"}, "status"),
        ({"amount": "5"}, "name"),
    ):
        response = client.post("/v1/deals", body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)
    assert client.get("/v1/deals").json()["items"] == []


def test_board_counts_totals_and_weights(client: ApiClient, other: ApiClient) -> None:
    pipeline = default_pipeline(client)
    qualified, proposal = stage(pipeline, "Qualified"), stage(pipeline, "Proposal")
    for amount in ("100.00", "250.50"):
        client.create("deals", {"name": f"Q {amount}", "amount": amount})
    moving = client.create("deals", {"name": "P", "amount": "1000", "stage_id": proposal})
    client.create("deals", {"name": "USD", "amount": "40", "currency": "USD", "stage_id": proposal})
    gone = client.create("deals", {"name": "Gone", "amount": "5"})
    client.delete(f"/v1/deals/{gone['id']}")
    other.create("deals", {"name": "Rival", "amount": "999999"})

    board = client.get(f"/v1/pipelines/{pipeline['id']}/board").json()
    columns = {c["stage_id"]: c for c in board["stages"]}
    assert [c["name"] for c in board["stages"]] == ["Qualified", "Proposal", "Negotiation"]
    assert columns[qualified]["count"] == 2
    assert columns[qualified]["total"] == {"amount": "350.50", "currency": "EUR"}
    assert columns[qualified]["weighted_total"] == {"amount": "70.10", "currency": "EUR"}
    assert columns[proposal]["count"] == 2
    assert columns[proposal]["total"] == {"amount": "1000.00", "currency": "EUR"}
    assert columns[proposal]["other_currencies"][0]["currency"] == "USD"
    assert sorted(d["name"] for d in columns[qualified]["deals"]) == ["Q 100.00", "Q 250.50"]

    client.patch(f"/v1/deals/{moving['id']}", {"stage_id": stage(pipeline, "Won")})
    client.patch(f"/v1/deals/{moving['id']}", {"amount": "2000"})  # a closed deal's amount is off the board
    after = {c["stage_id"]: c for c in client.get(f"/v1/pipelines/{pipeline['id']}/board").json()["stages"]}
    assert after[proposal]["count"] == 1 and after[proposal]["total"]["amount"] == "0.00"
    client.post(f"/v1/deals/{gone['id']}/restore")
    restored = {
        c["stage_id"]: c for c in client.get(f"/v1/pipelines/{pipeline['id']}/board").json()["stages"]
    }
    assert restored[qualified]["count"] == 3 and restored[qualified]["total"]["amount"] == "355.50"
    assert other.get(f"/v1/pipelines/{pipeline['id']}/board").status_code == 404


def test_board_pages_within_a_stage(client: ApiClient) -> None:
    pipeline = default_pipeline(client)
    for n in range(5):
        client.create("deals", {"name": f"Deal {n}", "amount": "1"})
    board = client.get(f"/v1/pipelines/{pipeline['id']}/board", params={"deals_per_stage": 2}).json()
    first = board["stages"][0]
    assert first["count"] == 5 and len(first["deals"]) == 2 and first["next_cursor"]
    rest = client.all_pages(
        "/v1/deals", {"stage_id": first["stage_id"], "cursor": first["next_cursor"], "limit": 2}
    )
    assert len(rest) == 3
    assert {d["id"] for d in rest}.isdisjoint({d["id"] for d in first["deals"]})


def test_custom_pipelines_and_stage_removal(client: ApiClient) -> None:
    created = client.post(
        "/v1/pipelines",
        {
            "name": "Renewals",
            "currency": "USD",
            "stages": [
                {"name": "Due", "probability": 0.6},
                {"name": "Late", "probability": 0.3},
                {"name": "Renewed", "kind": "won"},
                {"name": "Churned", "kind": "lost"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    pipeline = created.json()
    due = stage(pipeline, "Due")
    assert [s["probability"] for s in pipeline["stages"]] == [0.6, 0.3, 1.0, 0.0]
    deal = client.create("deals", {"name": "Renewal", "pipeline_id": pipeline["id"], "amount": "10"})
    assert deal["stage_id"] == due and deal["currency"] == "USD"

    kept = [s for s in pipeline["stages"] if s["id"] != due]
    refused = client.patch(f"/v1/pipelines/{pipeline['id']}", {"stages": kept})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "stages"
    assert client.delete(f"/v1/pipelines/{pipeline['id']}").status_code == 409

    added = client.patch(
        f"/v1/pipelines/{pipeline['id']}",
        {"stages": [*pipeline["stages"], {"name": "At risk", "probability": 0.3}]},
    )
    assert added.status_code == 200 and len(added.json()["stages"]) == 5
    assert (
        client.patch(f"/v1/pipelines/{pipeline['id']}", {"stages": [{"id": "nope", "name": "X"}]}).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/pipelines", {"name": "No open", "stages": [{"name": "W", "kind": "won"}]}
        ).status_code
        == 422
    )

    client.patch(f"/v1/deals/{deal['id']}", {"stage_id": stage(pipeline, "Renewed")})
    assert client.patch(f"/v1/pipelines/{pipeline['id']}", {"stages": kept}).status_code == 200


def test_company_deals_and_isolation(client: ApiClient, other: ApiClient) -> None:
    company = client.create("companies", {"name": "Buyer"})
    deal = client.create("deals", {"name": "For Buyer", "company_id": company["id"]})
    assert [d["id"] for d in client.get(f"/v1/companies/{company['id']}/deals").json()["items"]] == [
        deal["id"]
    ]
    assert other.get(f"/v1/companies/{company['id']}/deals").status_code == 404
    for method, path in (
        ("GET", f"/v1/deals/{deal['id']}"),
        ("PATCH", f"/v1/deals/{deal['id']}"),
        ("DELETE", f"/v1/deals/{deal['id']}"),
        ("GET", f"/v1/deals/{deal['id']}/timeline"),
        ("GET", f"/v1/pipelines/{deal['pipeline_id']}"),
        ("PATCH", f"/v1/pipelines/{deal['pipeline_id']}"),
    ):
        response = other.request(method, path, json_body={"name": "x"} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
    assert other.get("/v1/deals").json()["items"] == []
    assert client.get(f"/v1/deals/{deal['id']}").json()["name"] == "For Buyer"


def test_deal_filters(client: ApiClient) -> None:
    pipeline = default_pipeline(client)
    early = client.create("deals", {"name": "Early", "close_date": "2026-01-15"})
    late = client.create(
        "deals", {"name": "Late", "close_date": "2026-12-15", "stage_id": stage(pipeline, "Won")}
    )

    def ids(**params: str) -> set[str]:
        return {d["id"] for d in client.all_pages("/v1/deals", params)}

    assert ids(status="won") == {late["id"]}
    assert ids(close_before="2026-06-30") == {early["id"]}
    assert ids(close_after="2026-06-30") == {late["id"]}
    assert ids(pipeline_id=pipeline["id"]) == {early["id"], late["id"]}
    assert ids(stage_id=stage(pipeline, "Qualified")) == {early["id"]}
    assert ids(owner_id=client.user_id, status="open") == {early["id"]}


def test_amounts_are_answered_in_plain_digits_and_probabilities_to_four_places(client: ApiClient) -> None:
    """An amount sent in exponent form or as -0 reads back as a partner would write it; a probability too
    fine for a DynamoDB number is kept to 4 decimal places."""
    assert client.create("deals", {"name": "Big", "amount": "1e10"})["amount"] == "10000000000"
    assert client.create("deals", {"name": "Zero", "amount": "-0"})["amount"] == "0"
    assert client.create("deals", {"name": "Cents", "amount": "12500.50"})["amount"] == "12500.50"
    pipeline = client.create(
        "pipelines",
        {
            "name": "Fine",
            "stages": [{"name": "Maybe", "probability": 1e-200}, {"name": "Third", "probability": 1 / 3}],
        },
    )
    assert [s["probability"] for s in pipeline["stages"]] == [0.0, 0.3333]
