"""Tenant isolation and roles, generated from the API's own OpenAPI document (API.md section 2 and
"roles"): every operation the document lists is called as the contract's rules say it must answer, so a
new route or a new field is checked without anyone listing it here.

- An id of another tenant's record in a path is indistinguishable from a never-issued id (404, the same
  body), and the record is unchanged after.
- An id of another tenant's record in a body field that refers to a record is refused like a never-issued
  one (422 naming the field, or 404), and nothing is written.
- Every role against every write: a viewer only reads; a rep changes what it owns, not settings; a
  manager changes what its team's users own, not settings; an admin does everything. Every role reads
  every record.
- Another tenant's lists, searches, duplicates, timelines and batch reads never show the first tenant's
  records.

Which writes are settings the document says (``x-crm-required-role: admin``, from the record types'
``admin_only``). What the rules cannot derive is data here, in one place each: the settings still to come
(SETTINGS), which kind of record a reference field names (REFERENCES), and the few bodies a schema cannot
state (tests/support/api_document.py EXAMPLES).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from crm_core.auth import Role

from tests.support.api_document import (
    NEVER_ISSUED,
    Operation,
    body_for,
    collections_with_records,
    document,
    make_record,
    one_change,
    operation,
    operations,
    reference_fields,
    resolve,
    with_parents,
)
from tests.support.client import ApiClient
from tests.support.credentials import user_client
from tests.support.roles import clients_by_role
from tests.support.waiting import eventually

# API.md "roles": an admin alone manages the settings. The document marks each write of one; these name
# settings to come, so that they are settings from their first route even if it forgets the mark.
SETTINGS = (
    "/v1/properties",
    "/v1/imports",
    "/v1/exports",
    "/v1/privacy",
    "/v1/sla-policies",
)
# The sales catalogue (products): managers and admins change it, every role reads it (decision 0029).
CATALOGUE = ("/v1/products",)
# Writes that change only the caller's own state, which every role may make.
OWN_STATE = ("/v1/notifications/",)
# Reads of every user's work, which only an admin may make (every other read is every role's).
ADMIN_READS = ("/v1/audit-events", "/v1/imports", "/v1/exports", "/v1/privacy", "/v1/usage")

# Records named by a key of their own instead of an id: a custom property by its object and name
# (/v1/properties/{object}/{name}); the matrix's properties are its contacts'.
PROPERTY_OBJECT = "contacts"
NEVER_NAMED = "never_defined"  # a well-formed property name that no tenant defines

# What a body field that holds an id refers to: a collection, or one of the kinds below.
REFERENCES = {
    "company_id": "companies",
    "contact_id": "contacts",
    "contact_ids": "contacts",
    "deal_id": "deals",
    "pipeline_id": "pipelines",
    "stage_id": "stage",  # a stage of a pipeline
    "owner_id": "user",
    "user_id": "user",
    "manager_id": "user",
    "team_id": "teams",
    "duplicate_id": "same",  # a record of the path's own collection
    "event_id": "event",
    "object_id": "contacts",  # the audit trail's: any record
    "actor_id": "user",
    "assignee_id": "user",
    "article_ids": "kb-articles",
    "segment_id": "segments",
    "contract_id": "contracts",
    "quote_id": "quotes",
    "product_id": "products",
}

# The issue 8 items being fixed on other branches, as the cases they excuse for now. A case listed here
# is checked the other way round: while it fails as the item describes, it passes; once it answers as
# the contract says, it fails with "delete the entry", so the entry goes when the fix merges.
KNOWN_DEFECTS: list[tuple[str, frozenset[str], tuple[str, ...]]] = [
    # (issue item, roles, path prefixes or suffixes of the operations), e.g.
    # ("issue 8 item 1: settings are not admin-only", frozenset({"rep", "manager"}), ("/v1/pipelines",)),
]


def known_defect(role: str, op: Operation) -> str | None:
    for item, roles, where in KNOWN_DEFECTS:
        if role in roles and any(op.path.startswith(w) or op.path.endswith(w) for w in where):
            return item
    return None


def is_setting(op: Operation) -> bool:
    return op.spec.get("x-crm-required-role") == "admin" or op.path.startswith(SETTINGS)


def test_every_write_of_a_setting_is_marked_in_the_document() -> None:
    """Every write under the path of an admin-only record type says so: the mark is what clients and the
    matrix read."""
    from crm_core.record_types import RECORD_TYPES

    settings = tuple(t.path for t in RECORD_TYPES if t.record_service().spec.admin_only)
    unmarked = [
        str(op)
        for op in operations()
        if op.is_write and op.path.startswith(settings) and op.spec.get("x-crm-required-role") != "admin"
    ]
    assert settings and not unmarked, unmarked


# ---------------------------------------------------------------------------------------------- tenants


@dataclass
class Tenant:
    """A tenant with a user in every role and one record of every collection, made by its admin."""

    admin: ApiClient
    users: dict[Role, ApiClient] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    teammate: ApiClient | None = None  # a rep in the team the manager manages
    other_admin: ApiClient | None = None  # who assigns the admin a record (a notification of its own)
    delivered: dict[str, str] = field(default_factory=dict)  # an event delivered to each target, by target

    @classmethod
    def make(cls, admin: ApiClient) -> Tenant:
        tenant = cls(admin, clients_by_role(admin))
        manager = tenant.users[Role.MANAGER]
        team = admin.create("teams", {"name": "Matrix team", "manager_id": manager.user_id})
        tenant.teammate = user_client(admin, Role.REP, team_id=team["id"])
        tenant.other_admin = user_client(admin, Role.ADMIN)
        for collection in (*collections_with_records(), "imports", "exports"):
            tenant.records[collection] = make_record(admin, collection)
        tenant.records["properties"] = tenant.admin.get(
            f"/v1/properties/{PROPERTY_OBJECT}/{tenant.new_property()}"
        ).json()
        return tenant

    def new_property(self) -> str:
        """A new property of the tenant's contacts, made by its admin: its name."""
        body = body_for(operation("POST", "/v1/properties/{object}"))
        response = self.admin.post(f"/v1/properties/{PROPERTY_OBJECT}", body)
        assert response.status_code == 201, response.text
        return str(response.json()["name"])

    def new(self, collection: str, owner: ApiClient | None = None) -> str:
        return str(make_record(owner or self.admin, collection)["id"])

    @property
    def ids(self) -> set[str]:
        return {r["id"] for r in self.records.values()} | {self.admin.user_id, self.admin.tenant_id}

    def notification(self) -> str:
        """A notification of a user's: its manager assigns it a contact."""
        assert self.teammate is not None
        make_record(self.users[Role.MANAGER], "contacts", owner_id=self.teammate.user_id)
        items = self.teammate.get("/v1/notifications").json()["items"]
        assert items, "assigning a record notifies its new owner"
        return str(items[0]["id"])

    def event_id(self) -> str:
        """An event of this tenant's: the latest of its contact's."""
        contact = self.records["contacts"]["id"]
        return str(self.admin.get(f"/v1/contacts/{contact}/timeline").json()["items"][0]["id"])

    def delivered_event(self, target_id: str) -> str:
        if target_id not in self.delivered:
            self.delivered[target_id] = _delivered_event(self, target_id)
        return self.delivered[target_id]

    def stage_id(self) -> str:
        pipeline = self.records["pipelines"]
        return str(pipeline["stages"][0]["id"])

    def referenced(self, kind: str, op: Operation) -> str:
        """An id of this tenant's of the kind a reference field names."""
        if kind == "user":
            return self.admin.user_id
        if kind == "stage":
            return self.stage_id()
        if kind == "event":
            return self.event_id()
        return self.new(op.collection if kind == "same" else kind)

    def snapshot(self, collection: str, record_id: str) -> dict[str, Any]:
        """The record as its tenant reads it, less what changes by itself (a target's routing status).
        A property is named by its name instead of its id."""
        path = f"/v1/{collection}/{record_id}"
        if collection == "properties":
            path = f"/v1/properties/{PROPERTY_OBJECT}/{record_id}"
        response = self.admin.get(path, params={"archived": "true"})
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        if collection == "event-targets":
            record.pop("status", None)
        return record

    def all_ids(self, collection: str) -> set[str]:
        path = f"/v1/properties/{PROPERTY_OBJECT}" if collection == "properties" else f"/v1/{collection}"
        return {r["id"] for r in self.admin.all_pages(path, {"limit": 100})}


def _archive_event_targets(tenant: Tenant) -> None:
    """Afterwards, so that the tries still due to the targets' discard port cost the runtime nothing."""
    for target in tenant.admin.all_pages("/v1/event-targets", {"limit": 100}):
        tenant.admin.delete(f"/v1/event-targets/{target['id']}")


# The module's two tenants answer every route for every role: well over a plan's requests a minute on a fast
# machine. The limit is not what this module checks (test_rate_limits.py does).
MATRIX_RATE_LIMIT = 1_000_000


@pytest.fixture(scope="module")
def owner(base_url: str) -> Iterator[Tenant]:
    from tests.conftest import new_tenant_client

    tenant = Tenant.make(new_tenant_client(base_url, "Owner", rate_limit_per_minute=MATRIX_RATE_LIMIT))
    yield tenant
    _archive_event_targets(tenant)


@pytest.fixture(scope="module")
def intruder(base_url: str) -> Iterator[Tenant]:
    from tests.conftest import new_tenant_client

    tenant = Tenant.make(new_tenant_client(base_url, "Intruder", rate_limit_per_minute=MATRIX_RATE_LIMIT))
    yield tenant
    _archive_event_targets(tenant)


# ------------------------------------------------------------------------------------------ comparisons


def masked(response: requests.Response, *ids: str) -> dict[str, Any]:
    """What the caller learns from an answer, with the ids it sent masked."""
    text = response.text
    for record_id in ids:
        text = text.replace(record_id, "<id>")
    return {
        "status": response.status_code,
        "content_type": response.headers.get("Content-Type"),
        "headers": sorted(set(response.headers) - {"X-Request-Id", "Date"}),
        "body": json.loads(text) if text else None,
    }


def as_made(job: dict[str, Any]) -> dict[str, Any]:
    """What an import or an export is from its making on (its progress and links move by themselves)."""
    return {key: job.get(key) for key in ("id", "created_by", "created_at")}


def assert_like_never_issued(
    foreign: requests.Response, foreign_id: str, missing: requests.Response, missing_id: str = NEVER_ISSUED
) -> None:
    assert masked(foreign, foreign_id) == masked(missing, missing_id), (foreign.text, missing.text)
    assert "ETag" not in foreign.headers


def path_with(op: Operation, **values: str) -> str:
    values = {"object": PROPERTY_OBJECT, **values}
    values.setdefault("import_id", values.get("record_id", ""))  # an import is named as a record is
    values.setdefault("export_id", values.get("record_id", ""))  # and so is an export
    values.setdefault("report_name", "customer-value")  # a report of records: its rows name companies
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], op.path)


def call(client: ApiClient, op: Operation, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    if op.method in ("GET", "DELETE"):
        return client.request(op.method, path, **kwargs)
    return client.request(op.method, path, json_body=body if body is not None else {}, **kwargs)


# ------------------------------------------------------------------------------ foreign ids in a path

# Path parameters that name no record (a batch action, a property's object, a report: the same for every
# tenant, whose rows are the caller's own: test_reports.py checks another tenant's never appear).
NOT_IDS = {"action", "object", "report_name"}
ID_PATH_OPERATIONS = [op for op in operations() if set(op.path_parameters) - NOT_IDS]


def test_every_write_has_a_body_the_matrix_can_send() -> None:
    """A new write whose body the generic rules cannot build, and EXAMPLES does not give, fails here."""
    for op in operations():
        if op.is_write:
            body_for(op)


@pytest.mark.parametrize("op", ID_PATH_OPERATIONS, ids=str)
def test_another_tenants_id_in_the_path_is_like_a_missing_one(
    op: Operation, owner: Tenant, intruder: Tenant
) -> None:
    jobs = {"import_id": "imports", "export_id": "exports"}  # named by an id, read whole by GET
    unknown = set(op.path_parameters) - NOT_IDS - {"record_id", "notification_id", "name", *jobs}
    assert not unknown, f"{op}: teach this test to make another tenant's {unknown}"
    never = NEVER_NAMED if "name" in op.path_parameters else NEVER_ISSUED
    job = next((jobs[p] for p in op.path_parameters if p in jobs), None)
    if "notification_id" in op.path_parameters:
        foreign_id = owner.notification()
        before: Any = owner.admin.get("/v1/notifications").json()
    elif "name" in op.path_parameters:
        foreign_id = owner.new_property()
        before = owner.snapshot(op.collection, foreign_id)
    elif job:
        foreign_id = str(make_record(owner.admin, job)["id"])
        before = owner.admin.get(f"/v1/{job}/{foreign_id}").json()
    else:
        foreign_id = owner.new(op.collection)
        before = owner.snapshot(op.collection, foreign_id)
    body = body_for(op)
    if op.suffix == "merge":
        body = {"duplicate_id": intruder.new(op.collection)}  # its own: only the path is foreign
    elif op.suffix == "" and op.method == "PATCH":
        body = one_change(op.body_schema or {})

    ids = ("record_id", "notification_id", "name", *jobs)
    named = dict.fromkeys(ids, foreign_id)
    never_named = dict.fromkeys(ids, never)
    foreign = call(intruder.admin, op, path_with(op, **named), body)
    missing = call(intruder.admin, op, path_with(op, **never_named), body)
    assert foreign.status_code == 404, foreign.text
    assert_like_never_issued(foreign, foreign_id, missing, never)
    # ...and with If-Match, where a write honours it.
    if op.method in ("PATCH", "DELETE"):
        foreign = call(intruder.admin, op, path_with(op, **named), body, headers={"If-Match": '"1"'})
        missing = call(intruder.admin, op, path_with(op, **never_named), body, headers={"If-Match": '"1"'})
        assert_like_never_issued(foreign, foreign_id, missing, never)

    if "notification_id" in op.path_parameters:
        assert owner.admin.get("/v1/notifications").json() == before
    elif job:
        assert as_made(owner.admin.get(f"/v1/{job}/{foreign_id}").json()) == as_made(before)
    else:
        assert owner.snapshot(op.collection, foreign_id) == before


# ------------------------------------------------------------------------------ foreign ids in a body


def _body_references() -> Iterator[Any]:
    for op in operations():
        if op.is_write and op.body_schema is not None:
            for name, many in reference_fields(op.body_schema):
                yield pytest.param(op, None, name, many, id=f"{op} {name}")
        if op.path.endswith("/batch/{action}"):
            # The inputs are the collection's create and update bodies.
            for action, method in (("create", "POST"), ("update", "PATCH")):
                schema_op = operation(
                    method, f"/v1/{op.collection}" + ("/{record_id}" if method == "PATCH" else "")
                )
                for name, many in reference_fields(schema_op.body_schema or {}):
                    yield pytest.param(op, action, name, many, id=f"{op} {action} {name}")


@pytest.mark.parametrize(("op", "action", "field_name", "many"), list(_body_references()))
def test_another_tenants_id_in_a_body_is_refused_and_writes_nothing(
    op: Operation, action: str | None, field_name: str, many: bool, owner: Tenant, intruder: Tenant
) -> None:
    kind = REFERENCES.get(field_name)
    assert kind is not None, f"{op}: say what {field_name} refers to in REFERENCES"
    foreign_id = owner.referenced(kind, op)
    target = intruder.new(op.collection) if "{record_id}" in op.path or action == "update" else None

    def send(value: str) -> requests.Response:
        if action is not None:
            schema_op = operation(
                "POST" if action == "create" else "PATCH",
                f"/v1/{op.collection}" + ("" if action == "create" else "/{record_id}"),
            )
            item = body_for(schema_op) if action == "create" else {"id": target}
            item[field_name] = [value] if many else value
            return intruder.admin.post(f"/v1/{op.collection}/batch/{action}", {"inputs": [item]})
        body = body_for(op)
        if op.method == "POST" and "{record_id}" not in op.path:  # a create: on a record of its own tenant
            body = with_parents(intruder.admin, op.collection, body)
        if op.suffix == "merge" and field_name != "duplicate_id":
            body["duplicate_id"] = intruder.new(op.collection)
        body[field_name] = [value] if many else value
        return call(intruder.admin, op, path_with(op, record_id=target or ""), body)

    their_before = intruder.all_ids(op.collection) if op.collection in collections_with_records() else set()
    target_before = intruder.snapshot(op.collection, target) if target else None
    foreign, missing = send(foreign_id), send(NEVER_ISSUED)

    if action is not None:  # one result per input: the input's own status and problem
        assert foreign.status_code == 200, foreign.text
        foreign_result, missing_result = foreign.json()["results"][0], missing.json()["results"][0]
        assert foreign_result["status"] in (404, 422), foreign.text
        assert json.dumps(foreign_result).replace(foreign_id, "<id>") == json.dumps(missing_result).replace(
            NEVER_ISSUED, "<id>"
        )
        problem = foreign_result["error"]
    else:
        assert foreign.status_code in (404, 422), foreign.text
        assert_like_never_issued(foreign, foreign_id, missing)
        problem = foreign.json()
    if problem["status"] == 422:
        named = [e["field"] for e in problem.get("errors", [])]
        assert any(re.search(rf"\b{field_name}\b", name) for name in named), (field_name, named)

    if their_before:
        assert intruder.all_ids(op.collection) == their_before, "nothing is created"
    if target:
        assert intruder.snapshot(op.collection, target) == target_before, "nothing is changed"


# ---------------------------------------------------------------------------------------------- roles

# rep-own: a rep on the records it owns; manager-team: a manager on the records its team's users own
ROLES = ["viewer", "rep", "rep-own", "manager", "manager-team", "admin"]
OWN_RECORDS = ("rep-own", "manager-team")


def expected_to_be_allowed(role: str, op: Operation, action: str | None) -> bool:
    if op.path.startswith(OWN_STATE) or action == "read":
        return True
    if role == "viewer":
        return False
    if is_setting(op):
        return role == "admin"
    if op.path.startswith(CATALOGUE):
        return role in ("manager", "admin")
    if role in ("rep", "manager"):  # on records a user outside its team owns; creating is its own
        return "{record_id}" not in op.path and action in (None, "create")
    return True


def _write_cases() -> Iterator[Any]:
    for op in operations():
        if not op.is_write:
            continue
        actions: list[str | None] = (
            ["create", "read", "update", "upsert", "archive"]
            if op.path.endswith("/batch/{action}")
            else [None]
        )
        for action in actions:
            for role in ROLES:
                if role in OWN_RECORDS and (is_setting(op) or op.path.startswith((*OWN_STATE, *CATALOGUE))):
                    continue  # a rep owns no setting nor product; a notification is its own anyway
                label = f"{op}{' ' + action if action else ''} as {role}"
                yield pytest.param(op, action, role, id=label)


@dataclass
class Prepared:
    path: str
    body: Any
    record: str | None  # the record the call may change
    cleanup: list[str] = field(default_factory=list)  # paths to DELETE afterwards


def prepare(
    op: Operation,
    action: str | None,
    tenant: Tenant,
    record_owner: ApiClient,
    caller: ApiClient | None = None,
) -> Prepared:
    """The call ``op`` makes on a record that ``record_owner`` owns, with a body that is valid (a new
    record's parent, PARENTS, made by the ``caller``: creating is its own)."""
    if op.path.startswith(OWN_STATE):
        raise AssertionError("prepared by the test")
    if action is not None:
        record = tenant.new(op.collection, record_owner)
        create = operation("POST", f"/v1/{op.collection}")
        inputs = {
            "create": body_for(create),
            "read": {"id": record},
            "update": {
                "id": record,
                **one_change(operation("PATCH", f"/v1/{op.collection}/{{record_id}}").body_schema or {}),
            },
            "upsert": {
                "id": record,
                **one_change(operation("PATCH", f"/v1/{op.collection}/{{record_id}}").body_schema or {}),
            },
            "archive": {"id": record},
        }[action]
        return Prepared(f"/v1/{op.collection}/batch/{action}", {"inputs": [inputs]}, record)
    if "{name}" in op.path:  # a property (a setting: whoever owns records, the admin defines it)
        name = tenant.new_property()
        body = body_for(op)
        if op.method == "PATCH":
            body = one_change(op.body_schema or {})
        elif op.path.endswith("/restore"):
            assert tenant.admin.delete(path_with(op, name=name).removesuffix("/restore")).status_code == 204
        return Prepared(path_with(op, name=name), body, name)
    if "{record_id}" not in op.path:
        body = body_for(op)
        if op.method == "POST":
            # the caller's own parent (a payment needs a contract it may change); a viewer makes nothing: its
            # refused create names the admin's
            maker = record_owner if caller is None or caller is tenant.users[Role.VIEWER] else caller
            body = with_parents(maker, op.collection, body)
        return Prepared(path_with(op), body, None)
    if op.suffix == "redeliver":
        # A redelivery changes nothing of its target: every case asks it of the tenant's one target, whose
        # first delivered event is waited for once (routing to a new target takes seconds to be in place).
        target = tenant.records["event-targets"]["id"]
        return Prepared(path_with(op, record_id=target), {"event_id": tenant.delivered_event(target)}, target)
    record = tenant.new(op.collection, record_owner)
    path = path_with(op, record_id=record)
    body = body_for(op)
    if op.suffix == "" and op.method == "PATCH":
        body = one_change(op.body_schema or {})
    elif op.suffix == "restore":
        assert tenant.admin.delete(f"/v1/{op.collection}/{record}").status_code == 204
    elif op.suffix == "merge":
        body = {"duplicate_id": tenant.new(op.collection, record_owner)}
    elif op.suffix in ("send", "schedule"):
        _ready_to_send(op, tenant, record)
    return Prepared(
        path, body, record, [f"/v1/{op.collection}/{record}"] if op.collection == "event-targets" else []
    )


def _ready_to_send(op: Operation, tenant: Tenant, record: str) -> None:
    """A campaign goes to a segment, a quote to a contact with an email: the tenant's own."""
    if op.collection == "campaigns":
        change = {"segment_id": tenant.records["segments"]["id"]}
    else:
        change = {"contact_id": tenant.records["contacts"]["id"]}
    assert tenant.admin.patch(f"/v1/{op.collection}/{record}", change).status_code == 200


def _delivered_event(tenant: Tenant, target_id: str) -> str:
    """The id of an event the target was sent (its first try failed: nothing listens there). Events reach
    a target once routing to it is in place (its status turns from pending to active, in the background),
    so an event source is made again until one of their events is in the target's log."""

    def deliveries() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = tenant.admin.get(f"/v1/event-targets/{target_id}/deliveries").json()[
            "items"
        ]
        return items

    def one_delivered() -> list[dict[str, Any]]:
        make_record(tenant.admin, "event-sources")  # the event the example target is for
        return eventually(deliveries, timeout=15)

    delivered = eventually(one_delivered, timeout=120, every=0)
    assert delivered, "an event source's event reaches the target"
    return str(delivered[0]["event_id"])


def _statuses(response: requests.Response, action: str | None) -> list[int]:
    if action is not None and response.status_code == 200:
        return [r["status"] for r in response.json()["results"]]
    return [response.status_code]


@pytest.mark.parametrize(("op", "action", "role"), list(_write_cases()))
def test_every_role_against_every_write(op: Operation, action: str | None, role: str, owner: Tenant) -> None:
    caller = owner.users[Role(role.removesuffix("-own").removesuffix("-team"))]
    if op.path.startswith(OWN_STATE):
        # Its own notification: another user assigns the caller a contact (no one is notified of their own).
        assigner = owner.other_admin if caller is owner.admin else owner.admin
        make_record(assigner, "contacts", owner_id=caller.user_id)
        notification = caller.get("/v1/notifications").json()["items"][0]["id"]
        prepared = Prepared(path_with(op, notification_id=notification), None, None)
    else:
        record_owner = {"rep-own": caller, "manager-team": owner.teammate}.get(role) or owner.admin
        prepared = prepare(op, action, owner, record_owner, caller)
    allowed = expected_to_be_allowed(role, op, action)
    refused_record = prepared.record if not allowed else None
    before = owner.snapshot(op.collection, refused_record) if refused_record else None
    creates = op.method == "POST" and (prepared.record is None or action in ("create", "upsert"))
    listed = (
        owner.all_ids(op.collection)
        if creates and not allowed and op.collection in [*collections_with_records(), "properties"]
        else None
    )

    try:
        response = call(caller, op, prepared.path, prepared.body)
        after = owner.snapshot(op.collection, refused_record) if refused_record else None
    finally:
        for path in prepared.cleanup:
            owner.admin.delete(path)

    statuses = _statuses(response, action)
    as_contract = all(200 <= s < 300 for s in statuses) if allowed else statuses == [403]
    defect = known_defect(role, op)
    if defect is not None:
        assert not as_contract, f"{defect} is fixed for this case: delete its entry from KNOWN_DEFECTS"
        return
    assert as_contract, (f"expected {'2xx' if allowed else '403'}", statuses, response.text)
    if not allowed:
        if refused_record:
            assert after == before, "a refused write changes nothing"
        if listed is not None:
            assert owner.all_ids(op.collection) == listed, "a refused write creates nothing"


READ_OPERATIONS = [op for op in operations() if op.method == "GET"]


@pytest.mark.parametrize("op", READ_OPERATIONS, ids=str)
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_reads(op: Operation, role: str, owner: Tenant) -> None:
    caller = owner.users[Role(role)]
    path = path_with(
        op,
        record_id=owner.records.get(op.collection, {}).get("id", ""),
        notification_id=NEVER_ISSUED,
        name=owner.records["properties"]["name"],
    )
    response = caller.get(path)
    expected = 403 if op.path.startswith(ADMIN_READS) and role != Role.ADMIN else 200
    assert response.status_code == expected, response.text


# ------------------------------------------------------------------- what another tenant's reads show


@pytest.fixture(scope="module")
def owner_with_everything(owner: Tenant) -> Tenant:
    """The owner's records in every place a read can find them: a duplicate pair, a notification, a
    webhook delivery, timelines."""
    first = make_record(owner.admin, "contacts", first_name="Twin", last_name="Same")
    make_record(owner.admin, "contacts", first_name="Twin", last_name="Same")
    owner.records["twin"] = first
    owner.notification()
    owner.delivered_event(owner.records["event-targets"]["id"])
    return owner


def _query_variants(op: Operation, owner: Tenant) -> Iterator[tuple[str, dict[str, str], str | None]]:
    """(label, query, the foreign id it sends): each query parameter that searches or filters, set to
    something the owner's records match."""
    yield "no query", {}, None
    for parameter in op.query_parameters:
        name = parameter["name"]
        if name == "q":
            for term in ("matrix", "twin", "person", "m"):
                yield f"q={term}", {"q": term}, None
        elif re.search(r"_ids?$", name):
            kind = REFERENCES.get(name, "")
            value = {
                "user": owner.admin.user_id,
                "stage": owner.stage_id(),
                "event": owner.event_id(),
            }.get(kind) or owner.records.get(kind, {}).get("id")
            if value:
                yield f"{name}=foreign", {name: value}, value
        elif name == "archived":
            yield "archived", {"archived": "true"}, None


@pytest.mark.parametrize("op", READ_OPERATIONS, ids=str)
def test_another_tenants_reads_never_show_the_first_tenants_records(
    op: Operation, owner_with_everything: Tenant, intruder: Tenant
) -> None:
    owner = owner_with_everything
    own_id = intruder.records.get(op.collection, {}).get("id", NEVER_ISSUED)
    path = path_with(
        op, record_id=own_id, notification_id=NEVER_ISSUED, name=intruder.records["properties"]["name"]
    )
    for label, query, sent in _query_variants(op, owner):
        response = intruder.admin.get(path, params=query)
        leaked = {i for i in owner.ids | {owner.records["twin"]["id"]} if i in response.text} - {sent}
        assert not leaked, (label, response.text)
        if sent is not None:  # filtering by a foreign id is filtering by a missing one
            missing = intruder.admin.get(path, params={**query, next(iter(query)): NEVER_ISSUED})
            assert masked(response, sent) == masked(missing, NEVER_ISSUED), label


BATCH_COLLECTIONS = [op.collection for op in operations() if op.path.endswith("/batch/{action}")]


@pytest.mark.parametrize("collection", BATCH_COLLECTIONS)
def test_another_tenants_batch_read_finds_nothing(
    collection: str, owner_with_everything: Tenant, intruder: Tenant
) -> None:
    foreign = owner_with_everything.records[collection]["id"]
    response = intruder.admin.post(f"/v1/{collection}/batch/read", {"inputs": [{"id": foreign}]})
    missing = intruder.admin.post(f"/v1/{collection}/batch/read", {"inputs": [{"id": NEVER_ISSUED}]})
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == [404]
    assert masked(response, foreign) == masked(missing, NEVER_ISSUED)


def test_the_runtime_serves_the_document_these_checks_read(base_url: str) -> None:
    served = requests.get(f"{base_url}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == document()
    assert resolve({"$ref": "#/components/schemas/Problem"})["properties"]["status"]["type"] == "integer"
