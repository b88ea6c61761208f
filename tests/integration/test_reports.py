"""Reports over HTTP on the local runtime (issue 16, docs/decisions/0020): records made through the API reach
the analytics files through the exporter, and each report's rows are the numbers this test computes on its
own from the same records read back over HTTP. Another tenant's rows never appear; the files hold no
personal data; compaction and a full re-export change no answer."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
import requests
from crm_core.config import settings
from crm_core.reports import store
from crm_core.services import analytics_export as exporter

from crm_local.cli import main
from crm_local.runtime import LocalRuntime
from tests.conftest import new_tenant_client
from tests.integration.test_cli import crm_dev, tenant_create
from tests.support.client import ApiClient
from tests.support.waiting import eventually

REPORTS = (
    "pipeline",
    "forecast",
    "win-rate",
    "sales-velocity",
    "activities",
    "lifecycle-funnel",
    "customer-value",
    "csat",
    "nps",
)
# The revenue reports, listed after usage: tests/integration/test_contracts.py checks their numbers.
REVENUE = ("bookings", "receivables-aging", "renewals", "product-revenue")
FUNNEL = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist")
SECRET = "Zebulon-Quixotic"  # in every personal field and free text: must be in no analytics file


def report(client: ApiClient, name: str, **params: str) -> dict[str, Any]:
    answer = client.get(f"/v1/reports/{name}", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"name", "params", "rows", "data_as_of"} and body["name"] == name
    return body


def stage_of(pipeline: dict[str, Any], kind: str, n: int = 0) -> dict[str, Any]:
    stage: dict[str, Any] = [s for s in pipeline["stages"] if s["kind"] == kind][n]
    return stage


def created(client: ApiClient, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/v1/{collection}", body)
    assert answer.status_code == 201, answer.text
    record: dict[str, Any] = answer.json()
    return record


def make_tenant_data(client: ApiClient) -> None:
    """Deals in every kind of stage (one moved after it was made, one archived), companies, contacts at
    several lifecycle stages (one archived), activities; personal fields and free text carry SECRET."""
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    for name, kind in (("score", "number"), ("remark", "string")):
        made = client.post("/v1/properties/deals", {"name": name, "label": name.title(), "type": kind})
        assert made.status_code == 201, made.text
    companies = [created(client, "companies", {"name": f"{SECRET} Co {n}"})["id"] for n in range(3)]
    open1, open2 = stage_of(pipeline, "open", 0)["id"], stage_of(pipeline, "open", 1)["id"]
    won, lost = stage_of(pipeline, "won")["id"], stage_of(pipeline, "lost")["id"]
    deals = [
        (open1, "1000", "2030-01-15", None),
        (open2, "2500.50", "2030-02-10", None),
        (open1, "300", "2030-01-20", companies[2]),
        (won, "5000", "2029-12-01", companies[0]),
        (won, "700", "2030-01-05", companies[1]),
        (lost, "400", "2030-01-07", None),
        (won, "100", "2030-03-01", companies[2]),
    ]
    for stage_id, amount, close, company in deals:
        body = {"name": f"{SECRET} deal", "stage_id": stage_id, "amount": amount, "close_date": close}
        created(client, "deals", {**body, "company_id": company, "custom": {"score": 7, "remark": SECRET}})
    moved = created(client, "deals", {"name": "Moved", "amount": "50", "close_date": "2030-01-02"})
    moved_to_won = client.patch(f"/v1/deals/{moved['id']}", {"stage_id": won, "company_id": companies[1]})
    assert moved_to_won.status_code == 200, moved_to_won.text
    archived = created(client, "deals", {"name": "Gone", "amount": "9999", "close_date": "2030-01-01"})
    assert client.delete(f"/v1/deals/{archived['id']}").status_code == 204

    for n, stage in enumerate(("lead", "lead", "lead", "customer", "customer", "subscriber")):
        created(
            client,
            "contacts",
            {
                "first_name": SECRET,
                "last_name": f"Person{n}",
                "email": f"zebulon{n}@example.com",
                "phone": f"+4930123456{n}",
                "lifecycle_stage": stage,
            },
        )
    gone = created(client, "contacts", {"first_name": SECRET, "lifecycle_stage": "lead"})
    assert client.delete(f"/v1/contacts/{gone['id']}").status_code == 204
    for kind, done in (("call", True), ("call", False), ("note", False), ("task", True)):
        body: dict[str, Any] = {"type": kind, "subject": f"{SECRET} {kind}", "body": SECRET}
        if done:
            body["completed_at"] = "2030-01-01T10:00:00.000Z"
        created(client, "activities", body)


def expected(client: ApiClient) -> dict[str, Any]:
    """Every report's numbers, from the tenant's records as the API lists them."""
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    probability = {s["id"]: s["probability"] for s in pipeline["stages"]}
    deals = client.all_pages("/v1/deals", {"limit": 100})
    contacts = client.all_pages("/v1/contacts", {"limit": 100})
    activities = client.all_pages("/v1/activities", {"limit": 100})
    amount = {d["id"]: float(d["amount"] or 0) for d in deals}

    stages = {
        s["id"]: {
            "count": sum(1 for d in deals if d["stage_id"] == s["id"]),
            "amount": sum(amount[d["id"]] for d in deals if d["stage_id"] == s["id"]),
            "weighted_amount": sum(
                amount[d["id"]] * probability[s["id"]] for d in deals if d["stage_id"] == s["id"]
            ),
        }
        for s in pipeline["stages"]
    }
    forecast: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d in deals:
        period = forecast[d["close_date"][:7]]
        if d["status"] == "open":
            period["open_count"] += 1
            period["open_amount"] += amount[d["id"]]
            period["weighted_amount"] += amount[d["id"]] * probability[d["stage_id"]]
        elif d["status"] == "won":
            period["won_amount"] += amount[d["id"]]
    won = [d for d in deals if d["status"] == "won"]
    lost = [d for d in deals if d["status"] == "lost"]
    opened = [d for d in deals if d["status"] == "open"]
    cycle = [
        (date.fromisoformat(d["closed_at"][:10]) - date.fromisoformat(d["created_at"][:10])).days for d in won
    ]
    average_won = sum(amount[d["id"]] for d in won) / len(won)
    win_rate = len(won) / (len(won) + len(lost))

    revenue: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in won:
        if d["company_id"]:
            revenue[d["company_id"]].append(d)
    ordered = sorted(revenue, key=lambda c: (-sum(amount[d["id"]] for d in revenue[c]), c))
    total = sum(amount[d["id"]] for d in won if d["company_id"])
    tiers, before = {}, 0.0
    for company in ordered:
        tiers[company] = "A" if before < 0.8 * total else "B" if before < 0.95 * total else "C"
        before += sum(amount[d["id"]] for d in revenue[company])
    today = datetime.now(UTC).date()
    customers = [
        {
            "company_id": company,
            "revenue": sum(amount[d["id"]] for d in revenue[company]),
            "won_deals": len(revenue[company]),
            "recency_days": (
                today - date.fromisoformat(max(d["closed_at"] for d in revenue[company])[:10])
            ).days,
            "tier": tiers[company],
        }
        for company in ordered
    ]
    stage_counts = Counter(c["lifecycle_stage"] for c in contacts)
    return {
        "pipeline": stages,
        "forecast": {period: dict(values) for period, values in forecast.items()},
        "win-rate": {"won": len(won), "lost": len(lost), "win_rate": win_rate},
        "sales-velocity": {
            "open_deals": len(opened),
            "won_deals": len(won),
            "lost_deals": len(lost),
            "win_rate": win_rate,
            "average_won_amount": average_won,
            "average_cycle_days": sum(cycle) / len(cycle),
            "velocity_per_day": len(opened) * average_won * win_rate / max(sum(cycle) / len(cycle), 1.0),
        },
        "activities": {
            kind: (
                sum(1 for a in activities if a["type"] == kind),
                sum(1 for a in activities if a["type"] == kind and a["completed_at"]),
            )
            for kind in {a["type"] for a in activities}
        },
        "lifecycle-funnel": [
            (stage, stage_counts[stage], sum(stage_counts[s] for s in FUNNEL[n:]))
            for n, stage in enumerate(FUNNEL)
        ],
        "customer-value": customers,
    }


def close(a: float, b: float) -> bool:
    return abs(a - b) < 0.01


def matches(client: ApiClient, want: dict[str, Any]) -> bool:
    """Whether every report answers the expected numbers (polled: the exporter works in the background)."""
    pipeline = report(client, "pipeline")["rows"]
    got_stages = {row["stage_id"]: row for row in pipeline}
    if set(got_stages) != set(want["pipeline"]):
        return False
    for stage_id, numbers in want["pipeline"].items():
        if not all(close(got_stages[stage_id][k], v) for k, v in numbers.items()):
            return False
    funnel = [(r["stage"], r["count"], r["reached"]) for r in report(client, "lifecycle-funnel")["rows"]]
    activities = {r["group_id"]: (r["count"], r["completed"]) for r in report(client, "activities")["rows"]}
    customers = report(client, "customer-value")["rows"]
    return (
        funnel == want["lifecycle-funnel"]
        and activities == want["activities"]
        and [(c["company_id"], c["won_deals"]) for c in customers]
        == [(c["company_id"], c["won_deals"]) for c in want["customer-value"]]
    )


def tenant_strings(tenant_id: str) -> list[str]:
    """Every string value in the tenant's analytics files (list columns flattened)."""
    s3 = boto3.client("s3")
    values: list[str] = []
    for stored in store.tenant_files(tenant_id):
        content = s3.get_object(Bucket=settings().analytics_bucket, Key=stored.key)["Body"].read()
        for column in pq.read_table(io.BytesIO(content)).to_pylist():
            for value in column.values():
                items = value if isinstance(value, list) else [value]
                values += [v for v in items if isinstance(v, str)]
    return values


@pytest.fixture(scope="module")
def reported(base_url: str) -> tuple[ApiClient, ApiClient, dict[str, Any]]:
    mine, theirs = new_tenant_client(base_url), new_tenant_client(base_url)
    make_tenant_data(mine)
    created(
        theirs,
        "deals",
        {
            "name": "Theirs",
            "amount": "777",
            "stage_id": stage_of(theirs.get("/v1/pipelines").json()["items"][0], "won")["id"],
        },
    )
    want = expected(mine)
    assert eventually(lambda: matches(mine, want), timeout=90, every=0.5), "the reports caught up"
    return mine, theirs, want


def test_every_report_answers_the_numbers_of_the_records(
    reported: tuple[ApiClient, ApiClient, dict[str, Any]],
) -> None:
    client, _, want = reported
    listed = client.get("/v1/reports").json()["items"]
    # campaigns, tickets, sla: their tests below; usage: tests/integration/test_usage.py
    assert [r["name"] for r in listed] == [*REPORTS, "campaigns", "tickets", "sla", "usage", *REVENUE]
    assert {r["chart"] for r in listed} <= {"bar", "line", "pie", "funnel"}

    pipeline = report(client, "pipeline")
    assert all(
        set(row) >= {"stage_id", "stage_name", "count", "amount", "weighted_amount"}
        for row in pipeline["rows"]
    )
    assert pipeline["params"] == {"from": None, "to": None, "owner_id": None, "pipeline_id": None}
    assert pipeline["data_as_of"] and pipeline["data_as_of"] <= datetime.now(UTC).isoformat()

    forecast = {r["period"]: r for r in report(client, "forecast")["rows"]}
    assert set(forecast) == set(want["forecast"])
    for period, numbers in want["forecast"].items():
        for key in ("open_count", "open_amount", "weighted_amount", "won_amount"):
            assert close(forecast[period][key], numbers.get(key, 0)), (period, key, forecast[period])
    january = report(client, "forecast", **{"from": "2030-01-01", "to": "2030-01-31"})["rows"]
    assert [r["period"] for r in january] == ["2030-01"]

    rates = report(client, "win-rate")["rows"]
    assert [(r["group_id"], r["won"], r["lost"]) for r in rates] == [
        (client.user_id, want["win-rate"]["won"], want["win-rate"]["lost"])
    ]
    assert close(rates[0]["win_rate"], want["win-rate"]["win_rate"])
    by_pipeline = report(client, "win-rate", group_by="pipeline")
    assert by_pipeline["params"]["group_by"] == "pipeline"
    assert by_pipeline["rows"][0]["group_id"] == client.get("/v1/pipelines").json()["items"][0]["id"]

    velocity = report(client, "sales-velocity")["rows"]
    assert len(velocity) == 1
    for key, value in want["sales-velocity"].items():
        assert close(velocity[0][key], value), (key, velocity[0])

    customers = report(client, "customer-value")["rows"]
    for got, wanted in zip(customers, want["customer-value"], strict=True):
        assert got["company_id"] == wanted["company_id"] and got["tier"] == wanted["tier"], (got, wanted)
        assert close(got["revenue"], wanted["revenue"]) and got["recency_days"] == wanted["recency_days"]
    assert report(client, "activities", group_by="owner")["rows"][0]["count"] == sum(
        n for n, _ in want["activities"].values()
    )


def test_another_tenants_rows_never_appear_and_no_personal_data_is_exported(
    reported: tuple[ApiClient, ApiClient, dict[str, Any]],
) -> None:
    mine, theirs, _ = reported
    their_won = eventually(lambda: report(theirs, "win-rate")["rows"], timeout=60)
    assert [(r["won"], r["won_amount"]) for r in their_won] == [(1, 777)]
    their_stages = report(theirs, "pipeline")["rows"]
    assert sum(r["count"] for r in their_stages) == 1
    assert report(theirs, "customer-value")["rows"] == []
    assert report(theirs, "lifecycle-funnel")["rows"][1]["count"] == 0
    # Asked for with the first tenant's own owner and pipeline ids, the other tenant still sees only its own.
    mine_pipeline = mine.get("/v1/pipelines").json()["items"][0]["id"]
    assert sum(r["count"] for r in report(theirs, "pipeline", owner_id=mine.user_id)["rows"]) == 0
    assert report(theirs, "pipeline", pipeline_id=mine_pipeline)["rows"] == []

    strings = tenant_strings(mine.tenant_id)
    assert strings and not [s for s in strings if SECRET.lower() in s.lower() or "@" in s or "+49" in s]
    assert any('"score":7' in s for s in strings), "a number custom property is exported"


def test_bad_parameters_and_unknown_reports(reported: tuple[ApiClient, ApiClient, dict[str, Any]]) -> None:
    client = reported[0]
    missing = client.get("/v1/reports/no-such-report")
    assert missing.status_code == 404, missing.text
    for name, params, field in (
        ("pipeline", {"from": "2030-13-01"}, "from"),
        ("pipeline", {"to": "yesterday"}, "to"),
        ("pipeline", {"owner_id": "not-an-id"}, "owner_id"),
        ("forecast", {"pipeline_id": "x"}, "pipeline_id"),
        ("win-rate", {"group_by": "stage"}, "group_by"),
        ("lifecycle-funnel", {"pipeline_id": "01JHC1DEA10000000000000001"}, "pipeline_id"),
        ("pipeline", {"from": "2030-02-01", "to": "2030-01-01"}, "to"),
        ("pipeline", {"limit": "3"}, "limit"),
    ):
        answer = client.get(f"/v1/reports/{name}", params=params)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text


def test_new_data_compaction_and_reexport(
    reported: tuple[ApiClient, ApiClient, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    runtime: LocalRuntime,
) -> None:
    client = reported[0]
    before = report(client, "pipeline")
    assert report(client, "pipeline") == before  # answered again from the cache

    deal = created(client, "deals", {"name": "Late", "amount": "1", "close_date": "2031-05-05"})
    later = eventually(
        lambda: (a := report(client, "pipeline"))["data_as_of"] > before["data_as_of"] and a, timeout=60
    )
    assert later, "a new change lands in the report"
    assert sum(r["count"] for r in later["rows"]) == sum(r["count"] for r in before["rows"]) + 1
    assert later["data_as_of"] >= deal["updated_at"][:19]

    # A batch delivered again writes the same file; the same version in another batch is read once; an event
    # whose record is another tenant's is not written under this tenant.
    current = client.get(f"/v1/deals/{deal['id']}").json()
    detail = {
        "id": "01JHC0EVENT000000000000001",
        "type": "deal.updated",
        "tenant_id": client.tenant_id,
        "occurred_at": current["updated_at"],
        "data": current,
    }
    first = exporter.export_events([detail])
    assert exporter.export_events([detail]) == first and len(first) == 1
    exporter.export_events([{**detail, "id": "01JHC0EVENT000000000000002"}])
    assert exporter.export_events([{**detail, "tenant_id": reported[1].tenant_id}]) == []
    assert report(client, "pipeline")["rows"] == later["rows"]

    runtime.usage.flush()  # the usage lines of the requests so far (each is gathered before it answers)
    files = store.tenant_files(client.tenant_id)
    counts = exporter.compact(client.tenant_id, today="9999-12-31")
    assert counts["files_before"] == len(files) and counts["files_after"] <= len(files)
    assert len({(f.object, f.date) for f in files}) == counts["files_after"]
    assert report(client, "pipeline")["rows"] == later["rows"]

    assert main(["reports", "reexport", "--tenant", client.tenant_id]) == 0  # the command, in this process
    every_deal = client.all_pages("/v1/deals", {"limit": 100}) + client.all_pages(
        "/v1/deals", {"limit": 100, "archived": "true"}
    )
    assert f"{len(every_deal)} deals" in capsys.readouterr().out
    assert [f.kind for f in store.tenant_files(client.tenant_id)].count("reexport") == 5
    again = report(client, "pipeline")
    assert again["rows"] == later["rows"] and again["data_as_of"] >= later["data_as_of"]


def test_reports_come_back_after_a_restart_with_data(tmp_path: Path) -> None:
    """``crm dev --data`` keeps the table, not S3: the restarted runtime writes the analytics files again."""

    def deals_reported(api: str, key: str) -> int:
        answer = requests.get(
            f"{api}/v1/reports/pipeline", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        return int(sum(row["count"] for row in answer.json()["rows"])) if answer.status_code == 200 else -1

    data = tmp_path / "data"
    with crm_dev(tmp_path, "--data", str(data)) as (api, _):
        tenant = tenant_create(tmp_path)
        key = tenant["api_key"]
        made = requests.post(
            f"{api}/v1/deals",
            json={"name": "Kept", "amount": "10"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        assert eventually(lambda: deals_reported(api, key) == 1, timeout=60)
    with crm_dev(tmp_path, "--data", str(data)) as (api, _):
        assert eventually(lambda: deals_reported(api, key) == 1, timeout=90), "re-exported after the restart"


def _minutes(start: str, end: str) -> float:
    def parsed(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parsed(end) - parsed(start)).total_seconds() / 60


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def test_tickets_and_sla_reports(client: ApiClient, other: ApiClient) -> None:
    """The service reports (issue 16): tickets per priority, status, assignee or day with their median
    waits, and the SLA's met and breached per priority, against numbers computed from the tickets as the
    API answers them; the files hold no subject or description."""
    client.create(
        "sla-policies",
        {
            "name": "Standard",
            "targets": {
                "normal": {"first_response_minutes": 60, "resolution_minutes": 480},
                "urgent": {"first_response_minutes": 15, "resolution_minutes": 120},
            },
        },
    )
    plan = [("urgent", True, True), ("urgent", True, False), ("normal", True, True), ("normal", False, False)]
    plan += [("high", True, True), ("low", False, False)]
    for n, (priority, reply, resolve) in enumerate(plan):
        ticket = created(
            client, "tickets", {"subject": f"{SECRET} {n}", "description": SECRET, "priority": priority}
        )
        if reply:
            answer = client.post(f"/v1/tickets/{ticket['id']}/replies", {"body": "On it"})
            assert answer.status_code == 201, answer.text
        if resolve:
            assert client.patch(f"/v1/tickets/{ticket['id']}", {"status": "resolved"}).status_code == 200
    created(client, "tickets", {"subject": "Waiting", "priority": "low", "status": "pending"})
    created(other, "tickets", {"subject": "Theirs", "priority": "urgent"})

    tickets = client.all_pages("/v1/tickets", {"limit": 100})
    by_priority: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ticket in tickets:
        by_priority[ticket["priority"]].append(ticket)
    want_tickets = {
        priority: {
            "group_id": priority,
            "created": len(group),
            "resolved": sum(1 for t in group if t["resolved_at"]),
            "open": sum(1 for t in group if t["status"] in ("new", "open", "pending")),
            "median_first_response_minutes": _median(
                [_minutes(t["created_at"], t["first_responded_at"]) for t in group if t["first_responded_at"]]
            ),
            "median_resolution_minutes": _median(
                [_minutes(t["created_at"], t["resolved_at"]) for t in group if t["resolved_at"]]
            ),
        }
        for priority, group in by_priority.items()
    }
    want_sla = {}
    for priority, group in by_priority.items():
        under = [t for t in group if t["sla"]]
        if not under:
            continue
        first_breached = [t for t in under if t["sla"]["first_response_breached"]]
        resolution_breached = [t for t in under if t["sla"]["resolution_breached"]]
        want_sla[priority] = {
            "tickets": len(under),
            "first_response_met": sum(
                1 for t in under if t["first_responded_at"] and not t["sla"]["first_response_breached"]
            ),
            "first_response_breached": len(first_breached),
            "resolution_met": sum(
                1 for t in under if t["resolved_at"] and not t["sla"]["resolution_breached"]
            ),
            "resolution_breached": len(resolution_breached),
        }
    assert set(want_sla) == {"urgent", "normal"}, "the policy covers those two priorities"

    def close(a: Any, b: Any) -> bool:
        if isinstance(b, float) and isinstance(a, float | int):
            return abs(a - b) < 0.01
        return bool(a == b)

    def matches() -> bool:
        rows = {r["group_id"]: r for r in report(client, "tickets")["rows"]}
        if set(rows) != set(want_tickets):
            return False
        sla_rows = {r["priority"]: r for r in report(client, "sla")["rows"]}
        return all(
            all(close(rows[p][k], v) for k, v in want.items()) for p, want in want_tickets.items()
        ) and all(
            all(sla_rows.get(p, {}).get(k) == v for k, v in want.items()) for p, want in want_sla.items()
        )

    assert eventually(matches, timeout=90, every=0.5), (report(client, "tickets"), want_tickets)
    assert set(r["priority"] for r in report(client, "sla")["rows"]) == set(want_sla)

    # Grouped by status and by assignee; the other tenant's ticket is in neither tenant's rows but its own.
    statuses = Counter(t["status"] for t in tickets)
    by_status = {r["group_id"]: r["created"] for r in report(client, "tickets", group_by="status")["rows"]}
    assert by_status == dict(statuses)
    by_assignee = report(client, "tickets", group_by="assignee", owner_id=client.user_id)["rows"]
    assert sum(r["created"] for r in by_assignee) == sum(
        1 for t in tickets if t["assignee_id"] == client.user_id
    )
    theirs = eventually(lambda: report(other, "tickets")["rows"], timeout=60)
    assert [(r["group_id"], r["created"]) for r in theirs] == [("urgent", 1)]
    refused = client.get("/v1/reports/tickets", params={"group_by": "queue"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "group_by"

    # No subject or description in the tenant's ticket files.
    files = store.tenant_files(client.tenant_id, "tickets")
    assert files
    for stored in files:
        table = pq.read_table(io.BytesIO(store.get(stored.key)))
        assert SECRET not in str(table.to_pylist()) and "subject" not in table.column_names


def test_a_dynamodb_export_file_becomes_reexport_files(client: ApiClient, other: ApiClient) -> None:
    """The AWS re-export (crm_core.services.table_export) from a data file in the format DynamoDB's export
    to S3 writes (gzip, one ``{"Item": <typed item>}`` a line; here made from the local table's items of two
    tenants, with what is not a record among them): each tenant's records become its own ``reexport`` files,
    and the reports answer as before."""
    import gzip
    import json

    from crm_core.services import table_export
    from moto.dynamodb.models import dynamodb_backends

    deal = created(client, "deals", {"name": f"{SECRET} engine", "amount": "250.00"})
    created(other, "deals", {"name": "Theirs", "amount": "75.00"})
    before = eventually(
        lambda: (a := report(client, "pipeline"))["rows"] and sum(r["count"] for r in a["rows"]) == 1 and a,
        timeout=60,
    )
    table = dynamodb_backends["123456789012"][settings().region].tables[settings().table_name]
    tenants = {client.tenant_id, other.tenant_id}
    lines = [
        json.dumps({"Item": item.to_json()["Attributes"]})
        for item in list(table.all_items())
        if item.to_json()["Attributes"].get("tenant_id", {}).get("S") in tenants
        or any(f"T#{t}" in json.dumps(item.to_json()["Attributes"]) for t in tenants)
    ]
    assert any('"type": {"S": "record"}' in line for line in lines)
    assert any('"type": {"S": "record"}' not in line for line in lines), "other items are passed over"
    content = gzip.compress("\n".join(lines).encode())
    key = "table-exports/AWSDynamoDB/01EXPORT/data/part-0001.json.gz"
    written = table_export.write_data_file(key, content, exporter.property_types)
    assert written == table_export.write_data_file(key, content, exporter.property_types), (
        "a retry: same files"
    )
    mine = [k for k in written if f"tenant={client.tenant_id}/" in k]
    assert {k.split("/object=")[1].split("/")[0] for k in mine} == {"deals", "pipelines"}
    theirs = [k for k in written if f"tenant={other.tenant_id}/" in k]
    assert theirs and not set(mine) & set(theirs)
    deals = pq.read_table(io.BytesIO(store.get(next(k for k in mine if "object=deals/" in k)))).to_pylist()
    assert [(d["id"], d["version"]) for d in deals] == [(deal["id"], deal["version"])]
    assert SECRET not in str(deals)
    assert report(client, "pipeline")["rows"] == before["rows"]


def test_campaigns_report(client: ApiClient, other: ApiClient) -> None:
    """The campaigns report (issue 16): each campaign's counters from the exporter's snapshots of its stats,
    against what this test made happen over HTTP: its members, who consented, an open, a click and an
    unsubscription by one recipient, a delivery and a bounce from SES. No address in the files."""
    from tests.integration.test_campaigns import (
        BODY,
        contacts,
        finished,
        follow_the_links,
        notify,
        segment_of,
        sent_to,
    )

    domain = f"r{client.tenant_id.lower()}.example"
    consents = ["granted", "granted", "denied", "granted", "unknown"]
    people = contacts(client, domain, consents, "autumn")
    campaign = client.create(
        "campaigns",
        {
            "name": "Autumn",
            "segment_id": segment_of(client, "autumn"),
            "subject": "Autumn news",
            "from": f"news@{domain}",
            "body": BODY,
        },
    )
    assert client.post(f"/v1/campaigns/{campaign['id']}/send").status_code == 200
    finished(client, campaign["id"])
    consenting = [p for p, c in zip(people, consents, strict=True) if c == "granted"]
    assert eventually(lambda: len(sent_to(domain)) >= len(consenting))
    first = next(m for m in sent_to(domain) if str(m["To"]) == people[0]["email"])
    follow_the_links(client, first, people[0]["id"])
    notify("Delivery", client.tenant_id, campaign["id"], people[0]["id"], people[0]["email"])
    notify("Bounce", client.tenant_id, campaign["id"], people[1]["id"], people[1]["email"])
    want = {
        "campaign_id": campaign["id"],
        "recipients": len(people),
        "sent": len(consenting),
        "delivered": 1,
        "bounced": 1,
        "opened": 1,
        "clicked": 1,
        "unsubscribed": 1,
        "converted": 0,
        "revenue": 0,
        "open_rate": 1.0,
        "click_rate": 1.0,
    }

    def matches() -> bool:
        rows = report(client, "campaigns")["rows"]
        return len(rows) == 1 and all(rows[0][k] == v for k, v in want.items())

    assert eventually(matches, timeout=90, every=0.5), (report(client, "campaigns"), want)
    today = datetime.now(UTC).date().isoformat()
    assert report(client, "campaigns", **{"from": today})["rows"][0]["campaign_id"] == campaign["id"]
    assert report(client, "campaigns", to="2026-01-01")["rows"] == []
    assert report(other, "campaigns")["rows"] == []
    for stored in store.tenant_files(client.tenant_id, "campaign_stats"):
        table = pq.read_table(io.BytesIO(store.get(stored.key)))
        assert domain not in str(table.to_pylist())
