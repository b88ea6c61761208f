"""Every time the API takes is a time in UTC too, generated over the OpenAPI document: a query parameter or a
body field of format date-time that an offset pushes outside years 1 to 9999 in UTC is 422 naming it (it was
a 500: the conversion to UTC overflowed), and a time before year 1000 is stored and answered with a
four-digit year (it was written ``56-06-05T...``, which is no RFC 3339 time and sorts after every
``2026-...``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from crm_core.services.reminders import schedule_name

from crm_local.runtime import LocalRuntime
from tests.integration.test_tickets import schedule_of
from tests.support.api_document import (
    NEVER_ISSUED,
    Operation,
    body_for,
    operations,
    resolve,
    without_null,
)
from tests.support.client import ApiClient
from tests.support.waiting import eventually

# Inside years 1 to 9999 as written, outside them in UTC.
OUT_OF_RANGE = ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")


def _is_time(schema: dict[str, object]) -> bool:
    return without_null(resolve(schema)).get("format") == "date-time"


def _time_parameters() -> Iterator[tuple[Operation, str]]:
    for op in operations():
        for parameter in op.query_parameters:
            if _is_time(parameter["schema"]):
                yield op, parameter["name"]


def _time_fields() -> Iterator[tuple[Operation, str]]:
    for op in operations():
        if op.method in ("POST", "PATCH", "PUT") and op.body_schema:
            for key, field in (op.body_schema.get("properties") or {}).items():
                if _is_time(field):
                    yield op, key


def _path(op: Operation) -> str:
    """The operation's path with a well-formed id for its record: its body or query is checked first."""
    return op.path.replace("{record_id}", NEVER_ISSUED)


def test_the_document_has_times_to_check() -> None:
    assert len(list(_time_parameters())) >= 5 and len(list(_time_fields())) >= 5


@pytest.mark.parametrize(("op", "name"), list(_time_parameters()), ids=lambda v: str(v))
def test_a_time_parameter_out_of_range_in_utc_is_422_naming_it(
    client: ApiClient, op: Operation, name: str
) -> None:
    for value in OUT_OF_RANGE:
        response = client.get(_path(op), params={name: value})
        assert response.status_code == 422, (op, value, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [name], response.text


@pytest.mark.parametrize(("op", "name"), list(_time_fields()), ids=lambda v: str(v))
def test_a_time_field_out_of_range_in_utc_is_422_naming_it(
    client: ApiClient, op: Operation, name: str
) -> None:
    for value in OUT_OF_RANGE:
        # A create's smallest body with the time in it; a PATCH's the time alone.
        body = {**((body_for(op) or {}) if op.method != "PATCH" else {}), name: value}
        response = client.request(op.method, _path(op), json_body=body)
        assert response.status_code == 422, (op, value, response.text)
        assert name in [e["field"] for e in response.json()["errors"]], response.text
        assert "out of range" in response.text, response.text


def test_a_time_before_year_1000_keeps_its_four_digit_year(client: ApiClient) -> None:
    contact = client.create("contacts", {"email": "early@example.com"})
    activity = client.create(
        "activities",
        {
            "type": "call",
            "subject": "Early",
            "contact_id": contact["id"],
            "due_at": "0056-06-05T00:05:09-22:23",
        },
    )
    assert activity["due_at"] == "0056-06-05T22:28:09.000Z"
    assert client.get(f"/v1/activities/{activity['id']}").json()["due_at"] == "0056-06-05T22:28:09.000Z"
    # Compared as a time: every contact changed since then, this one too.
    since = client.get("/v1/contacts", params={"updated_since": "0056-06-05T00:05:09-22:23"})
    assert since.status_code == 200 and contact["id"] in [c["id"] for c in since.json()["items"]], since.text
    due = client.get("/v1/activities", params={"due_before": "0100-01-01T00:00:00Z"})
    assert [a["id"] for a in due.json()["items"]] == [activity["id"]], due.text


def test_a_segment_condition_on_a_time_out_of_range_in_utc_is_422_naming_it(client: ApiClient) -> None:
    def segment(value: str) -> dict[str, object]:
        condition = {"property": "updated_at", "operator": "after", "value": value}
        return {"name": f"Changed after {value}", "filter": {"any": [{"all": [condition]}]}}

    for value in OUT_OF_RANGE:
        response = client.post("/v1/segments", segment(value))
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["filter.any[0].all[0].value"], (
            response.text
        )
    contact = client.create("contacts", {"email": "segment-early@example.com"})
    early = client.post("/v1/segments", segment("0056-06-05T00:05:09-22:23"))
    assert early.status_code == 201, early.text
    members = client.get(f"/v1/segments/{early.json()['id']}/members")
    assert contact["id"] in [m["id"] for m in members.json()["items"]], members.text


def test_usage_whose_default_span_reaches_the_calendars_start_stops_there(client: ApiClient) -> None:
    """``to`` alone answers the 30 days up to it: up to 0001-01-05 that is the 5 days from 0001-01-01 (it
    was a 500: the span's first day overflowed); a ``from`` alone after today is 422 naming ``to``."""
    early = client.get("/v1/usage", params={"to": "0001-01-05"})
    assert early.status_code == 200, early.text
    assert [day["date"] for day in early.json()["items"]] == [f"0001-01-0{n}" for n in range(1, 6)]
    late = client.get("/v1/usage", params={"from": "9999-12-20"})
    assert late.status_code == 422 and [e["field"] for e in late.json()["errors"]] == ["to"], late.text


def test_a_reminder_in_the_calendars_last_second_is_scheduled_for_it(
    runtime: LocalRuntime, client: ApiClient
) -> None:
    """A schedule's time is rounded up to its whole second, so it is never early; the last second of
    9999-12-31 has no next one (rounding it up overflowed, and the reminders' consumer failed the message)."""
    activity = client.create(
        "activities",
        {
            "type": "task",
            "subject": "At the end",
            "due_at": "9999-12-31T23:59:59.500Z",
            "remind_at": "9999-12-31T23:59:59.500Z",
        },
    )
    found = eventually(lambda: schedule_of(runtime, schedule_name(activity["id"])))
    assert found and found["ScheduleExpression"] == "at(9999-12-31T23:59:59)", found
