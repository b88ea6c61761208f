"""Migration 0008 against items written the old way (before duplicates were found through the type-ahead
entries): its duplicate-key entries go, and everything the API answers stays the same; the runner is
idempotent, counts only on a dry run, and resumes where a stopped run left off."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from crm_core.config import settings
from crm_core.migrations import (
    Delete,
    Item,
    Migration,
    MigrationStopped,
    StateMismatch,
    Update,
    item_kind,
    run,
    text,
)
from crm_core.migrations.migration_0008 import DUPLICATE_KEY_ENTRY, MIGRATION
from crm_core.repositories import keys
from crm_core.services.records.text import normalize_text

from tests.support.client import ApiClient

# The session's table holds every test's tenants, and the local endpoint sorts the whole table for each page
# of a Scan (DynamoDB does not): a run over it takes fewer, bigger pages (its 1 MB a page still applies).
WHOLE_PAGE = 5000


@pytest.fixture
def dynamodb() -> Any:
    """The session's local endpoint, as an operator's boto3 client reaches a table."""
    return boto3.client("dynamodb", region_name=settings().region)


def _get(dynamodb: Any, pk: str, sk: str) -> Item | None:
    found: Item | None = dynamodb.get_item(
        TableName=settings().table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    return found


def _put_entry(dynamodb: Any, pk: str, sk: str, record_id: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, "type": {"S": "entry"}, "record_id": {"S": record_id}}
    dynamodb.put_item(TableName=settings().table_name, Item=item)


def write_the_old_way(
    dynamodb: Any, tenant_id: str, object_type: str, record_id: str
) -> list[tuple[str, str]]:
    """Give a record what it had when written before issue 11: a duplicate-key entry for each of its
    duplicate keys (``keys.dedupe_pk`` of 8c41c05^), and for a contact with a full name, a type-ahead
    token of its first name's first word. The keys of the duplicate-key entries."""
    record = _get(dynamodb, keys.record_pk(tenant_id, object_type, record_id), keys.RECORD_SK)
    assert record is not None
    written = []
    for value in record.get("dedupe_keys", {}).get("L", []):
        pk = f"T#{tenant_id}#{object_type}#dedupe#{value['S']}"
        _put_entry(dynamodb, pk, record_id, record_id)
        written.append((pk, record_id))
    first = normalize_text(record["data"]["M"].get("first_name", {}).get("S", "")).split()
    if object_type == "contact" and first and "last_name" in record["data"]["M"]:
        tokens = [t["S"] for t in record["search_tokens"]["L"]]
        dynamodb.update_item(
            TableName=settings().table_name,
            Key={"PK": record["PK"], "SK": record["SK"]},
            UpdateExpression="SET search_tokens = :tokens",
            ExpressionAttributeValues={":tokens": {"L": [{"S": t} for t in [*tokens, first[0]]]}},
        )
        token = first[0]
        _put_entry(dynamodb, keys.search_pk(tenant_id, object_type, token), f"{token}#{record_id}", record_id)
    return written


def write_old_events(dynamodb: Any, client: ApiClient, contact_id: str, activity_id: str) -> list[str]:
    """What a contact's timeline held before decision 0008: its own change as an outbox ``event`` item (the
    event whole, as published), and an activity's event copied as a ``timeline_entry``. Their ids."""
    from boto3.dynamodb.types import TypeSerializer
    from crm_core.ids import new_id, utc_now

    pk = keys.record_pk(client.tenant_id, "contact", contact_id)
    written = []
    contact = client.get(f"/v1/contacts/{contact_id}").json()
    activity = client.get(f"/v1/activities/{activity_id}").json()
    for kind, event_type, data in (
        ("event", "contact.updated", contact),
        ("timeline_entry", "activity.created", activity),
    ):
        event_id, occurred_at = new_id(), utc_now()
        detail = {
            "id": event_id,
            "type": event_type,
            "version": 1,
            "tenant_id": client.tenant_id,
            "occurred_at": occurred_at,
            "actor": {"type": "user", "id": client.user_id},
            "correlation_id": f"req-{event_id}",
            "data": data,
            "changes": {"title": {"from": None, "to": "Countess"}} if kind == "event" else {},
            "sequence": 1,
        }
        item = {
            "PK": {"S": pk},
            "SK": {"S": f"EVT#{event_id}"},
            "type": {"S": kind},
            "event_type": {"S": event_type},
            "occurred_at": {"S": occurred_at},
            "detail": TypeSerializer().serialize(json.loads(json.dumps(detail), parse_float=Decimal)),
        }
        dynamodb.put_item(TableName=settings().table_name, Item=item)
        written.append(event_id)
    return written


def _answers(client: ApiClient, paths: list[str]) -> dict[str, Any]:
    """The bodies the API answers, ETags included (a record's version shows there too)."""
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        found[path] = (response.json(), response.headers.get("ETag"))
    return found


def _migrate(dynamodb: Any, tenant: str, *, dry_run: bool = False) -> Any:
    """The test's tenant only: the session's table holds every test's tenants, and the local endpoint
    takes about a millisecond an item to answer a scan (the whole table's runs are the command test's)."""
    return run(
        dynamodb,
        settings().table_name,
        MIGRATION,
        dry_run=dry_run,
        segments=4,
        tenant=tenant,
        page_size=WHOLE_PAGE,
    )


def test_the_duplicate_key_entries_go_and_every_answer_stays(client: ApiClient, dynamodb: Any) -> None:
    company = client.create("companies", {"name": "Analytical Engines", "domain": "engines.example"})
    ada = client.create(
        "contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example",
            "phone": "+44 20 7946 0018",
            "company_id": company["id"],
        },
    )
    twin = client.create(
        "contacts", {"first_name": "ada", "last_name": "LOVELACE", "email": "al@example.com"}
    )
    # Every key of this one has "dedupe" in it where a duplicate-key entry's has: none of them is one.
    lookalike = client.create(
        "contacts", {"first_name": "Dedupe", "last_name": "Dedupe", "email": "dedupe@x.io"}
    )
    call = client.create("activities", {"type": "call", "subject": "Intro", "contact_id": ada["id"]})
    old_events = write_old_events(dynamodb, client, ada["id"], call["id"])
    legacy = [
        *write_the_old_way(dynamodb, client.tenant_id, "company", company["id"]),
        *(e for c in (ada, twin) for e in write_the_old_way(dynamodb, client.tenant_id, "contact", c["id"])),
    ]
    assert len(legacy) == 4  # the company's name, Ada's name and phone, the twin's name
    lookalike_pk = f"T#{client.tenant_id}#contact#dedupe#same_name:dedupe dedupe"
    _put_entry(dynamodb, lookalike_pk, "not-the-record", lookalike["id"])  # not what the old code wrote
    paths = [
        f"/v1/contacts/{ada['id']}",
        f"/v1/contacts/{twin['id']}",
        f"/v1/contacts/{lookalike['id']}",
        f"/v1/companies/{company['id']}",
        f"/v1/contacts/{ada['id']}/timeline",
        f"/v1/companies/{company['id']}/timeline",
        "/v1/contacts?q=ada",
        "/v1/contacts?q=lovelace",
        "/v1/contacts?q=442079",
        "/v1/contacts?q=analytical",
        "/v1/contacts?q=dedupe",
        "/v1/companies?q=analytical",
        "/v1/contacts/duplicates",
        "/v1/companies/duplicates",
        "/v1/contacts",
    ]
    before = _answers(client, paths)
    assert len(before["/v1/contacts/duplicates"][0]["items"]) == 1
    timeline = before[f"/v1/contacts/{ada['id']}/timeline"][0]["items"]
    assert set(old_events) <= {entry["id"] for entry in timeline}  # the timeline reads them as before

    counted = _migrate(dynamodb, client.tenant_id, dry_run=True)
    assert counted.deleted == {DUPLICATE_KEY_ENTRY: 4} and not counted.rewritten
    assert counted.scanned["record:contact"] == 3 and counted.scanned["record:company"] == 1
    assert (counted.scanned["event"], counted.scanned["timeline_entry"]) == (1, 1)  # counted, kept
    assert all(_get(dynamodb, pk, sk) for pk, sk in legacy)  # a dry run writes nothing

    done = _migrate(dynamodb, client.tenant_id)
    assert done.complete and done.deleted == counted.deleted and done.scanned == counted.scanned
    assert not done.rewritten and not done.conflicts
    assert [key for key in legacy if _get(dynamodb, *key)] == []
    assert _get(dynamodb, lookalike_pk, "not-the-record") is not None
    assert _answers(client, paths) == before

    again = _migrate(dynamodb, client.tenant_id)
    assert not again.deleted and not again.rewritten
    # The requests in between open a new rate-limit window when the minute turns: those items are not the
    # migration's to count the same.
    timeless = Counter({DUPLICATE_KEY_ENTRY: 4, "rate_window": done.scanned["rate_window"]})
    assert again.scanned - Counter({"rate_window": again.scanned["rate_window"]}) == done.scanned - timeless
    assert _answers(client, paths) == before


def test_a_record_written_the_old_way_changes_correctly_after_it(client: ApiClient, dynamodb: Any) -> None:
    ada = client.create(
        "contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "countess@old.example",
            "phone": "555 0100 77",
        },
    )
    grace = client.create(
        "contacts", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example"}
    )
    legacy = write_the_old_way(dynamodb, client.tenant_id, "contact", ada["id"])
    old_token = (keys.search_pk(client.tenant_id, "contact", "ada"), f"ada#{ada['id']}")
    assert len(legacy) == 2 and _get(dynamodb, *old_token)
    _migrate(dynamodb, client.tenant_id)
    assert [key for key in legacy if _get(dynamodb, *key)] == []

    # Her name and phone change: she now shares Grace's name, and her old name's tokens go.
    changed = client.patch(
        f"/v1/contacts/{ada['id']}",
        {"first_name": "Grace", "last_name": "Hopper", "phone": "555 0199 88"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["first_name"], body["phone"]) == (2, "Grace", "555 0199 88")
    assert client.get(f"/v1/contacts/{ada['id']}").json() == body
    assert _get(dynamodb, *old_token) is None
    assert client.get("/v1/contacts", params={"q": "ada"}).json()["items"] == []
    found = {c["id"] for c in client.get("/v1/contacts", params={"q": "grace hop"}).json()["items"]}
    assert found == {ada["id"], grace["id"]}
    by_phone = client.get("/v1/contacts", params={"q": "555019988"}).json()["items"]
    assert [c["id"] for c in by_phone] == [ada["id"]]
    pairs = client.get("/v1/contacts/duplicates").json()["items"]
    assert [(sorted(p["ids"]), p["reason"]) for p in pairs] == [
        (sorted([ada["id"], grace["id"]]), "same_name")
    ]
    record = _get(dynamodb, keys.record_pk(client.tenant_id, "contact", ada["id"]), keys.RECORD_SK)
    assert record is not None
    assert [k["S"] for k in record["dedupe_keys"]["L"]] == ["same_name:grace hopper", "same_phone:555019988"]
    # No duplicate-key entry comes back with the change: the next run has nothing to do.
    assert not _migrate(dynamodb, client.tenant_id).deleted


def test_the_command_against_the_running_instance_and_against_a_table(
    client: ApiClient,
    other: ApiClient,
    dynamodb: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """``crm migrate 0008`` with no ``crm dev`` in the folder goes to the table the environment names (the
    session's local endpoint here), as ``python -m crm_core.migrations --table`` does; ``--tenant``
    migrates one tenant's items and no other's."""
    from crm_core.migrations.__main__ import main as migrations_main

    from crm_local.cli import main as crm_main

    legacy = {}
    for tenant in (client, other):
        made = tenant.create("contacts", {"first_name": "Ada", "last_name": "Byron", "email": "ab@cli.io"})
        legacy[tenant.tenant_id] = write_the_old_way(dynamodb, tenant.tenant_id, "contact", made["id"])
    monkeypatch.chdir(tmp_path)

    assert crm_main(["migrate", "0008", "--dry-run", "--page-size", str(WHOLE_PAGE)]) == 0
    out = capsys.readouterr().out
    assert "migration 0008 (dry run: nothing written):" in out, out
    row = next(line.split() for line in out.splitlines() if line.strip().startswith(DUPLICATE_KEY_ENTRY))
    assert int(row[-1]) >= 2, out
    assert all(_get(dynamodb, *key) for keys_of in legacy.values() for key in keys_of)

    state = tmp_path / "state.json"
    table = ["--table", settings().table_name, "--region", settings().region, "--state", str(state)]
    one = ["--tenant", client.tenant_id, "--segments", "2", "--page-size", str(WHOLE_PAGE)]
    assert migrations_main(["0008", *table, *one]) == 0
    out = capsys.readouterr().out
    assert f"migration 0008 of tenant {client.tenant_id}: " in out and ", 1 deleted" in out, out
    assert "scanned in 2 segment(s)" in out and "stopped before the end" not in out, out
    assert [key for key in legacy[client.tenant_id] if _get(dynamodb, *key)] == []
    assert all(_get(dynamodb, *key) for key in legacy[other.tenant_id])
    saved = json.loads(state.read_text())
    assert saved["finished"] == [0, 1] and saved["last_keys"] == {"0": None, "1": None}
    assert migrations_main(["0008", *table, "--resume"]) == 2  # not the state's run: another's
    assert "of tenant" in capsys.readouterr().err

    assert crm_main(["migrate", "0008", "--page-size", str(WHOLE_PAGE)]) == 0
    out = capsys.readouterr().out
    assert "0 rewritten" in out and "stopped before the end" not in out, out
    assert [key for key in legacy[other.tenant_id] if _get(dynamodb, *key)] == []


# --------------------------------------------------------------------------------- the runner on its own


@pytest.fixture
def small_table(dynamodb: Any) -> Iterator[str]:
    """A table of its own, so that small pages make many of them without scanning the session's table."""
    name = f"migration-probe-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(60):
        kind, version = ("doomed", "1") if n % 6 == 0 else ("probe", "1")
        item = {"PK": {"S": f"P#{n % 7}"}, "SK": {"S": f"{n:03}"}, "type": {"S": kind}, "v": {"N": version}}
        dynamodb.put_item(TableName=name, Item=item)
    yield name
    dynamodb.delete_table(TableName=name)


def _probe_migration(fail_on: str | None = None, raced: str | None = None) -> Migration:
    """Sets ``v`` to 2 on ``probe`` items that have 1 (so a second run finds nothing to do); deletes the
    ``doomed`` ones. ``fail_on``: the step fails on that SK; ``raced``: a request changes that item
    between the scan and the update."""

    def step(item: Item) -> Any:
        if text(item, "SK") == fail_on:
            raise RuntimeError("the step failed")
        if text(item, "type") == "doomed":
            return Delete()
        if item.get("v") != {"N": "1"}:
            return None
        if text(item, "SK") == raced:
            boto3.client("dynamodb", region_name=settings().region).update_item(
                TableName=_probe_table[0],
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="SET v = :five",
                ExpressionAttributeValues={":five": {"N": "5"}},
            )
        return Update("SET v = :two", values={":two": {"N": "2"}, ":one": {"N": "1"}}, condition="v = :one")

    return Migration("probe", "a test's", item_kind, step)


_probe_table: list[str] = []


def _versions(dynamodb: Any, table: str) -> dict[str, str]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {item["SK"]["S"]: item["v"]["N"] for page in pages for item in page["Items"]}


def test_a_stopped_run_resumes_where_each_segment_stopped(
    dynamodb: Any, small_table: str, tmp_path: Path
) -> None:
    _probe_table[:] = [small_table]
    state = tmp_path / "state.json"
    options: dict[str, Any] = {"segments": 3, "page_size": 4, "state_file": state}

    counted = run(dynamodb, small_table, _probe_migration(), dry_run=True, **options)
    assert (counted.rewritten["probe"], counted.deleted["doomed"], counted.scanned["probe"]) == (50, 10, 50)
    assert set(_versions(dynamodb, small_table).values()) == {"1"}
    assert json.loads(state.read_text())["dry_run"] is True
    with pytest.raises(StateMismatch):  # a dry run's progress is no real run's
        run(dynamodb, small_table, _probe_migration(), resume=True, **options)

    state.unlink()
    with pytest.raises(MigrationStopped) as stopped:
        run(dynamodb, small_table, _probe_migration(fail_on="037", raced="013"), **options)
    first = stopped.value.summary
    assert "the step failed" in str(stopped.value) and not first.complete
    assert any(line.startswith("  stopped before the end") for line in first.lines())
    saved = json.loads(state.read_text())
    assert len(saved["finished"]) < 3 and any(key is not None for key in saved["last_keys"].values())

    second = run(dynamodb, small_table, _probe_migration(raced="013"), resume=True, **options)
    assert second.complete
    # Each item was changed once over the two runs: the page that failed is read again, and its items
    # changed before the failure are found migrated.
    assert first.rewritten["probe"] + second.rewritten["probe"] == 49
    assert first.conflicts["probe"] + second.conflicts["probe"] == 1
    assert first.deleted["doomed"] + second.deleted["doomed"] == 10
    versions = _versions(dynamodb, small_table)
    assert versions.pop("013") == "5"  # the request's write won
    assert len(versions) == 49 and set(versions.values()) == {"2"}

    state.unlink()
    again = run(dynamodb, small_table, _probe_migration(), **options)
    assert again.complete and again.scanned["probe"] == 50 and not again.rewritten and not again.deleted


def test_crm_migrate_on_a_data_folder_keeps_its_deletes(tmp_path: Path) -> None:
    """``crm migrate 0008`` as a user runs it beside ``crm dev --data DIR``: the deletes are kept as a
    request's changes, so the snapshot a clean stop leaves (what a restart loads) holds none of the
    entries, and the record as it was."""
    from tests.integration.test_cli import crm, crm_dev, tenant_create

    data = tmp_path / "data"
    with crm_dev(tmp_path, "--data", str(data)) as (api_url, process):
        tenant = tenant_create(tmp_path)
        api = ApiClient(api_url, tenant["api_key"])
        made = api.create(
            "contacts", {"first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0018"}
        )
        legacy = write_the_old_way(_local_endpoint(tmp_path), tenant["tenant_id"], "contact", made["id"])
        migrated = crm(tmp_path, "migrate", "0008")
        assert migrated.returncode == 0, migrated.stderr
        assert ", 0 rewritten, 2 deleted" in migrated.stdout, migrated.stdout
    assert process.returncode == 0
    kept = {
        (item["PK"]["S"], item["SK"]["S"]): item
        for item in map(json.loads, (data / "table.jsonl").read_text().splitlines())
    }
    assert [key for key in legacy if key in kept] == []
    record = kept[(keys.record_pk(tenant["tenant_id"], "contact", made["id"]), keys.RECORD_SK)]
    assert record["version"] == {"N": "1"} and record["data"]["M"]["last_name"] == {"S": "Lovelace"}


def _local_endpoint(folder: Path) -> Any:
    """A boto3 client of the ``crm dev`` running in ``folder``."""
    state = json.loads((folder / ".crm" / "dev.json").read_text())
    return boto3.client(
        "dynamodb",
        endpoint_url=state["aws_endpoint"],
        region_name=state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
