"""The data sets and the endpoint scenarios: each measured step is one HTTP request to the gateway.

A scenario runs against one tenant; the same steps run for a tenant holding a few contacts and for one
holding thousands, so the two columns differ only by how much the tenant holds.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.api import Api
from bench.recorder import DynamoRecorder, Measurement

FIRST = ["Ada", "Alan", "Grace", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances"]
FIRST += ["Edsger", "Radia", "Tim", "Hedy", "John", "Sophie", "Yukihiro", "Guido", "Anita", "Donald"]
LAST = ["Lovelace", "Turing", "Hopper", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov"]
COMPANY_WORDS = ["Northwind", "Contoso", "Initech", "Globex", "Umbrella", "Hooli", "Vandelay", "Tyrell"]
SUFFIXES = ["Ltd", "GmbH", "Inc", "Labs", "Systems"]
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"]
TAGS = ["vip", "newsletter", "trial", "enterprise", "smb", "churn-risk", "webinar"]
NAMED_EVERY = 20  # one bulk contact in this many has a full name (and so duplicate keys)
BATCH = 100
BOARD_DEALS_PER_STAGE = 25

# (key, label) in the order the table shows them.
ENDPOINTS: list[tuple[str, str]] = [
    ("contact.create", "POST /contacts (create)"),
    ("contact.create_new_name", "POST /contacts (no namesake)"),
    ("contact.create_idempotent", "POST /contacts + Idempotency-Key"),
    ("contact.get", "GET /contacts/{id}"),
    ("contact.patch", "PATCH /contacts/{id} + If-Match"),
    ("property.create", "POST /properties/contacts (admin)"),
    ("contact.patch_custom", "PATCH /contacts/{id} custom property"),
    ("contact.patch_manager", "PATCH /contacts/{id} by the owner's manager"),
    ("contact.archive", "DELETE /contacts/{id} (archive)"),
    ("contact.restore", "POST /contacts/{id}/restore"),
    ("contact.list", "GET /contacts"),
    ("contact.list_owner", "GET /contacts?owner_id"),
    ("contact.list_company", "GET /contacts?company_id"),
    ("contact.list_stage", "GET /contacts?lifecycle_stage"),
    ("contact.list_tag", "GET /contacts?tag"),
    ("contact.list_updated_since", "GET /contacts?updated_since"),
    ("contact.list_q", "GET /contacts?q"),
    ("contact.list_page2", "GET /contacts?cursor (page 2)"),
    ("contact.timeline", "GET /contacts/{id}/timeline"),
    ("contact.duplicates", "GET /contacts/duplicates"),
    ("contact.merge", "POST /contacts/{id}/merge"),
    ("contact.batch_create_10", "POST /contacts/batch/create x10"),
    ("contact.batch_create_100", "POST /contacts/batch/create x100"),
    ("contact.batch_read_100", "POST /contacts/batch/read x100"),
    ("contact.batch_update_10", "POST /contacts/batch/update x10"),
    ("company.create", "POST /companies (create)"),
    ("company.get", "GET /companies/{id}"),
    ("company.list", "GET /companies"),
    ("company.list_q", "GET /companies?q"),
    ("company.contacts", "GET /companies/{id}/contacts"),
    ("deal.board", f"GET /pipelines/{{id}}/board ({BOARD_DEALS_PER_STAGE} a stage)"),
    ("deal.list", "GET /deals"),
    ("deal.list_stage", "GET /deals?stage_id"),
    ("deal.list_won", "GET /deals?status=won (filter)"),
    ("deal.list_by_amount", "GET /deals?sort=-amount"),
    ("deal.get", "GET /deals/{id}"),
    ("deal.create", "POST /deals (create)"),
    ("deal.patch_stage", "PATCH /deals/{id} stage + If-Match"),
    ("deal.timeline", "GET /deals/{id}/timeline"),
    ("activity.create", "POST /activities (contact + deal)"),
    ("activity.list_contact", "GET /activities?contact_id"),
    ("activity.complete", "POST /activities/{id}/complete"),
    ("notification.list", "GET /notifications"),
    ("ticket.create", "POST /tickets (SLA due times)"),
    ("ticket.reply", "POST /tickets/{id}/replies (first response)"),
    ("ticket.get", "GET /tickets/{id}"),
    ("ticket.list", "GET /tickets"),
    ("ticket.queue", "GET /tickets?assignee_id=me&sort=due_at (queue)"),
    ("ticket.list_status", "GET /tickets?status=open"),
    ("product.create", "POST /products"),
    ("quote.create", "POST /quotes (20 lines from products)"),
    ("quote.patch", "PATCH /quotes/{id} (20 lines)"),
    ("quote.pdf", "GET /quotes/{id}/pdf (20 lines)"),
    ("quote.send", "POST /quotes/{id}/send (email, expiry)"),
    ("quote.page", "GET /q/{token} (public page)"),
    ("quote.accept", "POST /q/{token}/accept (deal won)"),
    ("segment.create", "POST /segments (create)"),
    ("segment.members_indexed", "GET /segments/{id}/members (tag and stage)"),
    ("segment.members_unindexed", "GET /segments/{id}/members (no indexed condition)"),
    ("segment.count", "GET /segments/{id}/members?count=true"),
]
# The public pages: reached with no credential, so no authorizer (a signed token names the tenant).
PUBLIC = frozenset({"quote.page", "quote.accept"})
TICKET_PRIORITIES = ["low", "normal", "normal", "high", "urgent"]
TICKET_STATUSES = ["new", "open", "pending"]


@dataclass
class Dataset:
    name: str
    api: Api
    contacts: int
    companies: list[str] = field(default_factory=list)
    loaded_from: str = ""  # the created_at of the first bulk record: updated_since that spans them all
    load_seconds: float = 0.0
    deals: int = 0
    deals_load_seconds: float = 0.0
    tickets: int = 0
    tickets_load_seconds: float = 0.0
    pipeline_id: str = ""  # the tenant's default pipeline
    stages: dict[str, str] = field(default_factory=dict)  # stage name -> id
    open_stages: list[str] = field(default_factory=list)  # ids, in the pipeline's order

    @property
    def deals_per_second(self) -> float:
        return self.deals / self.deals_load_seconds if self.deals_load_seconds else 0.0


@dataclass
class Measured:
    key: str
    method: str
    path: str
    status: int
    measurement: Measurement
    # A page's answer: how many records it held and whether it named a next page (None: not a page).
    items_returned: int | None = None
    next_cursor: bool = False

    @property
    def read_efficiency(self) -> float | None:
        """Records a page returned for each item its Queries read (None: not a page, or nothing read)."""
        read = self.measurement.items_read
        return round(self.items_returned / read, 3) if self.items_returned is not None and read else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": f"{self.method} {self.path}",
            "status": self.status,
            **self.measurement.to_dict(),
            "items_returned": self.items_returned,
            "next_cursor": self.next_cursor,
            "read_efficiency": self.read_efficiency,
        }


# ------------------------------------------------------------------------------------------ data sets


def company_inputs(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{COMPANY_WORDS[n % len(COMPANY_WORDS)]} {SUFFIXES[n % len(SUFFIXES)]} {n}",
            "domain": f"company{n}.bench.example",
            "industry": "Software" if n % 2 else "Retail",
            "employees": 10 + n,
            "tags": [TAGS[n % len(TAGS)]],
        }
        for n in range(start, start + count)
    ]


def contact_inputs(
    count: int, company_ids: list[str], start: int = 0, prefix: str = "c"
) -> list[dict[str, Any]]:
    """Bulk contacts. Most carry a first name only: a full name or a phone gives a contact duplicate keys,
    and each duplicate key costs its create one Query, which moto answers by walking the whole table (so
    a bulk load of fully named contacts would take minutes locally; it would not in DynamoDB)."""
    made = []
    for n in range(start, start + count):
        contact: dict[str, Any] = {
            "first_name": FIRST[n % len(FIRST)],
            "email": f"{prefix}{n}@contacts.bench.example",
            "lifecycle_stage": STAGES[n % len(STAGES)],
            "title": "Engineer" if n % 2 else "Buyer",
            "source": "bench",
        }
        if n % NAMED_EVERY == 0:
            contact["last_name"] = LAST[(n // NAMED_EVERY) % 3]
        if n % 3 != 2:
            contact["tags"] = [TAGS[n % len(TAGS)]]
        if company_ids and n % 5 != 4:
            contact["company_id"] = company_ids[n % len(company_ids)]
        made.append(contact)
    return made


def deal_inputs(count: int, open_stages: list[str], start: int = 0) -> list[dict[str, Any]]:
    """Bulk deals spread evenly over the open stages. Names of two words: each word past the first is one
    more type-ahead entry in the deal's transaction."""
    return [
        {
            "name": f"{COMPANY_WORDS[n % len(COMPANY_WORDS)]} {n}",
            "amount": f"{1000 + (n * 37) % 9000}.{n % 100:02d}",
            "stage_id": open_stages[n % len(open_stages)],
        }
        for n in range(start, start + count)
    ]


def ticket_inputs(count: int, contact_ids: list[str], start: int = 0) -> list[dict[str, Any]]:
    """Bulk tickets: priorities and statuses mixed (the queue's filters find some of each), one in two
    about a contact, every one assigned to the tenant's admin (who creates them)."""
    return [
        {
            "subject": f"{COMPANY_WORDS[n % len(COMPANY_WORDS)]} invoice {n}",
            "priority": TICKET_PRIORITIES[n % len(TICKET_PRIORITIES)],
            "status": TICKET_STATUSES[n % len(TICKET_STATUSES)],
            "category": "question",
            **({"contact_id": contact_ids[n % len(contact_ids)]} if contact_ids and n % 2 == 0 else {}),
        }
        for n in range(start, start + count)
    ]


BENCH_SLA_POLICY = {
    "name": "Bench support",
    "targets": {
        priority: {"first_response_minutes": 60 * (i + 1), "resolution_minutes": 480 * (i + 1)}
        for i, priority in enumerate(reversed(TICKET_PRIORITIES[1:]))
    }
    | {"low": {"first_response_minutes": 2880, "resolution_minutes": 9600}},
    "business_hours": {
        "timezone": "Europe/Berlin",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "from": "09:00",
        "to": "17:00",
    },
    "warn_before_minutes": 30,
}


def load_tickets(api: Api, dataset: Dataset, tickets: int, have: int = 0) -> None:
    """An SLA policy (so every ticket has due times), then the tickets, 100 a request."""
    started = time.perf_counter()
    if not have:
        api.call("POST", "/v1/sla-policies", expect=201, body=BENCH_SLA_POLICY)
    contact_ids = [c["id"] for c in api.call("GET", "/v1/contacts", params={"limit": 20})["items"]]
    for begin in range(have, tickets, BATCH):
        _batch_create(api, "tickets", ticket_inputs(min(BATCH, tickets - begin), contact_ids, begin))
    dataset.tickets, dataset.tickets_load_seconds = tickets, time.perf_counter() - started


def _batch_create(api: Api, collection: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = api.call(
        "POST", f"/v1/{collection}/batch/create", body={"inputs": inputs}
    )["results"]
    failed = [r for r in results if r["status"] >= 400]
    if failed:
        raise RuntimeError(f"{len(failed)} {collection} refused, first: {failed[0]['error']}")
    return [r["record"] for r in results]


def load_dataset(
    name: str,
    api: Api,
    contacts: int,
    companies: int,
    deals: int = 0,
    *,
    resume: bool = False,
    tickets: int = 0,
) -> Dataset:
    """Through the batch create endpoint, 100 records a request, as a partner's import would. With
    ``resume``, the records the tenant already holds count as made (a load into a running CRM that
    stopped half-way goes on)."""
    started = time.perf_counter()
    dataset = Dataset(name, api, contacts, deals=deals)
    pipelines = api.call("GET", "/v1/pipelines")["items"]
    if pipelines:  # every tenant starts with its default pipeline
        dataset.pipeline_id = pipelines[0]["id"]
        dataset.stages = {s["name"]: s["id"] for s in pipelines[0]["stages"]}
        dataset.open_stages = [s["id"] for s in pipelines[0]["stages"] if s["kind"] == "open"]
    # A load that stopped goes on from what the tenant holds (the bulk records are made in order).
    have = {"companies": 0, "contacts": 0, "deals": 0, "tickets": 0}
    if resume:
        have = {c: int(api.call("GET", f"/v1/{c}", params={"limit": 1}).get("total") or 0) for c in have}
        if have["companies"]:
            listed = api.call("GET", "/v1/companies", params={"limit": min(100, companies)})["items"]
            dataset.companies = [c["id"] for c in reversed(listed)]
    made = company_inputs(companies)[have["companies"] :]
    for start in range(0, len(made), BATCH):
        records = _batch_create(api, "companies", made[start : start + BATCH])
        dataset.loaded_from = dataset.loaded_from or records[0]["created_at"]
        dataset.companies += [r["id"] for r in records]
    for start in range(have["contacts"], contacts, BATCH):
        inputs = contact_inputs(min(BATCH, contacts - start), dataset.companies, start)
        _batch_create(api, "contacts", inputs)
    deals_started = time.perf_counter()
    for start in range(have["deals"], deals, BATCH):
        _batch_create(api, "deals", deal_inputs(min(BATCH, deals - start), dataset.open_stages, start))
    dataset.deals_load_seconds = time.perf_counter() - deals_started
    if tickets:
        load_tickets(api, dataset, tickets, have["tickets"])
    dataset.load_seconds = time.perf_counter() - started
    return dataset


# ------------------------------------------------------------------------------------------ measuring


def measure(
    recorder: DynamoRecorder,
    api: Api,
    key: str,
    method: str,
    path: str,
    *,
    expect: int = 200,
    body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[Measured, Any]:
    """One request with the DynamoDB calls it made; the response's JSON body second."""
    api.keep_warm()
    with recorder.measure() as measurement:
        response = api.request(method, path, body=body, params=params, headers=headers)
    if response.status_code != expect:
        raise AssertionError(f"{key}: {method} {path} answered {response.status_code}: {response.text}")
    query = "&".join(f"{k}=…" if k == "cursor" else f"{k}={v}" for k, v in (params or {}).items())
    shown = f"{path}?{query}" if query else path
    json_body = response.content and "json" in response.headers.get("Content-Type", "")
    body = response.json() if json_body else None
    measured = Measured(key, method, shown, response.status_code, measurement)
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        measured.items_returned, measured.next_cursor = len(body["items"]), bool(body.get("next_cursor"))
    return measured, body


def _manager_scenario(recorder: DynamoRecorder, api: Api, run: str) -> Iterator[Measured]:
    """A manager changing what a rep of its team owns: the rule reads the owner's user (API.md "roles")."""
    team = api.call("POST", "/v1/teams", expect=201, body={"name": f"Bench team {run}"})
    manager_api = team_member_api(api, run, "manager", team_id=team["id"])
    rep_api = team_member_api(api, run, "rep", team_id=team["id"])
    owned = rep_api.call("POST", "/v1/contacts", expect=201, body={"email": f"owned.{run}@bench.example"})
    measured, _ = measure(
        recorder,
        manager_api,
        "contact.patch_manager",
        "PATCH",
        f"/v1/contacts/{owned['id']}",
        body={"title": "Reviewed"},
        headers={"If-Match": f'"{owned["version"]}"'},
    )
    yield measured


def team_member_api(admin: Api, run: str, role: str, team_id: str | None = None) -> Api:
    """A user of the tenant with ``role`` (in the team), made by its admin, and the key it is issued."""
    body = {"email": f"{role}.{run}@bench.example", "role": role, **({"team_id": team_id} if team_id else {})}
    user = admin.call("POST", "/v1/users", expect=201, body=body)
    key = admin.call("POST", "/v1/api-keys", expect=201, body={"user_id": user["id"], "name": "bench"})
    return Api(admin.base_url, key["key"], admin.tenant_id, user["id"])


def run_scenarios(recorder: DynamoRecorder, dataset: Dataset) -> dict[str, Measured]:
    """Every endpoint of ``ENDPOINTS`` once, against the data set's tenant."""
    return {m.key: m for m in _scenarios(recorder, dataset)}


def _scenarios(recorder: DynamoRecorder, ds: Dataset) -> Iterator[Measured]:
    api, tag = ds.api, ds.name
    api.warm()
    main_company = ds.companies[0]
    run = uuid.uuid4().hex[:8]

    def step(key: str, method: str, path: str, **kwargs: Any) -> tuple[Measured, Any]:
        return measure(recorder, api, key, method, path, **kwargs)

    # Companies first: the contacts below refer to one.
    measured, company = step(
        "company.create",
        "POST",
        "/v1/companies",
        expect=201,
        body={
            "name": f"Bench Engines {tag}",
            "domain": f"engines-{run}.bench.example",
            "industry": "Software",
        },
    )
    yield measured

    ada = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada.{run}@engines.bench.example",
        "phone": "+44 20 7946 0018",
        "company_id": main_company,
        "lifecycle_stage": "lead",
        "tags": ["vip"],
        "title": "Analyst",
    }
    measured, contact = step("contact.create", "POST", "/v1/contacts", expect=201, body=ada)
    yield measured
    contact_id = contact["id"]
    yield from _no_namesake_create(step, ada, run)

    measured, _ = step(
        "contact.create_idempotent",
        "POST",
        "/v1/contacts",
        expect=201,
        body={"first_name": "Grace", "last_name": "Hopper", "email": f"grace.{run}@navy.bench.example"},
        headers={"Idempotency-Key": f"bench-{run}"},
    )
    yield measured

    measured, _ = step("contact.get", "GET", f"/v1/contacts/{contact_id}")
    yield measured
    measured, _ = step(
        "contact.patch",
        "PATCH",
        f"/v1/contacts/{contact_id}",
        body={"title": "Countess"},
        headers={"If-Match": f'"{contact["version"]}"'},
    )
    yield measured

    # A custom property (decision 0012): its definition, then a change of a contact's value, which reads the
    # object's definitions and checks their revision in its transaction.
    measured, _ = step(
        "property.create",
        "POST",
        "/v1/properties/contacts",
        expect=201,
        body={
            "name": "tier",
            "label": "Tier",
            "type": "enum",
            "options": [{"value": "gold", "label": "Gold"}],
        },
    )
    yield measured
    measured, _ = step(
        "contact.patch_custom", "PATCH", f"/v1/contacts/{contact_id}", body={"custom": {"tier": "gold"}}
    )
    yield measured

    yield from _manager_scenario(recorder, api, run)

    # A second Ada Lovelace: a duplicate pair to list and then to merge.
    twin = api.call(
        "POST",
        "/v1/contacts",
        expect=201,
        body={"first_name": "Ada", "last_name": "Lovelace", "email": f"ada.twin.{run}@bench.example"},
    )
    measured, pairs = step("contact.duplicates", "GET", "/v1/contacts/duplicates")
    if not pairs["items"]:
        raise AssertionError("the duplicates scenario found no pairs")
    yield measured
    measured, _ = step(
        "contact.merge", "POST", f"/v1/contacts/{contact_id}/merge", body={"duplicate_id": twin["id"]}
    )
    yield measured
    measured, _ = step("contact.timeline", "GET", f"/v1/contacts/{contact_id}/timeline")
    yield measured

    gone = api.call(
        "POST", "/v1/contacts", expect=201, body={"first_name": "Dora", "email": f"dora.{run}@bench.example"}
    )
    measured, _ = step("contact.archive", "DELETE", f"/v1/contacts/{gone['id']}", expect=204)
    yield measured
    measured, _ = step("contact.restore", "POST", f"/v1/contacts/{gone['id']}/restore")
    yield measured

    yield from _contact_list_scenarios(step, ds, main_company)
    yield from _contact_batch_scenarios(step, run, main_company)

    measured, _ = step("company.get", "GET", f"/v1/companies/{company['id']}")
    yield measured
    measured, _ = step("company.list", "GET", "/v1/companies")
    yield measured
    measured, page = step(
        "company.list_q", "GET", "/v1/companies", params={"q": COMPANY_WORDS[0][:5].lower()}
    )
    if not page["items"]:
        raise AssertionError("company.list_q found nothing")
    yield measured
    measured, _ = step("company.contacts", "GET", f"/v1/companies/{main_company}/contacts")
    yield measured

    yield from _deal_scenarios(step, ds, run, contact_id)


def _ticket_scenarios(
    step: Callable[..., tuple[Measured, Any]], ds: Dataset, run: str, contact_id: str
) -> Iterator[Measured]:
    """A ticket made (its due times from the tenant's SLA policy) and answered, and the queue's lists."""
    measured, ticket = step(
        "ticket.create",
        "POST",
        "/v1/tickets",
        expect=201,
        body={"subject": f"Bench invoice {run}", "contact_id": contact_id, "priority": "high"},
    )
    if not (ticket["sla"] or {}).get("first_response_due_at"):
        raise AssertionError("the new ticket has no due times")
    yield measured
    measured, _ = step(
        "ticket.reply", "POST", f"/v1/tickets/{ticket['id']}/replies", expect=201, body={"body": "On it."}
    )
    yield measured
    measured, _ = step("ticket.get", "GET", f"/v1/tickets/{ticket['id']}")
    yield measured
    lists: list[tuple[str, dict[str, Any]]] = [
        ("ticket.list", {}),
        ("ticket.queue", {"assignee_id": "me", "sort": "due_at"}),
        ("ticket.list_status", {"status": "open"}),
    ]
    for key, params in lists:
        measured, page = step(key, "GET", "/v1/tickets", params=params)
        if not page["items"]:
            raise AssertionError(f"{key} found nothing: the scenario would not read any record")
        yield measured


def _no_namesake_create(
    step: Callable[..., tuple[Measured, Any]], ada: dict[str, Any], run: str
) -> Iterator[Measured]:
    """Ada has namesakes (each run's Ada, and the loaded contacts' full names): her create writes a duplicate
    pair with each it finds, up to six. The same contact with a name and a phone nobody has, beside her."""
    measured, _ = step(
        "contact.create_new_name",
        "POST",
        "/v1/contacts",
        expect=201,
        body={
            **ada,
            "first_name": "Augusta",
            "last_name": f"Byron-{run}",
            "email": f"augusta.{run}@engines.bench.example",
            "phone": f"+44 20 7946 {int(run, 16) % 10_000:04d}",
        },
    )
    yield measured


def _quote_scenarios(step: Callable[..., tuple[Measured, Any]], ds: Dataset, run: str) -> Iterator[Measured]:
    """A product, a quote of 20 lines priced from it on a deal, its PDF, its sending, its public page and
    the customer's acceptance (which wins the deal)."""
    from crm_core.services.quote_mail import page_token

    api = ds.api
    contact = api.call(
        "POST", "/v1/contacts", expect=201, body={"email": f"quote-{run}@bench.example", "first_name": "Q"}
    )
    deal = api.call("POST", "/v1/deals", expect=201, body={"name": f"Quote deal {run}"})
    measured, product = step(
        "product.create",
        "POST",
        "/v1/products",
        expect=201,
        body={
            "sku": f"BENCH-{run}",
            "name": "Bench engine",
            "prices": [{"currency": "EUR", "unit_price": "1250.00"}],
            "tax_rate": "0.2",
        },
    )
    yield measured
    lines = [{"product_id": product["id"], "quantity": str(n + 1), "discount": "0.05"} for n in range(20)]
    body = {"deal_id": deal["id"], "contact_id": contact["id"], "currency": "EUR", "line_items": lines}
    measured, quote = step("quote.create", "POST", "/v1/quotes", expect=201, body=body)
    yield measured
    lines[0]["quantity"] = "7"
    measured, _ = step("quote.patch", "PATCH", f"/v1/quotes/{quote['id']}", body={"line_items": lines})
    yield measured
    measured, _ = step("quote.pdf", "GET", f"/v1/quotes/{quote['id']}/pdf")
    yield measured
    measured, _ = step("quote.send", "POST", f"/v1/quotes/{quote['id']}/send", body={})
    yield measured
    token = page_token(api.tenant_id, quote["id"])
    measured, _ = step("quote.page", "GET", f"/q/{token}")
    yield measured
    measured, _ = step("quote.accept", "POST", f"/q/{token}/accept")
    yield measured


def _contact_list_scenarios(
    step: Callable[..., tuple[Measured, Any]], ds: Dataset, main_company: str
) -> Iterator[Measured]:
    """Contacts listed by each filter (each must find some), and a second page."""
    api = ds.api
    lists: list[tuple[str, dict[str, Any]]] = [
        ("contact.list", {}),
        ("contact.list_owner", {"owner_id": api.user_id}),
        ("contact.list_company", {"company_id": main_company}),
        ("contact.list_stage", {"lifecycle_stage": "lead"}),
        ("contact.list_tag", {"tag": "vip"}),
        ("contact.list_updated_since", {"updated_since": ds.loaded_from}),
        ("contact.list_q", {"q": "ada"}),
    ]
    for key, params in lists:
        measured, page = step(key, "GET", "/v1/contacts", params=params)
        if not page["items"]:
            raise AssertionError(f"{key} found nothing: the scenario would not read any record")
        yield measured
    first_page = api.call("GET", "/v1/contacts", params={"limit": 5})
    if not first_page["next_cursor"]:
        raise AssertionError("the data set has no second page of 5 contacts")
    measured, _ = step(
        "contact.list_page2", "GET", "/v1/contacts", params={"limit": 5, "cursor": first_page["next_cursor"]}
    )
    yield measured


def _contact_batch_scenarios(
    step: Callable[..., tuple[Measured, Any]], run: str, main_company: str
) -> Iterator[Measured]:
    """Contacts created, read and updated in batches of 10 and 100."""

    def batch_inputs(count: int, label: str) -> list[dict[str, Any]]:
        return [
            {
                "first_name": FIRST[n % len(FIRST)],
                "last_name": f"{label}{n}",
                "email": f"{label}{n}.{run}@batch.bench.example",
                "company_id": main_company,
                "lifecycle_stage": "lead",
                "tags": ["trial"],
            }
            for n in range(count)
        ]

    measured, created10 = step(
        "contact.batch_create_10",
        "POST",
        "/v1/contacts/batch/create",
        body={"inputs": batch_inputs(10, "ten")},
    )
    yield measured
    measured, created100 = step(
        "contact.batch_create_100",
        "POST",
        "/v1/contacts/batch/create",
        body={"inputs": batch_inputs(100, "hundred")},
    )
    yield measured
    for result in created10["results"] + created100["results"]:
        if result["status"] != 201:
            raise AssertionError(f"batch create refused an input: {result}")
    measured, _ = step(
        "contact.batch_read_100",
        "POST",
        "/v1/contacts/batch/read",
        body={"inputs": [{"id": r["id"]} for r in created100["results"]]},
    )
    yield measured
    measured, updated = step(
        "contact.batch_update_10",
        "POST",
        "/v1/contacts/batch/update",
        body={"inputs": [{"id": r["id"], "properties": {"title": "Buyer"}} for r in created10["results"]]},
    )
    if any(r["status"] != 200 for r in updated["results"]):
        raise AssertionError("batch update refused an input")
    yield measured


def _deal_scenarios(
    step: Callable[..., tuple[Measured, Any]], ds: Dataset, run: str, contact_id: str
) -> Iterator[Measured]:
    """Deals in the tenant's default pipeline, then activities on a contact and a deal, and notifications."""
    api = ds.api
    if not ds.open_stages:
        raise AssertionError("the tenant has no default pipeline with open stages")
    first_stage, second_stage = ds.open_stages[0], ds.open_stages[1]

    # No pipeline or stage given: the tenant's default pipeline and its first open stage.
    measured, deal = step(
        "deal.create",
        "POST",
        "/v1/deals",
        expect=201,
        body={"name": f"Bench Engines {ds.name} {run}", "amount": "12500.00"},
    )
    yield measured
    if deal["pipeline_id"] != ds.pipeline_id or deal["stage_id"] != first_stage:
        raise AssertionError(f"the new deal is not in the default pipeline's first stage: {deal}")
    deal_id = deal["id"]
    measured, _ = step("deal.get", "GET", f"/v1/deals/{deal_id}")
    yield measured
    measured, moved = step(
        "deal.patch_stage",
        "PATCH",
        f"/v1/deals/{deal_id}",
        body={"stage_id": second_stage},
        headers={"If-Match": f'"{deal["version"]}"'},
    )
    if moved["stage_id"] != second_stage:
        raise AssertionError("the deal did not move")
    yield measured

    # A won deal, so that the status filter has something to find (among the newest deals).
    won = api.call("POST", "/v1/deals", expect=201, body={"name": f"Won {run}", "amount": "900"})
    api.call("PATCH", f"/v1/deals/{won['id']}", body={"stage_id": ds.stages["Won"]})

    measured, board = step(
        "deal.board",
        "GET",
        f"/v1/pipelines/{ds.pipeline_id}/board",
        params={"deals_per_stage": BOARD_DEALS_PER_STAGE},
    )
    shown = [len(stage["deals"]) for stage in board["stages"]]
    measured.items_returned = sum(shown)
    measured.next_cursor = any(stage["next_cursor"] for stage in board["stages"])
    if len(board["stages"]) != len(ds.open_stages) or not all(shown):
        raise AssertionError(f"the board shows {shown} deals in its stages")
    yield measured

    lists: list[tuple[str, dict[str, Any], bool]] = [
        ("deal.list", {}, True),
        ("deal.list_stage", {"stage_id": second_stage}, True),
        # Served by the status entries (one Query and one BatchGetItem per round).
        ("deal.list_won", {"status": "won"}, False),
        ("deal.list_by_amount", {"sort": "-amount"}, True),
    ]
    for key, params, must_find in lists:
        measured, page = step(key, "GET", "/v1/deals", params=params)
        if must_find and not page["items"]:
            raise AssertionError(f"{key} found nothing: the scenario would not read any record")
        yield measured

    measured, activity = step(
        "activity.create",
        "POST",
        "/v1/activities",
        expect=201,
        body={
            "type": "call",
            "subject": f"Pricing call {run}",
            "contact_id": contact_id,
            "deal_id": deal_id,
        },
    )
    yield measured
    measured, timeline = step("deal.timeline", "GET", f"/v1/deals/{deal_id}/timeline")
    if len(timeline["items"]) < 3:  # created, stage_changed and the activity's created
        raise AssertionError(f"the deal's timeline holds {len(timeline['items'])} entries")
    yield measured
    measured, page = step("activity.list_contact", "GET", "/v1/activities", params={"contact_id": contact_id})
    if not page["items"]:
        raise AssertionError("activity.list_contact found nothing")
    yield measured
    measured, done = step("activity.complete", "POST", f"/v1/activities/{activity['id']}/complete")
    if not done["completed_at"]:
        raise AssertionError("the activity was not completed")
    yield measured
    measured, _ = step("notification.list", "GET", "/v1/notifications")
    yield measured
    if ds.tickets:
        yield from _ticket_scenarios(step, ds, run, contact_id)
    yield from _quote_scenarios(step, ds, run)
    yield from _segment_scenario(step)


def _condition(prop: str, operator: str, value: Any) -> dict[str, Any]:
    return {"property": prop, "operator": operator, "value": value}


def _segment_scenario(step: Callable[..., tuple[Measured, Any]]) -> Iterator[Measured]:
    """Segments' members (decision 0019): one driven by the vip tag's entries (all of which are subscribers
    in the bulk data: read efficiency near 1), one with no indexed condition (the tenant's whole list, about
    half of which is engineers), and a count of the first, read to its end."""
    vip, subscriber = _condition("tags", "contains", "vip"), _condition("lifecycle_stage", "eq", "subscriber")
    indexed = {"all": [vip, subscriber]}
    measured, segment = step(
        "segment.create",
        "POST",
        "/v1/segments",
        expect=201,
        body={"name": "Bench VIP subscribers", "filter": {"any": [indexed]}},
    )
    yield measured
    yield step("segment.members_indexed", "GET", f"/v1/segments/{segment['id']}/members")[0]
    unindexed = {"all": [_condition("title", "eq", "engineer"), _condition("email", "contains", "bench")]}
    other = step(
        "segment.create",
        "POST",
        "/v1/segments",
        expect=201,
        body={"name": "Bench engineers", "filter": {"any": [unindexed]}},
    )[1]
    yield step("segment.members_unindexed", "GET", f"/v1/segments/{other['id']}/members")[0]
    yield step("segment.count", "GET", f"/v1/segments/{segment['id']}/members", params={"count": "true"})[0]
