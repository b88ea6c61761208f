"""Over HTTP on the local runtime: the SLA clock stops while a ticket is pending (its due times move by the
business time it waited, its timers go and come back), and a merged ticket's replies join the survivor's
thread in time order."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from crm_local.runtime import LocalRuntime
from tests.integration.test_tickets import HOURLY, at, schedule_of
from tests.support.client import ApiClient
from tests.support.waiting import eventually

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_pending_stops_the_sla_clock(runtime: LocalRuntime, client: ApiClient) -> None:
    client.create("sla-policies", {"name": "Round the clock", "targets": {"normal": HOURLY, "high": HOURLY}})
    # Incidents count only on days that are neither today nor tomorrow (UTC): time waited now is no
    # business time.
    today = datetime.now(UTC).weekday()
    off = {DAYS[today], DAYS[(today + 1) % 7]}
    hours = {"timezone": "UTC", "days": [d for d in DAYS if d not in off], "from": "09:00", "to": "17:00"}
    client.create(
        "sla-policies",
        {
            "name": "Incidents",
            "targets": {"normal": HOURLY},
            "categories": ["incident"],
            "business_hours": hours,
        },
    )
    ticket = client.create("tickets", {"subject": "Waiting on the customer"})
    incident = client.create("tickets", {"subject": "Out of hours", "category": "incident"})
    tid, due = ticket["id"], ticket["sla"]["resolution_due_at"]
    breach = f"sla-{tid}-resolution-breach"
    assert eventually(lambda: schedule_of(runtime, breach)), "no timer before the pause"

    paused = client.patch(f"/v1/tickets/{tid}", {"status": "pending"}).json()
    held = client.patch(f"/v1/tickets/{incident['id']}", {"status": "pending"}).json()
    assert paused["sla"]["paused_at"] and paused["sla"]["resolution_due_at"] == due
    assert eventually(lambda: schedule_of(runtime, breach) is None), "the timer stays while paused"
    time.sleep(1.5)

    # A customer's reply opens it again: the due times move by the time it waited (round the clock: all).
    reply = client.post(f"/v1/tickets/{tid}/replies", {"body": "Here are the logs", "author": "customer"})
    assert reply.status_code == 201, reply.text
    resumed = client.get(f"/v1/tickets/{tid}").json()
    assert resumed["status"] == "open" and resumed["sla"]["paused_at"] is None
    waited = (at(resumed["updated_at"]) - at(paused["sla"]["paused_at"])).total_seconds()
    moved = at(resumed["sla"]["resolution_due_at"]) - at(due)
    assert moved == timedelta(seconds=resumed["sla"]["paused_seconds"]), (moved, resumed["sla"])
    assert abs(moved.total_seconds() - waited) <= 1 and moved.total_seconds() >= 1, (moved, waited)
    first_moved = at(resumed["sla"]["first_response_due_at"]) - at(ticket["sla"]["first_response_due_at"])
    assert first_moved == moved
    schedule = eventually(lambda: schedule_of(runtime, breach))
    assert schedule and resumed["sla"]["resolution_due_at"] in schedule["Target"]["Input"]

    # A priority change counts from creation again, the pause included (the same targets: the same times).
    urgent = client.patch(f"/v1/tickets/{tid}", {"priority": "high"}).json()
    assert urgent["sla"]["paused_seconds"] == resumed["sla"]["paused_seconds"]
    # (within a second: on creation the due times count from the request's clock, afterwards from the time
    # in the ticket's id, taken a few milliseconds later)
    drift = at(urgent["sla"]["resolution_due_at"]) - at(resumed["sla"]["resolution_due_at"])
    assert abs(drift.total_seconds()) < 1, drift

    # Out of business hours, waiting is no business time: the incident's due times do not move.
    back = client.patch(f"/v1/tickets/{incident['id']}", {"status": "open"}).json()
    assert held["sla"]["paused_at"] and back["sla"]["paused_at"] is None
    assert back["sla"]["resolution_due_at"] == incident["sla"]["resolution_due_at"]
    assert back["sla"]["paused_seconds"] is None


def test_a_merge_carries_the_replies_in_order(client: ApiClient, other: ApiClient) -> None:
    survivor = client.create("tickets", {"subject": "Printer jams"})
    duplicate = client.create("tickets", {"subject": "Printer jams again"})
    written = []
    for ticket, body, public in (
        (survivor, "first, on the survivor", True),
        (duplicate, "second, on the duplicate", True),
        (survivor, "third, a note on the survivor", False),
        (duplicate, "fourth, a note on the duplicate", False),
        (duplicate, "fifth, on the duplicate", True),
    ):
        answer = client.post(f"/v1/tickets/{ticket['id']}/replies", {"body": body, "public": public})
        assert answer.status_code == 201, answer.text
        written.append(body)
    assert (
        other.post(f"/v1/tickets/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]}).status_code
        == 404
    )

    merged = client.post(f"/v1/tickets/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["pending_moves"] == []
    thread = client.get(f"/v1/tickets/{survivor['id']}/replies").json()["items"]
    assert [r["body"] for r in thread] == written
    assert {r["ticket_id"] for r in thread} == {survivor["id"]}
    public = client.get(f"/v1/tickets/{survivor['id']}/replies", params={"public": "true"}).json()["items"]
    assert [r["body"] for r in public] == [written[0], written[1], written[4]]
    gone = client.get(f"/v1/tickets/{duplicate['id']}/replies")
    assert gone.status_code == 404  # the duplicate is archived, merged into the survivor
    # Its newest reply came from the duplicate: the survivor's last_reply names it now.
    last_reply = client.get(f"/v1/tickets/{survivor['id']}").json()["last_reply"]
    assert last_reply["id"] == thread[-1]["id"] and last_reply["public"] is True, last_reply
    assert last_reply["merged_from"] == duplicate["id"]

    def timeline() -> list[str]:  # once the relay wrote the merge's follow-up
        found = [e["type"] for e in client.get(f"/v1/tickets/{survivor['id']}/timeline").json()["items"]]
        return found if "ticket.merged" in found and "ticket.updated" in found else []

    kinds = eventually(timeline, timeout=15)
    assert kinds.count("ticket.replied") == 2, kinds  # its own two, not the moved ones

    # The merge's event reaches the background mover too: it finds nothing left and changes nothing.
    from crm_core.services import merge_moves

    assert merge_moves.move(client.tenant_id, "ticket", duplicate["id"]).startswith("0 of 0")
    again = client.get(f"/v1/tickets/{survivor['id']}/replies").json()["items"]
    assert [r["body"] for r in again] == written
