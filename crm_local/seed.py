"""``crm seed``: realistic demo data a person can explore, written through the public API's batch endpoints
as a partner would: a few users (the owners), companies, contacts, deals won, lost and open, and activities
(notes, calls, meetings, emails and tasks: some done, some overdue, due today or later)."""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Sophie",
    "Yukihiro",
    "Guido",
    "Anita",
    "Donald",
    "Joan",
    "Niklaus",
    "Shafi",
    "Leslie",
    "Lynn",
    "Vint",
    "Jean",
    "Mary",
    "Karen",
    "Bjarne",
    "Ivan",
    "Fran",
    "Annie",
    "Claude",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Wilson",
    "Matsumoto",
    "van Rossum",
    "Borg",
    "Knuth",
    "Clarke",
    "Wirth",
    "Goldwasser",
    "Lamport",
    "Conway",
    "Cerf",
    "Sammet",
    "Keller",
    "Jones",
]
COMPANY_WORDS = [
    "Analytical",
    "Engines",
    "Northwind",
    "Contoso",
    "Initech",
    "Globex",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Black Mesa",
    "Wonka",
]
SUFFIXES = ["Ltd", "GmbH", "Inc", "SAS", "BV", "AB", "Labs", "Systems", "Partners"]
INDUSTRIES = [
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Finance",
    "Logistics",
    "Education",
    "Energy",
]
TITLES = [
    "CEO",
    "CTO",
    "Head of Sales",
    "Buyer",
    "Procurement Manager",
    "Engineer",
    "Marketing Lead",
    "CFO",
    None,
]
STAGES = ["subscriber", "lead", "lead", "mql", "sql", "opportunity", "customer", "customer", "evangelist"]
SOURCES = ["website", "referral", "event", "import", "partner", "cold outreach"]
TAGS = ["vip", "newsletter", "trial", "enterprise", "smb", "churn-risk", "webinar"]


# The sales team that owns the records, besides the tenant's admin: (name, role).
TEAM = [
    ("Maya Patel", "manager"),
    ("Sam Okafor", "rep"),
    ("Lena Novak", "rep"),
    ("Tom Berg", "rep"),
]


def users(tenant_id: str) -> list[str]:
    """The sales team's users, made in the tenant as its admin would (POST /v1/teams, /v1/users), the
    manager managing the team the reps are in: their ids."""
    from crm_core.auth import Principal
    from crm_core.context import RequestContext
    from crm_core.services.teams import TEAMS
    from crm_core.services.users import USERS

    ctx = RequestContext(Principal.system(tenant_id, "seed"))
    team = TEAMS.create(ctx, {"name": "Sales"})
    made = []
    for name, role in TEAM:
        email = f"{name.lower().replace(' ', '.')}@{tenant_id.lower()}.example"
        user = USERS.create(ctx, {"email": email, "name": name, "role": role, "team_id": team["id"]})
        made.append(user["id"])
        if role == "manager":
            TEAMS.update(ctx, team["id"], {"manager_id": user["id"]})
    return made


def companies(rng: random.Random, count: int, owner_ids: list[str]) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    for n in range(count):
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(SUFFIXES)}"
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
        made.append(
            {
                "name": name,
                "domain": f"{slug}{n}.example",
                "industry": rng.choice(INDUSTRIES),
                "employees": rng.choice([8, 25, 60, 250, 1200, 8000]),
                "tags": rng.sample(TAGS, k=1),
                "owner_id": owner_ids[n % len(owner_ids)],
            }
        )
    return made


def contacts(
    rng: random.Random, count: int, company_ids: list[str], owner_ids: list[str]
) -> Iterator[dict[str, Any]]:
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}.{n}@example.com".lower().replace(" ", ""),
            "phone": f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "lifecycle_stage": rng.choice(STAGES),
            "source": rng.choice(SOURCES),
            "tags": rng.sample(TAGS, k=rng.randint(0, 2)),
            "consent": {"email": rng.choice(["granted", "granted", "denied", "unknown"])},
            "owner_id": owner_ids[n % len(owner_ids)],
        }
        title = rng.choice(TITLES)
        if title:
            contact["title"] = title
        if company_ids and rng.random() < 0.8:
            contact["company_id"] = rng.choice(company_ids)
        yield contact


DEAL_WORDS = [
    "Renewal",
    "Expansion",
    "Pilot",
    "Enterprise licence",
    "Onboarding",
    "Support plan",
    "Migration",
]
# Every fifth deal of five: open, won, open, lost, open (so from four deals on, there are some of each).
DEAL_KINDS = ["open", "won", "open", "lost", "open"]
LOST_REASONS = ["Price", "Timing", "Competitor", "No budget"]


def deals(
    rng: random.Random,
    count: int,
    stages: list[dict[str, Any]],
    contact_ids: list[str],
    owner_ids: list[str],
    today: date,
) -> list[dict[str, Any]]:
    made = []
    for n in range(count):
        kind = DEAL_KINDS[n % len(DEAL_KINDS)]
        stage = rng.choice([s for s in stages if s["kind"] == kind])
        # Closed deals closed in the last months; open ones are expected to close in the coming ones.
        days = -rng.randint(1, 120) if kind != "open" else rng.randint(7, 180)
        deal: dict[str, Any] = {
            "name": f"{rng.choice(DEAL_WORDS)} {n + 1}",
            "stage_id": stage["id"],
            "amount": f"{rng.choice([1, 2, 5, 8, 12, 25, 40]) * 1000 + rng.randint(0, 99) * 10}.00",
            "close_date": (today + timedelta(days=days)).isoformat(),
            "owner_id": owner_ids[n % len(owner_ids)],
        }
        if kind == "lost":
            deal["lost_reason"] = rng.choice(LOST_REASONS)
        if contact_ids:
            deal["contact_ids"] = rng.sample(contact_ids, k=1)
        made.append(deal)
    return made


ACTIVITY_SUBJECTS = {
    "call": ["Discovery call", "Pricing call", "Check-in"],
    "email": ["Sent proposal", "Follow-up email"],
    "meeting": ["Demo", "Kick-off meeting"],
    "task": ["Send contract", "Prepare quote", "Book next meeting", "Chase signature"],
    "note": ["Met at the conference", "Budget confirmed", "Prefers email to calls"],
}
NOTE_BODIES = [
    "Budget signed off for Q3; legal review takes about two weeks.",
    "Champion is the head of operations; the CFO decides.",
    "Asked for a case study from their industry.",
]
# Every eighth activity of eight: what it is and when it is due (None: no due date) or was done. Tasks
# come first so that a few activities already have one overdue, one due today and one due later.
ACTIVITY_PLAN: list[tuple[str, str]] = [
    ("task", "overdue"),
    ("task", "today"),
    ("task", "later"),
    ("note", "none"),
    ("call", "done"),
    ("meeting", "later"),
    ("email", "done"),
    ("task", "done"),
]


def _when(rng: random.Random, timing: str, now: datetime) -> dict[str, str]:
    def stamp(moment: datetime) -> str:
        return moment.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    end_of_day = now.replace(hour=23, minute=59, second=0, microsecond=0)
    if timing == "overdue":
        return {"due_at": stamp(now - timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8)))}
    if timing == "today":  # later today (or in a minute, just before midnight)
        return {"due_at": stamp(min(now + timedelta(hours=rng.randint(1, 6)), max(end_of_day, now)))}
    if timing == "later":
        return {"due_at": stamp(now + timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 8)))}
    if timing == "done":
        done = now - timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
        return {"due_at": stamp(done), "completed_at": stamp(done)}
    return {}


def activities(
    rng: random.Random,
    count: int,
    contact_ids: list[str],
    deal_ids: list[str],
    owner_ids: list[str],
    now: datetime,
) -> list[dict[str, Any]]:
    made = []
    for n in range(count):
        kind, timing = ACTIVITY_PLAN[n % len(ACTIVITY_PLAN)]
        activity: dict[str, Any] = {
            "type": kind,
            "subject": rng.choice(ACTIVITY_SUBJECTS[kind]),
            "owner_id": owner_ids[n % len(owner_ids)],
            **_when(rng, timing, now),
        }
        if kind == "note":
            activity["body"] = rng.choice(NOTE_BODIES)
        if contact_ids:
            activity["contact_id"] = rng.choice(contact_ids)
        if deal_ids and rng.random() < 0.5:
            activity["deal_id"] = rng.choice(deal_ids)
        made.append(activity)
    return made


def call_api(api: str, api_key: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{api}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def _batch_create(api: str, api_key: str, collection: str, inputs: list[dict[str, Any]]) -> list[str]:
    results = call_api(api, api_key, "POST", f"/v1/{collection}/batch/create", {"inputs": inputs})["results"]
    failed = [r for r in results if r["status"] >= 400]
    if failed:
        raise RuntimeError(f"{len(failed)} {collection} were refused, first: {failed[0]['error']}")
    return [r["id"] for r in results]


def _create_all(
    api: str,
    api_key: str,
    collection: str,
    inputs: list[dict[str, Any]],
    advance: Callable[[int], None],
) -> list[str]:
    """Every input created through batches of 100, one after the other (measured: sending a few at once
    made 200 contacts no faster on ``crm dev``); the ids in input order."""
    ids: list[str] = []
    for start in range(0, len(inputs), 100):
        batch = inputs[start : start + 100]
        ids += _batch_create(api, api_key, collection, batch)
        advance(len(batch))
    return ids


def seed(
    api: str, api_key: str, contact_count: int, *, seed_value: int = 7, now: datetime | None = None
) -> dict[str, int]:
    from crm_core.auth import parse_api_key
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    parsed = parse_api_key(api_key)
    if parsed is None:
        raise ValueError("not a CRM API key (crm_<tenant>_...)")
    tenant_id = parsed.tenant_id
    rng = random.Random(seed_value)
    now = now or datetime.now(UTC)
    company_count = max(1, contact_count // 10)
    deal_count, activity_count = max(1, contact_count // 4), max(1, contact_count // 2)
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:

        def step(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda n: bar.advance(task, n)

        advance = step("users", len(TEAM))
        pipelines = call_api(api, api_key, "GET", "/v1/pipelines?limit=1")  # the key works: then make things
        owner_ids = users(tenant_id)
        advance(len(owner_ids))
        made = companies(rng, company_count, owner_ids)
        company_ids = _create_all(api, api_key, "companies", made, step("companies", company_count))
        contact_ids = _create_all(
            api,
            api_key,
            "contacts",
            list(contacts(rng, contact_count, company_ids, owner_ids)),
            step("contacts", contact_count),
        )
        stages = pipelines["items"][0]["stages"]
        made_deals = deals(rng, deal_count, stages, contact_ids, owner_ids, now.date())
        deal_ids = _create_all(api, api_key, "deals", made_deals, step("deals", deal_count))
        made_activities = activities(rng, activity_count, contact_ids, deal_ids, owner_ids, now)
        _create_all(api, api_key, "activities", made_activities, step("activities", activity_count))
    return {
        "users": len(owner_ids),
        "companies": company_count,
        "contacts": contact_count,
        "deals": deal_count,
        "activities": activity_count,
    }
