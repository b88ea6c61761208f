"""A person's data (API.md privacy, docs/privacy.md): the export holds everything about the person; after an
erasure, the person's address and name are in no answer of any read of the API.

The walk over the reads is generated from the OpenAPI document: every GET route of the tenant, with the ids
its path names (the person's own records where the path is of their kind, another record of the tenant
otherwise) and each query that searches or filters set to find the person. A future route is walked
without anyone listing it here.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.repositories import keys, privacy_repository
from crm_core.repositories.suppression_repository import is_suppressed
from crm_core.services import privacy

from crm_local.runtime import LocalRuntime
from tests.integration.test_events import BusTap
from tests.integration.test_exports import download, run_export
from tests.support.api_document import NEVER_ISSUED, Operation, operations
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.roles import clients_by_role
from tests.support.waiting import eventually

GETS = [op for op in operations() if op.method == "GET"]
PROPERTY = "nickname"


class Person:
    """A contact whose data is in every place a read can find it: its record, its search entries, a
    duplicate pair, an update in its timeline, an activity about it (and that activity's entries in the
    timelines of its deal and company), a deal, a custom value, the audit trail, a notification of its
    assignment and a webhook target's delivery log."""

    def __init__(self, client: ApiClient) -> None:
        tag = uuid.uuid4().hex[:8]
        self.first, self.last = "Zebulon", f"Quaxley{tag}"
        self.email = f"zq.{tag}@privacy.example"
        digits = str(int(tag, 16))[-4:]
        self.old_phone, self.phone = f"+44 20 7946 {digits}", f"+44 20 7000 {digits}"
        self.nickname = f"Zebby{tag}"
        self.subject = f"Call about Quaxley{tag} knee surgery"
        self.client = client
        response = client.post(
            "/v1/properties/contacts", {"name": PROPERTY, "label": "Nickname", "type": "string"}
        )
        assert response.status_code in (201, 409), response.text
        self.company = client.create("companies", {"name": f"Privacy Co {tag}"})
        self.target = client.create(
            "event-targets",
            {
                "type": "webhook",
                "url": "http://127.0.0.1:9/privacy",  # nothing listens: each try is logged as failed
                "secret": "privacy-secret-0123456789",
                "event_types": ["contact.*"],
            },
        )
        eventually(lambda: self._target_status() == "active", timeout=60)
        # Another admin assigns the contact to the tenant's admin: a notification titled with its name. The
        # create's answer is kept as its Idempotency-Key's replay.
        colleague = user_client(client, Role.ADMIN)
        created = colleague.post(
            "/v1/contacts",
            {
                "first_name": self.first,
                "last_name": self.last,
                "email": self.email,
                "phone": self.old_phone,
                "title": "Chief Privacy Tester",
                "tags": ["vip"],
                "company_id": self.company["id"],
                "owner_id": client.user_id,
                "custom": {PROPERTY: self.nickname},
            },
            headers={"Idempotency-Key": f"privacy-{tag}"},
        )
        assert created.status_code == 201, created.text
        self.contact = created.json()
        self.id = self.contact["id"]
        changed = client.patch(f"/v1/contacts/{self.id}", {"phone": self.phone})
        assert changed.status_code == 200, changed.text
        # The same person entered twice: a duplicate pair (same name), erased as well.
        self.twin = client.create("contacts", {"first_name": self.first, "last_name": self.last})
        self.deal = client.create(
            "deals", {"name": f"Renewal {tag}", "contact_ids": [self.id], "company_id": self.company["id"]}
        )
        self.activity = client.create(
            "activities",
            {
                "type": "note",
                "subject": self.subject,
                "body": f"Spoke with {self.first} {self.last} ({self.email}).",
                "contact_id": self.id,
                "deal_id": self.deal["id"],
                "company_id": self.company["id"],
            },
        )
        eventually(self._delivered, timeout=60)

    def _target_status(self) -> str:
        return str(self.client.get(f"/v1/event-targets/{self.target['id']}").json()["status"])

    def _delivered(self) -> bool:
        """The target's log has a try of the contact's creation (whose stored event holds its address)."""
        path = f"/v1/event-targets/{self.target['id']}/deliveries"
        tries = self.client.get(path, params={"limit": 100}).json()["items"]
        return any(t["event_type"] == "contact.created" for t in tries)

    def stored_in(self, hash_key: str) -> list[str]:
        """The needles the items of one of the tenant's partitions hold as stored (what no route shows:
        a delivery's event kept for redelivery, an idempotency record's answer)."""
        walk = privacy_repository.raw_items_holding(hash_key, self.needles)
        return sorted({n for raw in walk.raw for n in self.needles if n.lower() in json.dumps(raw).lower()})

    @property
    def needles(self) -> list[str]:
        """What must not be found after the erasure: the address, the names, the phone, the custom value,
        what was said with the person."""
        return [
            self.email,
            self.last,
            f"{self.first} {self.last}",
            self.phone,
            self.old_phone,
            self.nickname,
            self.subject,
        ]

    def record_of(self, collection: str) -> str:
        """The id a path of ``collection`` is walked with: the person's own where there is one."""
        own = {
            "contacts": self.id,
            "privacy": self.id,
            "companies": self.company["id"],
            "deals": self.deal["id"],
            "activities": self.activity["id"],
            "event-targets": self.target["id"],
        }
        if collection in own:
            return own[collection]
        listed = self.client.get(f"/v1/{collection}", params={"limit": 1}).json().get("items") or []
        return str(listed[0]["id"]) if listed else NEVER_ISSUED

    def calls(self, op: Operation) -> Iterator[tuple[str, dict[str, str]]]:
        """(path, query) of each way of reading ``op`` that could find the person."""
        values = {
            "record_id": self.record_of(op.collection),
            "import_id": NEVER_ISSUED,
            "export_id": NEVER_ISSUED,  # the exports made after the erasure are read whole below
            "object": "contacts",
            "name": PROPERTY,
            "report_name": "customer-value",  # per company: what an erased person's deals leave there
        }
        path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], op.path)
        yield path, {}
        names = {p["name"] for p in op.query_parameters}
        page = {"limit": "100"} if "limit" in names else {}
        yield path, page
        if "q" in names:
            for term in (self.first.lower(), self.last.lower(), self.email[:6], self.email, "call"):
                yield path, {**page, "q": term}
        for name, value in (
            ("contact_id", self.id),
            ("object_id", self.id),
            ("company_id", self.company["id"]),
            ("deal_id", self.deal["id"]),
        ):
            if name in names:
                yield path, {**page, name: value}
        if "archived" in names:
            yield path, {**page, "archived": "true"}
        expands = re.search(r"Expands ([a-z_, ]+) \(", op.spec.get("description") or "")
        if expands and "expand" in names:
            yield path, {**page, "expand": ",".join(n.strip() for n in expands.group(1).split(","))}

    def found_in_reads(self) -> dict[str, list[str]]:
        """Each read (method, path and query) whose answer holds one of the needles, with those it holds."""
        found: dict[str, list[str]] = {}
        for op in GETS:
            for path, query in self.calls(op):
                response = self.client.get(path, params=query)
                assert response.status_code in (200, 404), (path, query, response.text)
                text = response.text.lower()
                held = [needle for needle in self.needles if needle.lower() in text]
                if held:
                    found[f"GET {path} {query}"] = held
        return found


@pytest.fixture
def person(client: ApiClient) -> Iterator[Person]:
    made = Person(client)
    yield made
    # Its target's retries to the discard port stop: they would cost the runtime the rest of the suite.
    client.delete(f"/v1/event-targets/{made.target['id']}")


def test_after_erasure_the_person_is_in_no_answer_of_any_read(
    runtime: LocalRuntime, client: ApiClient, other: ApiClient, person: Person
) -> None:
    tap = BusTap(runtime, client.tenant_id)
    same_email_elsewhere = other.create("contacts", {"email": person.email, "first_name": person.first})
    deliveries = keys.record_pk(client.tenant_id, "event_target", person.target["id"])
    replays = keys.idempotency_pk(client.tenant_id)

    # The walk sees the person where they are: the record, search, timelines, notifications, duplicates;
    # a delivery's stored event and a create's replay hold the address.
    before = person.found_in_reads()
    for read in ("/v1/contacts {'limit': '100', 'q'", "/timeline", "/v1/notifications", "/duplicates"):
        assert any(read in found for found in before), (read, before)
    assert person.email in person.stored_in(deliveries) and person.email in person.stored_in(replays)
    _export_holds_everything(client, person)
    _only_the_tenants_admin_may_ask(client, other, person)

    # The target stops first: a retry it still had queued would log the event it holds again after the
    # erasure (docs/privacy.md: what was queued to a partner before the erasure is not recalled).
    assert client.delete(f"/v1/event-targets/{person.target['id']}").status_code == 204
    tombstone = _erased(client, person)
    again = client.post(f"/v1/privacy/contacts/{person.id}/erase")  # asked again: the same, no event
    assert again.status_code == 200 and again.json() == tombstone
    twin = client.post(f"/v1/privacy/contacts/{person.twin['id']}/erase")  # the same person's other record
    assert twin.status_code == 200, twin.text
    # The copies are scrubbed in the background, after the answer: asking again tells when it is done.
    for erased_id in (person.id, person.twin["id"]):
        assert eventually(lambda erased_id=erased_id: _scrubbed(client, erased_id), timeout=60), erased_id

    left = person.found_in_reads()
    assert not left, json.dumps(left, indent=1)
    assert person.stored_in(deliveries) == []
    assert person.stored_in(replays) == []
    after = client.get(f"/v1/privacy/contacts/{person.id}/export").json()
    assert after["contact"] == client.get(f"/v1/contacts/{person.id}").json() == tombstone
    assert after["timeline"] == [] and after["audit"] == [] and after["company"] is None
    assert all(records == [] for records in after["linked"].values())
    # A tenant export made now holds the tombstone and nothing of the person, in any file of its zip.
    zipped = zipfile.ZipFile(io.BytesIO(download(run_export(client))))
    exported = "\n".join(zipped.read(name).decode() for name in zipped.namelist())
    assert person.id in exported
    assert [needle for needle in person.needles if needle in exported] == []

    # The tombstone is not changed back nor merged; the address is suppressed; a new contact may take it.
    patched = client.patch(f"/v1/contacts/{person.id}", {"email": person.email})
    assert patched.status_code == 409, patched.text
    live = client.create("contacts", {"first_name": "Someone", "last_name": "Else"})
    for survivor, duplicate in ((person.id, live["id"]), (live["id"], person.id)):
        merged = client.post(f"/v1/contacts/{survivor}/merge", {"duplicate_id": duplicate})
        assert merged.status_code == 409, merged.text
    assert is_suppressed(client.tenant_id, person.email.upper())
    assert not is_suppressed(other.tenant_id, person.email)
    assert client.post("/v1/contacts", {"email": person.email}).status_code == 201
    # The other tenant's contact with the same address is untouched.
    assert other.get(f"/v1/contacts/{same_email_elsewhere['id']}").json() == same_email_elsewhere

    # One contact.erased per erased contact, carrying the tombstone and no erased value.
    erasures = [e for e in tap.drain(expected=2, timeout=20) if e["detail-type"] == "contact.erased"]
    assert sorted(e["detail"]["data"]["id"] for e in erasures) == sorted([person.id, person.twin["id"]])
    detail = next(e["detail"] for e in erasures if e["detail"]["data"]["id"] == person.id)
    assert detail["data"] == tombstone and detail["changes"] == {}
    text = json.dumps(erasures).lower()
    assert not [needle for needle in person.needles if needle.lower() in text]


def _export_holds_everything(client: ApiClient, person: Person) -> None:
    export = client.get(f"/v1/privacy/contacts/{person.id}/export")
    assert export.status_code == 200, export.text
    held = export.json()
    assert held["contact"]["email"] == person.email and held["contact"]["erased_at"] is None
    assert held["company"] == {"id": person.company["id"], "name": person.company["name"]}
    assert {e["type"] for e in held["timeline"]} >= {"contact.created", "contact.updated", "activity.created"}
    assert [a["subject"] for a in held["linked"]["activities"]] == [person.subject]
    assert held["linked"]["deals"] == [{"id": person.deal["id"], "name": person.deal["name"]}]
    assert {a["action"] for a in held["audit"]} >= {"contact.created", "contact.updated"}


def _only_the_tenants_admin_may_ask(client: ApiClient, other: ApiClient, person: Person) -> None:
    """Another tenant's admin is answered as for a missing id; the tenant's other roles are 403."""
    for verb, call in (("export", other.get), ("erase", other.post)):
        foreign = call(f"/v1/privacy/contacts/{person.id}/{verb}")
        missing = call(f"/v1/privacy/contacts/{NEVER_ISSUED}/{verb}")
        assert foreign.status_code == missing.status_code == 404, foreign.text
        assert foreign.json()["detail"].replace(person.id, "<id>") == missing.json()["detail"].replace(
            NEVER_ISSUED, "<id>"
        )
    for role, caller in clients_by_role(client).items():
        if role is not Role.ADMIN:
            assert caller.get(f"/v1/privacy/contacts/{person.id}/export").status_code == 403, role
            assert caller.post(f"/v1/privacy/contacts/{person.id}/erase").status_code == 403, role
    assert client.get(f"/v1/contacts/{person.id}").json()["email"] == person.email


def _erased(client: ApiClient, person: Person) -> dict[str, Any]:
    """The tombstone: the record's id, owner, company and times; every personal field cleared."""
    erased = client.post(f"/v1/privacy/contacts/{person.id}/erase")
    assert erased.status_code == 200, erased.text
    tombstone: dict[str, Any] = erased.json()
    assert erased.headers["ETag"] == f'"{tombstone["version"]}"'
    assert tombstone["erased_at"] and tombstone["id"] == person.id
    assert tombstone["owner_id"] == client.user_id and tombstone["company_id"] == person.company["id"]
    assert tombstone["created_at"] == person.contact["created_at"]
    for name in ("first_name", "last_name", "email", "phone", "title", "source"):
        assert tombstone[name] is None, name
    assert tombstone["custom"] == {} and tombstone["tags"] == []
    return tombstone


def _scrubbed(client: ApiClient, contact_id: str) -> bool:
    answer = client.post(f"/v1/privacy/contacts/{contact_id}/erase")
    assert answer.status_code == 200, answer.text
    assert answer.headers[privacy.SCRUB_STATUS_HEADER] in ("pending", "done")
    return answer.headers[privacy.SCRUB_STATUS_HEADER] == "done"


def test_the_contacts_merged_into_an_erased_one_are_erased_with_it(client: ApiClient) -> None:
    """A merge's duplicate is the same person: erasing the survivor erases it too, and the address and unique
    custom value the merge made lead to the survivor are free again (a create with them is a new person)."""
    created = client.post(
        "/v1/properties/contacts", {"name": "member_no", "label": "Member", "type": "string", "unique": True}
    )
    assert created.status_code == 201, created.text
    survivor = client.create(
        "contacts", {"email": "kept@merged.example", "first_name": "Kept", "custom": {"member_no": "K-1"}}
    )
    merged = client.create(
        "contacts", {"email": "twin@merged.example", "first_name": "Twinny", "custom": {"member_no": "T-2"}}
    )
    older = client.create("contacts", {"email": "older@merged.example", "last_name": "Olderson"})
    for duplicate in (older, merged):  # older into merged, then merged into the survivor: a chain
        into = merged if duplicate is older else survivor
        assert (
            client.post(f"/v1/contacts/{into['id']}/merge", {"duplicate_id": duplicate["id"]}).status_code
            == 200
        )
    refused = client.post("/v1/contacts", {"email": "twin@merged.example"})
    assert refused.status_code == 409 and refused.json()["existing_id"] == survivor["id"], refused.text

    assert client.post(f"/v1/privacy/contacts/{survivor['id']}/erase").status_code == 200
    archived = {c["id"]: c for c in client.all_pages("/v1/contacts", {"archived": "true", "limit": 100})}
    for contact in (merged, older):
        tombstone = archived[contact["id"]]
        assert tombstone["erased_at"] and tombstone["email"] is None and tombstone["custom"] == {}, tombstone
    for email in ("kept@merged.example", "twin@merged.example", "older@merged.example"):
        assert client.get("/v1/contacts", params={"q": email}).json()["items"] == []
        assert email not in json.dumps(list(archived.values()))
        assert client.post("/v1/contacts", {"email": email}).status_code == 201, email
    assert (
        client.post("/v1/contacts", {"first_name": "New", "custom": {"member_no": "T-2"}}).status_code == 201
    )


def _dynamodb_calls(work: Callable[[], Any]) -> int:
    """The DynamoDB calls ``work`` makes in this thread (the runtime's workers, in theirs, are not
    counted), as bench/recorder.py counts a request's: at botocore's one door to the wire."""
    me = threading.get_ident()
    count = 0
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        nonlocal count
        if threading.get_ident() == me and self.meta.service_model.service_name == "dynamodb":
            count += 1
        return original(self, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counting)
        work()
    return count


def test_the_erase_request_is_bounded_and_the_scrub_after_it_may_run_again(client: ApiClient) -> None:
    """The request makes as many DynamoDB calls for a person with 50 activities as for one with 5: the
    scrub of the copies runs after it, in the consumer of contact.erased; a redelivered message scrubs
    again and changes nothing."""
    ctx = RequestContext(Principal.system(client.tenant_id, "test"))
    calls: dict[int, int] = {}
    for count in (5, 50):
        tag = uuid.uuid4().hex[:8]
        contact = client.create("contacts", {"first_name": "Bounded", "last_name": f"Qx{tag}"})
        inputs = [
            {"type": "note", "subject": f"Secret {tag} {i}", "contact_id": contact["id"]}
            for i in range(count)
        ]
        made = client.post("/v1/activities/batch/create", {"inputs": inputs})
        assert made.status_code in (200, 201, 207), made.text
        calls[count] = _dynamodb_calls(
            lambda contact_id=contact["id"]: privacy.erase_contact(ctx, contact_id)
        )
    assert calls[5] == calls[50] <= 12, calls

    # The 50 activities' text is cleared by the consumer; the scrub's item (the words) is gone then.
    assert eventually(lambda: _scrubbed(client, contact["id"]), timeout=60)
    activities = client.all_pages("/v1/activities", {"contact_id": contact["id"], "limit": 100})
    assert len(activities) == 50 and {a["subject"] for a in activities} == {None}
    assert privacy_repository.pending_scrub(client.tenant_id, contact["id"]) is None
    timeline = client.all_pages(f"/v1/contacts/{contact['id']}/timeline", {"limit": 100})

    # Redelivered: the same state, nothing written again.
    event: Any = {
        "detail": {"type": "contact.erased", "tenant_id": client.tenant_id, "data": {"id": contact["id"]}}
    }
    assert privacy.handle_erased(event).startswith("scrubbed")
    again = client.all_pages("/v1/activities", {"contact_id": contact["id"], "limit": 100})
    assert sorted((a["id"], a["version"]) for a in again) == sorted(
        (a["id"], a["version"]) for a in activities
    )
    assert client.all_pages(f"/v1/contacts/{contact['id']}/timeline", {"limit": 100}) == timeline
    assert _scrubbed(client, contact["id"])
    # Another tenant's event names no contact of this one: nothing to do.
    foreign: Any = {
        "detail": {"type": "contact.erased", "tenant_id": NEVER_ISSUED, "data": {"id": contact["id"]}}
    }
    assert privacy.handle_erased(foreign).startswith("nothing to do")
