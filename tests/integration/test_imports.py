"""CSV imports over HTTP on the local runtime: an import is created, its file PUT to the presigned URL,
the upload's notification reaches the splitter, its chunks the chunk workers; the import's counters, its
rejected rows' file and its event say what became of each row."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from crm_core.auth import Role
from crm_core.definitions import QueueDefinition
from crm_core.repositories import record_repository
from crm_core.repositories.transaction import ChangeSet, TransactionRefused
from crm_core.services import import_rows, imports

from bench.import_crash import csv_rows, dying_workers
from crm_local.runtime import LocalRuntime
from tests.integration.test_cli import crm, crm_dev, tenant_create
from tests.integration.test_events import BusTap
from tests.support.client import ApiClient
from tests.support.roles import clients_by_role
from tests.support.waiting import eventually, finished_job


def run_import(client: ApiClient, data: bytes, *, timeout: float = 60.0, **body: Any) -> dict[str, Any]:
    """The import of ``data`` (POST, PUT of the file), once it has completed or failed."""
    created = client.post("/v1/imports", {"object": "contacts", **body})
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "pending" and job["upload_url"].startswith("http")
    assert created.headers["Location"] == f"/v1/imports/{job['id']}"
    put = requests.put(job["upload_url"], data=data, timeout=30)
    assert put.status_code == 200, put.text

    return finished_job(client, created.headers["Location"], timeout)


def rejected_rows(job: dict[str, Any]) -> list[dict[str, str]]:
    assert job["rejected_rows_url"], job
    answer = requests.get(job["rejected_rows_url"], timeout=30)
    assert answer.status_code == 200
    text = answer.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def contacts_by_email(client: ApiClient) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for contact in client.all_pages("/v1/contacts", {"limit": 100}):
        found.setdefault((contact.get("email") or "").lower(), []).append(contact)
    return found


def counters(job: dict[str, Any]) -> dict[str, int]:
    return {k: job[k] for k in ("total", "processed", "created", "updated", "skipped", "failed")}


def test_good_bad_and_duplicate_rows_are_each_reported(client: ApiClient) -> None:
    client.create("contacts", {"email": "old@example.com", "first_name": "Old"})
    data = (
        b"First Name,Last Name,E-mail,Lifecycle Stage\n"
        b"Ada,Lovelace,ada@example.com,lead\n"
        b"Bad,Email,not-an-email,lead\n"
        b"Old,Again,OLD@example.com,customer\n"
        b"Ada,Twice,ada@example.com,\n"
        b"Grace,Hopper,grace@example.com,astronaut\n"
        b",,,\n"
        b"Alan,Turing,alan@example.com,\n"
        b"alan,TURING,turing@example.org,\n"
    )
    job = run_import(client, data)
    assert job["status"] == "completed", job
    assert job["mapping"] == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail": "email",
        "Lifecycle Stage": "lifecycle_stage",
    }
    assert counters(job) == {
        "total": 7,
        "processed": 7,
        "created": 3,
        "updated": 0,
        "skipped": 2,
        "failed": 2,
    }
    rejected = rejected_rows(job)
    assert [row["E-mail"] for row in rejected] == ["not-an-email", "grace@example.com"]
    assert list(rejected[0]) == ["First Name", "Last Name", "E-mail", "Lifecycle Stage", "error"]
    assert "email: is not a valid email address" in rejected[0]["error"]
    assert "lifecycle_stage" in rejected[1]["error"]
    contacts = contacts_by_email(client)
    assert contacts["ada@example.com"][0]["last_name"] == "Lovelace"  # the repeat was skipped
    assert contacts["old@example.com"][0]["first_name"] == "Old"
    # Two rows of one name, written in one transaction, are a duplicate pair as two requests would be.
    pairs = client.get("/v1/contacts/duplicates").json()["items"]
    alans = sorted(contacts[email][0]["id"] for email in ("alan@example.com", "turing@example.org"))
    assert [(sorted(p["ids"]), p["reason"]) for p in pairs] == [(alans, "same_name")]
    assert "grace@example.com" not in contacts and "alan@example.com" in contacts
    assert contacts["alan@example.com"][0]["owner_id"] == client.user_id  # as an API create by the admin


def test_non_admins_may_not_import(client: ApiClient) -> None:
    for role, user in clients_by_role(client).items():
        if role is Role.ADMIN:
            continue
        assert user.post("/v1/imports", {"object": "contacts"}).status_code == 403
        assert user.get("/v1/imports").status_code == 403


def test_another_tenants_import_is_not_found(client: ApiClient, other: ApiClient) -> None:
    job = client.post("/v1/imports", {"object": "contacts"}).json()
    assert other.get(f"/v1/imports/{job['id']}").status_code == 404
    assert job["id"] not in [j["id"] for j in other.get("/v1/imports").json()["items"]]
    assert job["id"] in [j["id"] for j in client.get("/v1/imports").json()["items"]]


def test_bom_semicolons_and_quoted_newlines(client: ApiClient) -> None:
    data = (
        "\ufeffFirst Name;Email Address;Job Title\r\n"
        'Zoë;zoe@example.com;"Head of\r\nEverything; and more"\r\n'
        '"Jean ""JJ""";jj@example.com;CTO\r\n'
    ).encode()
    job = run_import(client, data)
    assert counters(job) == {
        "total": 2,
        "processed": 2,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert job["mapping"] == {"First Name": "first_name", "Email Address": "email", "Job Title": "title"}
    contacts = contacts_by_email(client)
    assert contacts["zoe@example.com"][0]["first_name"] == "Zoë"
    assert contacts["zoe@example.com"][0]["title"] == "Head of\r\nEverything; and more"
    assert contacts["jj@example.com"][0]["first_name"] == 'Jean "JJ"'


def test_a_given_mapping_is_checked_and_used(client: ApiClient) -> None:
    refused = client.post(
        "/v1/imports", {"object": "contacts", "mapping": {"Mail": "e_mail", "Tags": "tags"}}
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"mapping.Mail", "mapping.Tags"}
    data = b"Mail,Name,Ignored\nm@example.com,Mia,whatever\n"
    job = run_import(client, data, mapping={"Mail": "email", "Name": "first_name"})
    assert job["created"] == 1 and job["mapping"] == {"Mail": "email", "Name": "first_name"}
    assert contacts_by_email(client)["m@example.com"][0]["first_name"] == "Mia"
    missing = run_import(client, data, mapping={"Email": "email"})
    assert missing["status"] == "failed" and "Email" in missing["error"]
    assert missing["total"] == 0


def test_a_file_that_cannot_be_read_fails_the_import(client: ApiClient) -> None:
    job = run_import(client, "name\nJosé\n".encode("latin-1"))
    assert job["status"] == "failed" and "UTF-8" in job["error"]
    unmapped = run_import(client, b"foo,bar\n1,2\n")
    assert unmapped["status"] == "failed" and "mapping" in unmapped["error"]


@pytest.mark.parametrize(
    ("on_duplicate", "expected", "ada_title"),
    [
        ("skip", {"created": 1, "updated": 0, "skipped": 2, "failed": 0}, "Countess"),
        ("update", {"created": 1, "updated": 2, "skipped": 0, "failed": 0}, "Analyst"),
        ("create", {"created": 1, "updated": 0, "skipped": 0, "failed": 2}, "Countess"),
    ],
)
def test_on_duplicate(
    client: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
    on_duplicate: str,
    expected: dict[str, int],
    ada_title: str,
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)  # the file's repeat falls beyond the first chunk
    existing = client.create("contacts", {"email": "ada@example.com", "title": "Countess", "last_name": "L"})
    data = (
        "email,title,first_name\n"
        "ADA@example.com,,Ada\n"  # an empty cell leaves the field as it is
        "new@example.com,Engineer,\n"
        "filler@example.com,,\n"
        "new@example.com,Analyst,Nina\n"
    )
    if on_duplicate == "update":
        data = data.replace("ADA@example.com,,Ada", "ADA@example.com,Analyst,Ada")
    job = run_import(client, data.encode(), on_duplicate=on_duplicate)
    # The filler row is a third create; the file's repeat of new@ is a duplicate like the existing ada@.
    assert {k: job[k] for k in expected} == {**expected, "created": expected["created"] + 1}
    contacts = contacts_by_email(client)
    assert len(contacts["ada@example.com"]) == 1 and contacts["ada@example.com"][0]["id"] == existing["id"]
    assert contacts["ada@example.com"][0]["title"] == ada_title
    assert len(contacts["new@example.com"]) == 1
    new = contacts["new@example.com"][0]
    assert (new["title"], new.get("first_name")) == (
        ("Analyst", "Nina") if on_duplicate == "update" else ("Engineer", None)
    )
    if on_duplicate == "create":
        reasons = [row["error"] for row in rejected_rows(job)]
        assert len(reasons) == 2 and all("already exists" in r for r in reasons), reasons


def _rows(count: int, start: int = 0) -> bytes:
    lines = ["email,first_name"] + [f"p{n}@example.com,P{n}" for n in range(start, start + count)]
    return ("\n".join(lines) + "\n").encode()


def test_a_worker_dying_after_its_writes_leaves_every_row_counted_once(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first try of every chunk writes its rows and dies before counting them; SQS hands the chunk
    back, and its second try finds the rows it wrote by their ids."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    count_chunk = imports.jobs.count_chunk
    died: list[int] = []

    def dies_once(tenant_id: str, import_id: str, chunk: int, counts: dict[str, int], at: str) -> bool:
        if tenant_id == client.tenant_id and chunk not in died:
            died.append(chunk)
            raise RuntimeError("killed half-way")
        return count_chunk(tenant_id, import_id, chunk, counts, at)

    monkeypatch.setattr(imports.jobs, "count_chunk", dies_once)
    job = run_import(client, _rows(10))
    assert sorted(died) == [0, 1, 2]
    assert counters(job) == dict(total=10, processed=10, created=10, updated=0, skipped=0, failed=0)
    contacts = contacts_by_email(client)
    assert sorted(contacts) == sorted(f"p{n}@example.com" for n in range(10))
    assert all(len(found) == 1 for found in contacts.values())


def test_a_worker_dying_half_way_through_its_chunk_leaves_every_row_once(
    client: ApiClient, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m bench.import_crash`` in small: chunks of four rows, two to a shared transaction; the
    first try of chunks 0 and 2 dies after its first transaction committed, before that transaction's
    rows' derived entries were written. The chunks come back; each row is counted once, is one contact,
    and has one event; the relay wrote what the dead worker did not (search finds its rows)."""
    tap = BusTap(runtime, client.tenant_id)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    monkeypatch.setattr(import_rows, "MAX_TRANSACTION_ITEMS", 6)  # two rows (and their counts) a transaction
    with dying_workers((0, 2), after_groups=1, tenant_id=client.tenant_id) as died:
        job = run_import(client, csv_rows(10))
    assert sorted(died) == [0, 2]
    assert counters(job) == dict(total=10, processed=10, created=10, updated=0, skipped=0, failed=0)
    contacts = contacts_by_email(client)
    assert sorted(contacts) == sorted(f"p{n}@crash.example" for n in range(10))
    assert all(len(found) == 1 and found[0]["version"] == 1 for found in contacts.values())
    events = tap.drain(11, timeout=30)
    assert Counter(event["detail-type"] for event in events) == {"contact.created": 10, "import.completed": 1}
    created_ids = sorted(e["detail"]["data"]["id"] for e in events if e["detail-type"] == "contact.created")
    assert created_ids == sorted(found[0]["id"] for found in contacts.values())
    # rows 1 and 9 were in the transactions whose worker died before writing their search entries
    for name in ("row0", "row8"):
        found = eventually(lambda name=name: client.get(f"/v1/contacts?q={name}").json()["items"])
        assert [contact["last_name"] for contact in found] == [name.capitalize()]
    # each record's trail has its creation once, whoever wrote what follows it (the worker, the relay)
    for found in contacts.values():
        trail = client.all_pages("/v1/audit-events", {"object_id": found[0]["id"]})
        assert [(e["action"], e["request_id"]) for e in trail] == [("contact.created", job["id"])]


def test_a_chunk_delivered_twice_is_written_and_counted_once(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunks go to a queue of the test's own, and each message is handled twice (as SQS may deliver
    it): the second finds its chunk counted. The first chunk is also handled twice at once."""
    sqs = boto3.client("sqs")
    queue = QueueDefinition(f"test-import-chunks-{client.tenant_id.lower()}")
    url = sqs.create_queue(QueueName=queue.name)["QueueUrl"]
    monkeypatch.setattr(imports, "IMPORT_CHUNKS_QUEUE", queue)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    created = client.post("/v1/imports", {"object": "contacts", "on_duplicate": "update"}).json()
    assert requests.put(created["upload_url"], data=_rows(7), timeout=30).status_code == 200

    def received() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    messages = eventually(received, timeout=30)
    assert sorted(m["chunk"] for m in messages) == [0, 1, 2]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(imports.import_chunk, [messages[0], messages[0]]))
    for message in messages:
        imports.import_chunk(message)
        imports.import_chunk(message)
    job = client.get(f"/v1/imports/{created['id']}").json()
    assert job["status"] == "completed"
    assert counters(job) == dict(total=7, processed=7, created=7, updated=0, skipped=0, failed=0)
    contacts = contacts_by_email(client)
    assert len(contacts) == 7 and all(len(found) == 1 for found in contacts.values())


def test_crm_import_uploads_shows_progress_and_prints_the_summary(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_bytes(
        b"Email,First Name\nkim@example.com,Kim\nlee@example.com,Lee\nbad,Bad\n"
    )
    with crm_dev(tmp_path):
        tenant = tenant_create(tmp_path)
        key = tenant["api_key"]
        done = crm(tmp_path, "import", "people.csv", "--object", "contacts", "--api-key", key, timeout=180)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "3 rows: 2 created, 0 updated, 0 skipped, 1 failed" in done.stdout, done.stdout
        assert "rejected rows" in done.stdout
        refused = crm(tmp_path, "import", "people.csv", "--mapping", '{"Email": "mail"}', "--api-key", key)
        assert refused.returncode == 1 and "mapping.Email" in refused.stderr, refused.stderr


def test_companies_match_by_domain(client: ApiClient) -> None:
    existing = client.create("companies", {"name": "Acme", "domain": "acme.example"})
    data = b"Company Name;Website;Employees\nAcme Inc;ACME.example;50\nGlobex;globex.example;12\nNo Name;;x\n"
    job = run_import(client, data, object="companies", on_duplicate="update")
    assert job["mapping"] == {"Company Name": "name", "Website": "domain", "Employees": "employees"}
    assert counters(job) == dict(total=3, processed=3, created=1, updated=1, skipped=0, failed=1)
    assert "employees" in rejected_rows(job)[0]["error"]
    companies = {c["domain"]: c for c in client.all_pages("/v1/companies", {"limit": 100})}
    assert companies["acme.example"]["id"] == existing["id"]
    assert (companies["acme.example"]["name"], companies["acme.example"]["employees"]) == ("Acme Inc", 50)
    assert companies["globex.example"]["employees"] == 12


def test_deals_take_stages_and_pipelines_by_name_companies_by_domain_contacts_by_email(
    client: ApiClient,
) -> None:
    company = client.create("companies", {"name": "Acme", "domain": "acme.example"})
    buyer = client.create("contacts", {"email": "buyer@acme.example"})
    stages = [{"name": "Talking", "probability": 0.2, "kind": "open"}, {"name": "Signed", "kind": "won"}]
    partners = client.post("/v1/pipelines", {"name": "Partners", "stages": stages}).json()
    data = (
        b"Deal Name,Amount,Stage,Pipeline,Company Domain,Email\n"
        b"Renewal,1200.50,proposal,,https://www.ACME.example/,Buyer@acme.example\n"
        b"Partner deal,10,Signed,partners,,\n"
        b"No stage,7,,,,\n"
        b"Bad stage,5,Nowhere,,,\n"
        b"Unknown company,5,,,nobody.example,\n"
        b"Unknown pipeline,5,,Elsewhere,,\n"
    )
    job = run_import(client, data, object="deals")
    assert job["mapping"] == {
        "Deal Name": "name",
        "Amount": "amount",
        "Stage": "stage",
        "Pipeline": "pipeline",
        "Company Domain": "company_domain",
        "Email": "contact_email",
    }
    assert counters(job) == dict(total=6, processed=6, created=3, updated=0, skipped=0, failed=3)
    reasons = {row["Deal Name"]: row["error"] for row in rejected_rows(job)}
    assert sorted(reasons) == ["Bad stage", "Unknown company", "Unknown pipeline"]
    assert "stage:" in reasons["Bad stage"] and "'Proposal'" in reasons["Bad stage"]
    assert "company_domain:" in reasons["Unknown company"]
    assert "pipeline:" in reasons["Unknown pipeline"] and "'Partners'" in reasons["Unknown pipeline"]
    deals = {d["name"]: d for d in client.all_pages("/v1/deals", {"limit": 100})}
    renewal, partner, plain = deals["Renewal"], deals["Partner deal"], deals["No stage"]
    default = client.get(f"/v1/pipelines/{renewal['pipeline_id']}").json()
    proposal = next(s["id"] for s in default["stages"] if s["name"] == "Proposal")
    assert (renewal["stage_id"], renewal["amount"]) == (proposal, "1200.50")
    assert (renewal["company_id"], renewal["contact_ids"]) == (company["id"], [buyer["id"]])
    assert partner["pipeline_id"] == partners["id"] and partner["status"] == "won"
    assert partner["stage_id"] == next(s["id"] for s in partners["stages"] if s["name"] == "Signed")
    assert plain["pipeline_id"] == renewal["pipeline_id"] != partners["id"]


def test_duplicate_pairs_across_chunks_and_with_existing_records_without_a_query_a_row(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The splitter finds the file's own pairs (whatever chunk each row lands in); the table is asked
    about a duplicate key only when the tenant had records of the type, once per key of a chunk."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    looked_up: list[str] = []
    query_page = record_repository.query_page
    importing: ContextVar[bool] = ContextVar("importing", default=False)

    def counting(pk: str, *args: Any, **kwargs: Any) -> Any:
        # The import's own lookups (the relay's repair of a row, on a slow machine, looks up as well).
        if importing.get() and pk.startswith(f"T#{client.tenant_id}#contact#search#"):
            looked_up.append(pk)
        return query_page(pk, *args, **kwargs)

    def flagged(work: Any) -> Any:
        def run(*args: Any) -> Any:
            reset = importing.set(True)
            try:
                return work(*args)
            finally:
                importing.reset(reset)

        return run

    monkeypatch.setattr(record_repository, "query_page", counting)
    monkeypatch.setattr(imports, "_split", flagged(imports._split))
    monkeypatch.setattr(imports, "_write_chunk", flagged(imports._write_chunk))
    first = (
        "email,first_name,last_name\n"
        "a1@example.com,Ada,Lovelace\n"
        "bob@example.com,Bob,Byron\n"
        "not-an-email,Ada,Lovelace\n"  # fails: a pair with it is never shown (it has no record)
        "a2@example.com,ada,LOVELACE\n"  # the first row's name, in the next chunk
    )
    job = run_import(client, first.encode())
    assert (job["created"], job["failed"]) == (3, 1), job
    assert looked_up == []  # an empty CRM: the file's rows are the only holders
    ids = {email: found[0]["id"] for email, found in contacts_by_email(client).items()}

    def pairs() -> list[tuple[list[str], str]]:
        found = client.get("/v1/contacts/duplicates", params={"limit": 100}).json()["items"]
        return sorted((sorted(p["ids"]), p["reason"]) for p in found)

    assert pairs() == [(sorted([ids["a1@example.com"], ids["a2@example.com"]]), "same_name")]
    second = "email,first_name,last_name\nz@example.com,Zed,Zulu\na3@example.com,Ada,Lovelace\n"
    job = run_import(client, second.encode())
    assert job["created"] == 2, job
    assert len(looked_up) == 2  # the chunk's two names, once each
    a3 = contacts_by_email(client)["a3@example.com"][0]["id"]
    expected = [
        (sorted([ids["a1@example.com"], ids["a2@example.com"]]), "same_name"),
        (sorted([ids["a1@example.com"], a3]), "same_name"),
        (sorted([ids["a2@example.com"], a3]), "same_name"),
    ]
    assert pairs() == sorted(expected)
    # More keys than the tenant's few records would cost in pages: their bucket is read once instead.
    looked_up.clear()
    third = "email,first_name,last_name\n" + "".join(
        f"{name.lower()}@example.com,{name},Apple\n" for name in ("Amy", "Abe", "Art", "Ann")
    )
    job = run_import(client, (third + "a4@example.com,Ada,Lovelace\n").encode())
    assert job["created"] == 5, job
    assert looked_up == [f"T#{client.tenant_id}#contact#search#a"]
    a4 = contacts_by_email(client)["a4@example.com"][0]["id"]
    expected += [
        (sorted([other, a4]), "same_name") for other in (ids["a1@example.com"], ids["a2@example.com"], a3)
    ]
    assert pairs() == sorted(expected)


def test_rows_of_a_refused_shared_transaction_are_written_alone(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared transaction DynamoDB refuses as a whole (its size, throttling) leaves its rows to be
    written one by one: each is created once, and counted."""
    commit = ChangeSet.commit
    refused: list[int] = []

    def refusing(changes: ChangeSet, request_token: str | None = None) -> None:
        labels = {op.label.split(":", 1)[0] for op in changes.operations if ":" in op.label}
        if len(labels) > 1:  # several rows' operations: a shared transaction
            refused.append(len(labels))
            raise TransactionRefused("ValidationException: too large")
        commit(changes, request_token)

    monkeypatch.setattr(ChangeSet, "commit", refusing)
    job = run_import(client, csv_rows(5))
    assert refused and refused[0] == 5
    assert counters(job) == dict(total=5, processed=5, created=5, updated=0, skipped=0, failed=0)
    contacts = contacts_by_email(client)
    assert sorted(contacts) == sorted(f"p{n}@crash.example" for n in range(5))


def test_an_import_is_audited_once_and_each_record_it_created_by_its_own_trail(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An imported row writes no audit item of its own (issue 14's items a row): the tenant's trail has
    one entry for the import with its counts; a record's trail still answers who created it, through
    which import, with the fields it was given, read from the record while it is as imported, and
    written by its first change (the same entry, once). One row fell out of its shared transaction
    and was written alone: audited the same way."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    refused_once: list[bool] = []
    commit = ChangeSet.commit

    def refuses_the_first(changes: ChangeSet, request_token: str | None = None) -> None:
        if not refused_once and any(op.label.startswith("1:") for op in changes.operations):
            refused_once.append(True)
            raise TransactionRefused("refused as a whole")
        commit(changes, request_token)

    monkeypatch.setattr(ChangeSet, "commit", refuses_the_first)
    data = (
        b"email,first_name,lifecycle_stage\n"
        + b"".join(f"a{n}@example.com,A{n},lead\n".encode() for n in range(5))
        + b"bad,B,lead\n"
    )
    job = run_import(client, data)
    assert refused_once and counters(job)["created"] == 5 and counters(job)["failed"] == 1
    trail = client.all_pages("/v1/audit-events", {})
    imported = [e for e in trail if e["actor"].get("credential_id") == job["id"]]
    assert [e["action"] for e in imported] == ["import.completed"], imported
    entry = imported[0]
    assert entry["object"] == {"type": "import", "id": job["id"]}
    assert entry["actor"] == {
        "type": "user",
        "id": client.user_id,
        "via": "import",
        "credential_id": job["id"],
    }
    assert {k: entry["changes"][k]["after"] for k in ("object", "total", "created", "failed")} == {
        "object": "contacts",
        "total": 6,
        "created": 5,
        "failed": 1,
    }
    assert client.all_pages("/v1/audit-events", {"object_id": job["id"]}) == [entry]

    contacts = contacts_by_email(client)
    first = contacts["a0@example.com"][0]
    for email in sorted(contacts):
        (creation,) = client.all_pages("/v1/audit-events", {"object_id": contacts[email][0]["id"]})
        assert creation["action"] == "contact.created" and creation["actor"] == entry["actor"]
        assert creation["object"] == {"type": "contact", "id": contacts[email][0]["id"]}
        assert creation["changes"]["email"]["personal"] and creation["changes"]["lifecycle_stage"] == {
            "before": None,
            "after": "lead",
            "personal": False,
            "hidden": False,
        }
        assert creation["request_id"] == job["id"] and creation["source_ip"] is None
    (before,) = client.all_pages("/v1/audit-events", {"object_id": first["id"]})
    timeline = client.get(f"/v1/contacts/{first['id']}/timeline").json()["items"]
    assert [e["id"] for e in timeline] == [before["id"]]  # named by its creation's event, as any
    assert (
        client.get(
            "/v1/audit-events", params={"object_id": first["id"], "to": "2000-01-01T00:00:00Z"}
        ).json()["items"]
        == []
    )
    assert client.get("/v1/audit-events", params={"object_id": first["id"], "limit": 1}).json()["items"] == [
        before
    ]

    # Its first change writes the creation's entry beside its own: the trail reads the same, once.
    assert client.patch(f"/v1/contacts/{first['id']}", {"lifecycle_stage": "customer"}).status_code == 200
    after = client.all_pages("/v1/audit-events", {"object_id": first["id"]})
    assert [e["action"] for e in after] == ["contact.updated", "contact.created"]
    assert after[1] == before
    assert after[0]["actor"]["via"] == "api_key"
    # and a page that ends on the creation has nothing after it
    page = client.get("/v1/audit-events", params={"object_id": first["id"], "limit": 1}).json()
    rest = client.get(
        "/v1/audit-events", params={"object_id": first["id"], "cursor": page["next_cursor"]}
    ).json()
    assert rest["items"] == [before] and rest["next_cursor"] is None

    # An imported record erased as it was imported: its creation's entry is written with no value kept.
    second = contacts["a1@example.com"][0]
    assert client.post(f"/v1/privacy/contacts/{second['id']}/erase").status_code == 200
    erased = client.all_pages("/v1/audit-events", {"object_id": second["id"]})
    assert [e["action"] for e in erased] == ["contact.erased", "contact.created"]
    assert all(
        change == {"before": None, "after": None, "personal": True, "hidden": False}
        for change in erased[1]["changes"].values()
    ), erased[1]
    assert "lifecycle_stage" in erased[1]["changes"]
