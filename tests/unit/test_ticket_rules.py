"""A ticket's rules with no I/O: its status moves, resolved_at, the due times its policy sets (the tenant's
policies handed in through the request's lookups), which events one change is, the queue's order, and
which timers stand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.ids import new_id
from crm_core.repositories import keys
from crm_core.repositories.table import RecordItem
from crm_core.services.ticket_sla import wanted_at
from crm_core.services.tickets import created_time, derive, queue_order, update_events

TENANT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
BERLIN_WEEK = {
    "timezone": "Europe/Berlin",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "from": "09:00",
    "to": "17:00",
}
POLICIES = [
    {
        "id": "P-INCIDENTS",
        "categories": ["incident"],
        "targets": {"urgent": {"first_response_minutes": 15, "resolution_minutes": 60}},
        "business_hours": None,
        "warn_before_minutes": 0,
    },
    {
        "id": "P-GENERAL",
        "categories": [],
        "targets": {
            "normal": {"first_response_minutes": 120, "resolution_minutes": 960},
            "urgent": {"first_response_minutes": 30, "resolution_minutes": 240},
        },
        "business_hours": BERLIN_WEEK,
        "warn_before_minutes": 30,
    },
]


def context() -> RequestContext:
    ctx = RequestContext(Principal(TENANT, "U1", Role.ADMIN, "api_key", "K1"))
    ctx.lookups[("sla_policies", TENANT)] = POLICIES
    return ctx


def refused_field(check: Any) -> str:
    with pytest.raises(ProblemError) as refused:
        check()
    assert refused.value.status == 422
    return refused.value.errors[0].field


def test_status_moves_and_resolution_time() -> None:
    ctx = context()
    new = derive(ctx, {"subject": "x"}, None, None)
    assert (new["status"], new["priority"]) == ("new", "normal") and "resolved_at" not in new
    assert refused_field(lambda: derive(ctx, {"subject": "x", "status": "closed"}, None, None)) == "status"
    ticket_id = new_id()
    resolved = derive(ctx, {**new, "status": "resolved"}, new, ticket_id)
    assert resolved["resolved_at"]
    closed = derive(ctx, {**resolved, "status": "closed"}, resolved, ticket_id)
    assert closed["resolved_at"] == resolved["resolved_at"]  # kept from the resolution
    assert refused_field(lambda: derive(ctx, {**closed, "status": "open"}, closed, ticket_id)) == "status"
    reopened = derive(ctx, {**resolved, "status": "open"}, resolved, ticket_id)
    assert "resolved_at" not in reopened
    assert refused_field(lambda: derive(ctx, {**reopened, "status": "new"}, reopened, ticket_id)) == "status"


def test_due_times_follow_the_policy_for_the_category_and_priority() -> None:
    ctx = context()
    ticket_id = new_id()
    started = created_time(ticket_id)
    assert abs((started - datetime.now(UTC)).total_seconds()) < 5
    general = derive(ctx, {"subject": "x"}, None, None)
    assert general["sla"]["policy_id"] == "P-GENERAL"
    incident = derive(ctx, {"subject": "x", "category": "incident", "priority": "urgent"}, None, None)
    assert incident["sla"]["policy_id"] == "P-INCIDENTS" and incident["sla"]["first_response_warn_at"] is None
    # A priority the incidents policy has no target for: no due times at all (not the general policy's).
    assert derive(ctx, {"subject": "x", "category": "incident"}, None, None)["sla"] is None
    # A priority change counts again from creation, keeping a breach already marked. Created on Friday
    # 2026-03-27 16:30 CET: 30 business minutes left that day; Monday 30 March is CEST (+02:00).
    friday = "01KMQYN960" + ticket_id[10:]  # 2026-03-27T15:30:00Z, 16:30 in Berlin
    assert created_time(friday) == datetime(2026, 3, 27, 15, 30, tzinfo=UTC)
    before = {**general, "sla": {**general["sla"], "first_response_breached": True}}
    urgent = derive(ctx, {**before, "priority": "urgent"}, before, friday)
    assert urgent["sla"]["first_response_due_at"] == "2026-03-27T16:00:00.000Z"  # 17:00 CET
    assert urgent["sla"]["first_response_warn_at"] == "2026-03-27T15:30:00.000Z"  # at once: 30 - 30
    # 30 minutes on Friday, 210 on Monday from 09:00 CEST (07:00Z): 12:30 CEST.
    assert urgent["sla"]["resolution_due_at"] == "2026-03-30T10:30:00.000Z"
    assert urgent["sla"]["first_response_breached"] is True and urgent["sla_breached"] is True


def test_which_events_a_change_is() -> None:
    base = {"subject": "x", "status": "open", "assignee_id": "U1"}
    assert update_events(base, {**base, "subject": "y"}) == ["updated"]
    assert update_events(base, {**base, "status": "pending"}) == ["updated"]
    assert update_events(base, {**base, "assignee_id": "U2"}) == ["assigned"]
    assert update_events(base, {**base, "assignee_id": "U2", "tags": ["vip"]}) == ["updated", "assigned"]
    assert update_events(base, {**base, "status": "resolved", "resolved_at": "t"}) == ["resolved"]
    resolved = {**base, "status": "resolved"}
    reply = {"id": "R", "public": True, "author": "customer", "created_at": "t"}
    assert update_events(resolved, {**base, "last_reply": reply}) == ["replied", "reopened"]
    new = {**base, "status": "new"}
    assert update_events(new, {**base, "last_reply": reply, "first_responded_at": "t"}) == ["replied"]
    sla = {"first_response_breached": False, "resolution_breached": False}
    breached = {**sla, "first_response_breached": True}
    assert update_events({**base, "sla": sla}, {**base, "sla": breached, "sla_breached": True}) == [
        "sla_breached"
    ]


def ticket(data: dict[str, Any], archived: bool = False) -> RecordItem:
    return RecordItem(
        keys.record_pk(TENANT, "ticket", "T1"),
        keys.RECORD_SK,
        object_type="ticket",
        id="T1",
        tenant_id=TENANT,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        archived_at="2026-01-02T00:00:00.000Z" if archived else None,
        data=data,
    )


def test_which_timers_stand_and_the_queue_order() -> None:
    sla = {
        "first_response_due_at": "A1",
        "first_response_warn_at": "A0",
        "resolution_due_at": "B1",
        "resolution_warn_at": "B0",
        "first_response_breached": False,
        "resolution_breached": False,
    }
    fresh = {"status": "new", "sla": sla}
    assert [wanted_at(ticket(fresh), t) for t in ("first_response.warning", "first_response.breach")] == [
        "A0",
        "A1",
    ]
    answered = {**fresh, "first_responded_at": "t"}
    assert wanted_at(ticket(answered), "first_response.breach") is None
    assert wanted_at(ticket(answered), "resolution.breach") == "B1"
    assert wanted_at(ticket({**answered, "status": "resolved"}), "resolution.breach") is None
    assert wanted_at(ticket(fresh, archived=True), "first_response.warning") is None
    missed = {**fresh, "sla": {**sla, "first_response_breached": True}}
    assert wanted_at(ticket(missed), "first_response.breach") is None
    assert wanted_at(ticket({"status": "new"}), "resolution.breach") is None
    assert queue_order(fresh) == "A1" and queue_order(answered) == "B1"
    assert queue_order({**answered, "status": "closed"}) is None and queue_order({"status": "open"}) is None
