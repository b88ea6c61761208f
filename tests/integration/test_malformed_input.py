"""Malformed input over HTTP: every case is a 4xx with problem details naming the field where there is one,
and nothing is written. Run against three functions (contacts, deals, event targets): the gate and the JSON
parse are the same for every route, so each case must hold on each of them."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.integration.test_conventions import assert_problem
from tests.support.client import ApiClient

MIB = 1024 * 1024
VALID = {
    "contacts": {"email": "malformed@example.com"},
    "deals": {"name": "Malformed"},
    "event-targets": {
        "type": "webhook",
        "url": "http://127.0.0.1:9/hook",
        "secret": "s" * 24,
        "event_types": ["export.completed"],
    },
}
# A change each collection accepts, sent with a malformed header.
CHANGE = {
    "contacts": {"tags": ["x"]},
    "deals": {"name": "Changed"},
    "event-targets": {"description": "Changed"},
}
# Where each collection's body gets an odd number, and the field the answer must name.
NUMBER_FIELD = {
    "contacts": ("custom", "custom.score"),
    "deals": ("amount", "amount"),
    "event-targets": ("description", "description"),
}


@dataclass
class Case:
    name: str
    method: str
    on_record: bool  # the path is /{collection}/{id} of a record made first, else /{collection}
    status: int
    names: str | None = None  # the field the problem must name
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""  # appended raw, as sent, so that bad percent-escapes reach the server
    record_id: str | None = None  # instead of the record's id


def _with_number(collection: str, literal: str) -> bytes:
    """The collection's valid body with ``literal`` (raw JSON text) as its number field's value."""
    key, _ = NUMBER_FIELD[collection]
    value: Any = {"score": "__N__"} if key == "custom" else "__N__"
    return json.dumps({**VALID[collection], key: value}).replace('"__N__"', literal).encode()


def _body_cases(collection: str) -> list[Case]:
    valid = json.dumps(VALID[collection])
    _, number_field = NUMBER_FIELD[collection]
    padding = MIB + 1 - len(json.dumps({**VALID[collection], "pad": ""}))
    cases = [
        Case("nested 100,000 deep", "POST", False, 400, "body", b"[" * 100_000 + b"]" * 100_000),
        Case(
            "nested 33 deep in a field", "POST", False, 400, "body", f'{{"x": {"[" * 33}{"]" * 33}}}'.encode()
        ),
        Case("not UTF-8", "POST", False, 400, "body", valid[:-1].encode() + b', "x": "\xff\xfe"}'),
        Case("latin-1 bytes", "POST", False, 400, "body", '{"name": "Café"}'.encode("latin-1")),
        Case("truncated JSON", "POST", False, 400, "body", valid[:-1].encode()),
        Case("trailing garbage", "POST", False, 400, "body", valid.encode() + b" x"),
        Case("byte order mark", "POST", False, 400, "body", b"\xef\xbb\xbf" + valid.encode()),
        Case("empty body", "POST", False, 422, "body", b""),
        Case("a JSON array", "POST", False, 422, "body", f"[{valid}]".encode()),
        Case("a JSON string", "POST", False, 422, "body", b'"contact"'),
        Case("a JSON number", "POST", False, 422, "body", b"7"),
        Case("null", "POST", False, 422, "body", b"null"),
        Case(
            "1 MiB + 1",
            "POST",
            False,
            413,
            None,
            json.dumps({**VALID[collection], "pad": "x" * padding}).encode(),
        ),
        Case(
            "charset latin-1",
            "POST",
            False,
            415,
            "Content-Type",
            valid.encode(),
            {"Content-Type": "application/json; charset=latin-1"},
        ),
        Case("not UTF-8, PATCH", "PATCH", True, 400, "body", b'{"x": "\xc3\x28"}'),
        Case("nested deep, PATCH", "PATCH", True, 400, "body", b'{"x":' * 40 + b"1" + b"}" * 40),
        Case("a JSON array, PATCH", "PATCH", True, 422, "body", b"[]"),
    ]
    for literal in ("NaN", "Infinity", "-Infinity"):
        cases.append(
            Case(f"{literal} as a number", "POST", False, 400, "body", _with_number(collection, literal))
        )
        cases.append(Case(f"{literal}, PATCH", "PATCH", True, 400, "body", _with_number(collection, literal)))
    for name, literal in (
        ("1e400", "1e400"),
        ("-1e400", "-1e400"),
        ("1e-400", "1e-400"),
        ("5,000 digits", "9" * 5000),
        ("39 digits", "1" * 39),
        ("a 5,000-digit fraction", "0." + "1" * 5000),
    ):
        cases.append(Case(name, "POST", False, 422, number_field, _with_number(collection, literal)))
    cases.append(
        Case("5,000 digits, PATCH", "PATCH", True, 422, number_field, _with_number(collection, "9" * 5000))
    )
    return cases


def _header_cases(collection: str) -> list[Case]:
    cases = []
    for name, value in (
        ("5,000 digits", f'"{"1" * 5000}"'),
        ("5,000 bare digits", "1" * 5000),
        ("16 digits", f'"{"1" * 16}"'),
        ("a bare number", "1"),
        ("a list of ETags", '"1", "2"'),
        ("a weak list", 'W/"1", W/"2"'),
    ):
        body = json.dumps(CHANGE[collection]).encode()
        cases.append(
            Case(f"If-Match {name}, PATCH", "PATCH", True, 400, "If-Match", body, {"If-Match": value})
        )
        cases.append(
            Case(f"If-Match {name}, DELETE", "DELETE", True, 400, "If-Match", None, {"If-Match": value})
        )
    return cases


def _query_cases() -> list[Case]:
    cursor_bytes = "".join(f"%{b:02X}" for b in secrets.token_bytes(64))
    return [
        Case("limit=1e9", "GET", False, 422, "limit", query="limit=1e9"),
        Case("limit=-1", "GET", False, 422, "limit", query="limit=-1"),
        Case("limit=abc", "GET", False, 422, "limit", query="limit=abc"),
        Case("limit of 5,000 digits", "GET", False, 422, "limit", query="limit=" + "9" * 5000),
        Case("limit=%FF", "GET", False, 400, "limit", query="limit=%FF"),
        Case("cursor of random bytes", "GET", False, 400, "cursor", query=f"cursor={cursor_bytes}%FF"),
        Case("cursor of 10,000 characters", "GET", False, 400, "cursor", query="cursor=" + "A" * 10_000),
        Case(
            "cursor of random text", "GET", False, 400, "cursor", query=f"cursor={secrets.token_urlsafe(96)}"
        ),
        Case("q=%FF", "GET", False, 400, "q", query="q=%FF%FE"),
        Case("archived=%C3%28", "GET", False, 400, "archived", query="archived=%C3%28"),
        Case("a parameter name not UTF-8", "GET", False, 400, "query", query="%FF=1"),
    ]


def _path_cases() -> list[Case]:
    long_id = "A" * 10_000
    return [
        Case("a 10,000-character id, GET", "GET", True, 422, "record_id", record_id=long_id),
        Case(
            "a 10,000-character id, PATCH",
            "PATCH",
            True,
            422,
            "record_id",
            b'{"tags": ["x"]}',
            record_id=long_id,
        ),
        Case("a 10,000-character id, DELETE", "DELETE", True, 422, "record_id", record_id=long_id),
        Case("an id not UTF-8", "GET", True, 404, record_id="%FF%FE"),
    ]


def _method_cases() -> list[Case]:
    return [
        Case(f"{method} {'a record' if on_record else 'the collection'}", method, on_record, 405, body=b"{}")
        for method in ("PUT", "TRACE", "OPTIONS", "CONNECT", "PROPFIND", "HEAD")
        for on_record in (False, True)
    ]


def _cases(collection: str) -> list[Case]:
    return (
        _body_cases(collection) + _header_cases(collection) + _query_cases() + _path_cases() + _method_cases()
    )


PARAMS = [
    pytest.param(collection, case, id=f"{collection}: {case.name}")
    for collection in VALID
    for case in _cases(collection)
]


def _send(client: ApiClient, case: Case, path: str) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {client.api_key}",
        "Content-Type": "application/json",
        **case.headers,
    }
    url = f"{client.base_url}{path}{'?' + case.query if case.query else ''}"
    return requests.request(case.method, url, data=case.body, headers=headers, timeout=60)


@pytest.mark.parametrize(("collection", "case"), PARAMS)
def test_malformed_input_is_a_4xx_naming_the_field_and_changes_nothing(
    client: ApiClient, collection: str, case: Case
) -> None:
    base = f"/v1/{collection}"
    record = client.create(collection, VALID[collection]) if case.on_record else None
    path = f"{base}/{case.record_id or record['id']}" if record else base

    response = _send(client, case, path)

    if case.method == "HEAD":  # no body to read
        assert response.status_code == case.status, response.headers
    else:
        problem = assert_problem(response, case.status)
        if case.names:
            fields = [e["field"] for e in problem.get("errors", [])]
            assert case.names in fields, (fields, problem["detail"])
    if case.status == 405:
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert case.method not in allowed and allowed & {"GET", "PATCH", "POST", "DELETE"}
    after = client.all_pages(base)
    if record is None:
        assert after == []
    else:
        assert [_as_written(r) for r in after] == [_as_written(record)]
        assert _as_written(client.get(f"{base}/{record['id']}").json()) == _as_written(record)


def _as_written(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what changes by itself (an event target's status turns active once it is routed)."""
    return {name: value for name, value in record.items() if name != "status"}
