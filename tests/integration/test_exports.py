"""Tenant exports over HTTP on the local runtime: an export is asked for, its worker writes the tenant's
records to one zip in S3, and the export's link, counters and event say what it holds."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from crm_core.auth import Role
from crm_core.config import settings
from crm_core.record_types import RECORD_TYPES
from crm_core.services import exports

from crm_local.runtime import LocalRuntime
from tests.integration.test_cli import crm, crm_dev, tenant_create
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.roles import clients_by_role
from tests.support.waiting import eventually, finished_job

# What lists show of every record: the zip must hold the same. (API keys' last use moves as the key is used.)
LISTED = ("contacts", "companies", "deals", "activities", "pipelines", "users", "teams")
# What a record shows that moves on its own after the export read it: a key's last use, a target's status (its
# rule made after the target: pending, then active).
MOVING = {"api-keys": "last_used_at", "event-targets": "status"}


@pytest.fixture
def tap(runtime: LocalRuntime, client: ApiClient) -> Iterator[BusTap]:
    yield BusTap(runtime, client.tenant_id)


def run_export(client: ApiClient, *, timeout: float = 60.0, **headers: str) -> dict[str, Any]:
    """An export asked for, once it has completed or failed."""
    created = client.post("/v1/exports", headers=headers)
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["status"] == "pending" and job["download_url"] is None, job
    assert created.headers["Location"] == f"/v1/exports/{job['id']}"

    return finished_job(client, created.headers["Location"], timeout)


def download(job: dict[str, Any]) -> bytes:
    assert job["status"] == "completed" and job["download_url"], job
    answer = requests.get(job["download_url"], timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.content


def unzipped(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The zip's manifest, and each collection's records."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        records = {
            name: [json.loads(line) for line in archive.read(f"{name}.jsonl").decode().splitlines()]
            for name in manifest["objects"]
        }
        assert sorted(archive.namelist()) == sorted(["manifest.json", *(f"{n}.jsonl" for n in records)])
    return manifest, records


def listed(client: ApiClient, collection: str) -> list[dict[str, Any]]:
    """Every record of the collection as the API lists it, archived ones included."""
    active = client.all_pages(f"/v1/{collection}", {"limit": 100})
    if client.get(f"/v1/{collection}", params={"archived": "true"}).status_code == 422:
        return active  # a type that is never archived (a user is deactivated)
    return active + client.all_pages(f"/v1/{collection}", {"limit": 100, "archived": "true"})


def completed_events(tap: BusTap) -> list[dict[str, Any]]:
    """The export.completed events that arrive until one has and the bus is quiet for a second."""
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        found.extend(e for e in tap.drain(expected=0, timeout=2) if e["detail-type"] == "export.completed")
        return bool(found)

    eventually(arrived, timeout=20)
    found.extend(e for e in tap.drain(expected=0, timeout=2) if e["detail-type"] == "export.completed")
    return found


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in records}


def test_the_zip_holds_every_record_as_the_api_answers_it(
    client: ApiClient, other: ApiClient, tap: BusTap
) -> None:
    company = client.create("companies", {"name": "Acme", "domain": "acme.example"})
    kept = client.create(
        "contacts", {"email": "ada@example.com", "first_name": "Ada", "company_id": company["id"]}
    )
    gone = client.create("contacts", {"email": "gone@example.com", "first_name": "Gone"})
    assert client.delete(f"/v1/contacts/{gone['id']}").status_code == 204
    deal = client.create("deals", {"name": "Big one", "amount": "1200.50", "company_id": company["id"]})
    client.create(
        "activities", {"type": "note", "subject": "Called", "contact_id": kept["id"], "deal_id": deal["id"]}
    )
    client.create("teams", {"name": "Sales"})
    client.create(
        "event-targets",
        {"type": "webhook", "url": "http://127.0.0.1:9/x", "secret": "s" * 20, "event_types": ["deal.won"]},
    )
    theirs = other.create("contacts", {"email": "theirs@example.com"})

    job = run_export(client, **{"Idempotency-Key": "export-1"})
    assert job["status"] == "completed" and job["error"] is None, job
    # A retry of the same POST answers the same export, and starts no other.
    again = client.post("/v1/exports", headers={"Idempotency-Key": "export-1"})
    assert again.status_code == 202 and again.json()["id"] == job["id"], again.text
    assert [e["id"] for e in client.all_pages("/v1/exports")] == [job["id"]]

    assert set(job["objects"]) == {t.collection for t in RECORD_TYPES}
    assert job["processed"] == job["objects"]
    assert job["objects"]["contacts"] == 2 and job["objects"]["deals"] == 1
    assert job["download_expires_at"] > job["completed_at"] and job["size_bytes"] > 0
    manifest, records = unzipped(download(job))
    assert manifest["schema_version"] == 1 and manifest["exported_at"] == job["started_at"]
    assert manifest["export_id"] == job["id"] and manifest["tenant_id"] == client.tenant_id
    assert {name: entry["count"] for name, entry in manifest["objects"].items()} == job["objects"]
    for collection in LISTED:
        assert by_id(records[collection]) == by_id(listed(client, collection)), collection
    for collection, moving in MOVING.items():
        shown = [{**r, moving: None} for r in listed(client, collection)]
        assert by_id([{**r, moving: None} for r in records[collection]]) == by_id(shown), collection
    assert all("status" in target for target in records["event-targets"])  # kept apart, shown by GET
    archived = by_id(records["contacts"])[gone["id"]]
    assert archived["archived"] is True and archived["archived_at"], archived
    assert by_id(records["users"]).keys() >= {client.user_id}
    assert theirs["id"] not in by_id(records["contacts"])

    # Another tenant: the export is not theirs to see, and their own export holds none of this tenant's.
    assert other.get(f"/v1/exports/{job['id']}").status_code == 404
    assert other.all_pages("/v1/exports") == []
    their_job = run_export(other)
    _, their_records = unzipped(download(their_job))
    mine = {r["id"] for rs in records.values() for r in rs}
    assert not mine & {r["id"] for rs in their_records.values() for r in rs}
    assert [r["id"] for r in their_records["contacts"]] == [theirs["id"]]
    assert all(r["tenant_id"] == other.tenant_id for rs in their_records.values() for r in rs)

    # The event: once, with the export as it completed.
    events = completed_events(tap)
    assert len(events) == 1, events
    data = events[0]["detail"]["data"]
    assert data["id"] == job["id"] and data["status"] == "completed" and data["objects"] == job["objects"]
    assert "download_url" not in data
    assert events[0]["detail"]["actor"]["id"] == client.user_id


def test_only_admins_export(client: ApiClient) -> None:
    for role, caller in clients_by_role(client).items():
        if role is Role.ADMIN:
            continue
        assert caller.post("/v1/exports").status_code == 403, role
        assert caller.get("/v1/exports").status_code == 403, role
    refused = client.post("/v1/exports", {"objects": ["contacts"]})  # nothing to choose yet
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "objects", refused.text
    assert client.get("/v1/exports").json() == {"items": [], "next_cursor": None}  # none made
    assert client.get("/v1/exports/01JHC2XP0RT000000000000000").status_code == 404
    assert client.get("/v1/exports/not-an-id").status_code == 422


def test_a_run_that_dies_and_a_message_delivered_again_make_one_zip_and_one_event(
    client: ApiClient, tap: BusTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run writes the whole zip and dies before completing the export; SQS hands the message
    back and the second run writes the same bytes and completes it. A message delivered after that
    changes nothing."""
    for n in range(3):
        client.create("contacts", {"email": f"p{n}@example.com"})
    s3 = boto3.client("s3")
    complete = exports.jobs.complete
    first_zip: list[bytes] = []

    def dies_once(job: Any, **kwargs: Any) -> bool:
        if job.tenant_id == client.tenant_id and not first_zip:
            key = exports.zip_key(job.tenant_id, job.id)
            first_zip.append(s3.get_object(Bucket=settings().imports_bucket, Key=key)["Body"].read())
            raise RuntimeError("killed before completing")
        return complete(job, **kwargs)

    monkeypatch.setattr(exports.jobs, "complete", dies_once)
    job = run_export(client)
    assert first_zip, "the fault was never injected"
    content = download(job)
    assert hashlib.sha256(content).hexdigest() == hashlib.sha256(first_zip[0]).hexdigest()
    assert len(unzipped(content)[1]["contacts"]) == 3

    message = {"tenant_id": client.tenant_id, "export_id": job["id"]}
    assert "nothing to do" in exports.run_export(message)
    assert download(client.get(f"/v1/exports/{job['id']}").json()) == content
    events = completed_events(tap)
    assert [e["detail"]["data"]["id"] for e in events] == [job["id"]]


def test_crm_export_shows_progress_and_downloads_the_zip(tmp_path: Path) -> None:
    with crm_dev(tmp_path):
        tenant = tenant_create(tmp_path)
        done = crm(tmp_path, "export", "--out", "all.zip", "--api-key", tenant["api_key"], timeout=180)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "written to all.zip" in done.stdout and "1 pipelines" in done.stdout, done.stdout
        manifest, records = unzipped((tmp_path / "all.zip").read_bytes())
        assert manifest["tenant_id"] == tenant["tenant_id"]
        assert [p["name"] for p in records["pipelines"]] and len(records["users"]) == 1
        refused = crm(tmp_path, "export", "--api-key", "crm_nope")
        assert refused.returncode == 1 and "API key" in refused.stderr, refused.stderr


def test_an_export_longer_than_a_run_goes_on_in_the_next_runs_and_holds_what_one_run_writes(
    client: ApiClient, tap: BusTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's budget forced down to three pages of 2 records: the zip is written over many runs (each one's
    place saved on the export, the next one queued), one of which dies before saving its place and is run
    again, and one of which finds its upload gone and starts the zip again. The zip holds the same
    members, line for line, as one run writes, every record once, and the
    export completes once with one event."""
    company = client.create("companies", {"name": "Acme", "domain": "acme.example"})
    contacts = [
        client.create("contacts", {"email": f"p{n}@example.com", "company_id": company["id"]})
        for n in range(7)
    ]
    assert client.delete(f"/v1/contacts/{contacts[0]['id']}").status_code == 204
    client.create("deals", {"name": "Big one", "company_id": company["id"]})
    whole = run_export(client)
    one_run = unzipped(download(whole))

    monkeypatch.setenv("CRM_EXPORT_PAGES_PER_RUN", "3")
    monkeypatch.setenv("CRM_EXPORT_PAGE_SIZE", "2")
    suspend, died = exports.jobs.suspend, []

    def dies_at_the_second_stop(job: Any, **kwargs: Any) -> bool:
        if job.tenant_id == client.tenant_id and job.runs == 1 and not died:
            died.append(job.id)
            raise RuntimeError("killed before saving its place")
        return suspend(job, **kwargs)

    go_on, gone = exports.jobs.go_on, []

    def upload_gone_at_the_fourth_run(job: Any, **kwargs: Any) -> bool:
        # The open upload aborted under the export (as S3's lifecycle does after a day): the run that
        # takes it up meets NoSuchUpload and writes the zip again from the start.
        if job.tenant_id == client.tenant_id and job.runs == 3 and not gone:
            gone.append(json.loads(kwargs["resume"])["upload"]["upload_id"])
            boto3.client("s3").abort_multipart_upload(
                Bucket=settings().imports_bucket, Key=exports.zip_key(job.tenant_id, job.id), UploadId=gone[0]
            )
        return go_on(job, **kwargs)

    monkeypatch.setattr(exports.jobs, "suspend", dies_at_the_second_stop)
    monkeypatch.setattr(exports.jobs, "go_on", upload_gone_at_the_fourth_run)
    job = run_export(client, timeout=120)
    assert died and gone, "the faults were never injected"
    assert job["status"] == "completed" and job["processed"] == job["objects"] == whole["objects"], job
    stored = exports.jobs.get(client.tenant_id, job["id"], consistent=True)
    assert stored is not None and int(stored.runs) > 3 and stored.resume is None, stored
    content = download(job)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
    manifest, records = unzipped(content)
    assert manifest["objects"] == one_run[0]["objects"] and manifest["export_id"] == job["id"]

    def steady(collection: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        moving = MOVING.get(collection)
        return [{**row, moving: None} if moving else row for row in rows]

    for collection, rows in one_run[1].items():
        assert steady(collection, records[collection]) == steady(collection, rows), collection
    assert len({r["id"] for r in records["contacts"]}) == len(records["contacts"]) == 7
    events = completed_events(tap)
    assert sorted(e["detail"]["data"]["id"] for e in events) == sorted([whole["id"], job["id"]])
    # Nothing of the runs is left in S3 but the zip (the tails are deleted as the next run takes them up).
    listed_keys = boto3.client("s3").list_objects_v2(
        Bucket=settings().imports_bucket, Prefix=exports.zip_key(client.tenant_id, job["id"])
    )
    assert [o["Key"] for o in listed_keys.get("Contents", [])] == [
        exports.zip_key(client.tenant_id, job["id"])
    ]


def s3_leftovers(tenant_id: str) -> list[str]:
    """What S3 holds of the tenant's exports: objects, and multipart uploads still open."""
    s3, bucket, prefix = boto3.client("s3"), settings().imports_bucket, f"exports/{tenant_id}/"
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return objects + [f"upload {u['Key']}" for u in uploads]


def test_an_erasure_expires_the_exports_made_before_it_and_a_tenants_files_can_all_go(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export made before a person's erasure may hold them: the scrub deletes its zip (a completed one's,
    and a long one's still being written: its upload, its run tail) and the export answers `expired` with no
    link. An export made after holds the tombstone alone. A tenant's deletion removes every export file."""
    person = client.create("contacts", {"email": "zipped@example.com", "first_name": "Zipped"})
    for n in range(12):
        client.create("contacts", {"email": f"p{n}@example.com"})
    before = run_export(client)
    assert "zipped@example.com" in json.dumps(unzipped(download(before))[1]["contacts"])
    # A long one (a run a page of one record), still being written when the erasure comes, or just done.
    monkeypatch.setenv("CRM_EXPORT_PAGES_PER_RUN", "1")
    monkeypatch.setenv("CRM_EXPORT_PAGE_SIZE", "1")
    long = client.post("/v1/exports")
    assert long.status_code == 202
    assert eventually(lambda: client.get(long.headers["Location"]).json()["status"] == "running")

    erase = f"/v1/privacy/contacts/{person['id']}/erase"
    assert client.post(erase).status_code == 200
    assert eventually(lambda: client.post(erase).headers["Scrub-Status"] == "done", timeout=60)
    for made in (before["id"], long.json()["id"]):
        expired = client.get(f"/v1/exports/{made}").json()
        assert expired["status"] == "expired" and expired["expired_at"], expired
        assert expired["download_url"] is None and expired["download_expires_at"] is None, expired
    assert {e["status"] for e in client.all_pages("/v1/exports")} == {"expired"}
    assert eventually(lambda: s3_leftovers(client.tenant_id) == []), s3_leftovers(client.tenant_id)

    monkeypatch.delenv("CRM_EXPORT_PAGES_PER_RUN")
    after = run_export(client)
    contacts = unzipped(download(after))[1]["contacts"]
    assert "zipped" not in json.dumps(contacts).lower() and person["id"] in {c["id"] for c in contacts}
    assert s3_leftovers(client.tenant_id) == [exports.zip_key(client.tenant_id, after["id"])]
    assert exports.delete_tenant_files(client.tenant_id) == 1
    assert s3_leftovers(client.tenant_id) == []
