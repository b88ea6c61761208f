"""``crm seed``: realistic demo data, written through the public API (batch endpoints) as a partner would."""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Iterator
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


def companies(rng: random.Random, count: int) -> list[dict[str, Any]]:
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
            }
        )
    return made


def contacts(rng: random.Random, count: int, company_ids: list[str]) -> Iterator[dict[str, Any]]:
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
ACTIVITY_SUBJECTS = {
    "call": ["Discovery call", "Pricing call", "Check-in"],
    "email": ["Sent proposal", "Follow-up email"],
    "meeting": ["Demo", "Kick-off meeting"],
    "task": ["Send contract", "Prepare quote", "Book next meeting"],
    "note": ["Met at the conference", "Budget confirmed"],
}


def deals(
    rng: random.Random, count: int, stages: list[dict[str, Any]], contact_ids: list[str]
) -> list[dict[str, Any]]:
    made = []
    for n in range(count):
        stage = rng.choices(stages, weights=[4 if s["kind"] == "open" else 1 for s in stages])[0]
        deal: dict[str, Any] = {
            "name": f"{rng.choice(DEAL_WORDS)} {n + 1}",
            "stage_id": stage["id"],
            "amount": f"{rng.choice([1, 2, 5, 8, 12, 25, 40]) * 1000 + rng.randint(0, 99) * 10}.00",
            "close_date": f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        if stage["kind"] == "lost":
            deal["lost_reason"] = rng.choice(["Price", "Timing", "Competitor"])
        if contact_ids:
            deal["contact_ids"] = rng.sample(contact_ids, k=1)
        made.append(deal)
    return made


def activities(
    rng: random.Random, count: int, contact_ids: list[str], deal_ids: list[str]
) -> list[dict[str, Any]]:
    made = []
    for _ in range(count):
        kind = rng.choice(list(ACTIVITY_SUBJECTS))
        activity: dict[str, Any] = {"type": kind, "subject": rng.choice(ACTIVITY_SUBJECTS[kind])}
        if contact_ids:
            activity["contact_id"] = rng.choice(contact_ids)
        if deal_ids and rng.random() < 0.5:
            activity["deal_id"] = rng.choice(deal_ids)
        made.append(activity)
    return made


def _call(api: str, api_key: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{api}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def _batch_create(api: str, api_key: str, collection: str, inputs: list[dict[str, Any]]) -> list[str]:
    results = _call(api, api_key, "POST", f"/v1/{collection}/batch/create", {"inputs": inputs})["results"]
    failed = [r for r in results if r["status"] >= 400]
    if failed:
        raise RuntimeError(f"{len(failed)} {collection} were refused, first: {failed[0]['error']}")
    return [r["id"] for r in results]


def seed(api: str, api_key: str, contact_count: int, *, seed_value: int = 7) -> dict[str, int]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    rng = random.Random(seed_value)
    company_count = max(1, contact_count // 10)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("companies", total=company_count)
        company_ids: list[str] = []
        made = companies(rng, company_count)
        for start in range(0, len(made), 100):
            company_ids += _batch_create(api, api_key, "companies", made[start : start + 100])
            bar.advance(task, len(made[start : start + 100]))
        task = bar.add_task("contacts", total=contact_count)
        batch: list[dict[str, Any]] = []
        contact_ids: list[str] = []
        for contact in contacts(rng, contact_count, company_ids):
            batch.append(contact)
            if len(batch) == 100:
                contact_ids += _batch_create(api, api_key, "contacts", batch)
                bar.advance(task, len(batch))
                batch = []
        if batch:
            contact_ids += _batch_create(api, api_key, "contacts", batch)
            bar.advance(task, len(batch))

        pipeline = _call(api, api_key, "GET", "/v1/pipelines")["items"][0]
        deal_count, activity_count = max(1, contact_count // 4), max(1, contact_count // 2)
        deal_ids: list[str] = []
        made_deals = deals(rng, deal_count, pipeline["stages"], contact_ids)
        task = bar.add_task("deals", total=deal_count)
        for start in range(0, deal_count, 100):
            deal_ids += _batch_create(api, api_key, "deals", made_deals[start : start + 100])
            bar.advance(task, len(made_deals[start : start + 100]))
        made_activities = activities(rng, activity_count, contact_ids, deal_ids)
        task = bar.add_task("activities", total=activity_count)
        for start in range(0, activity_count, 100):
            _batch_create(api, api_key, "activities", made_activities[start : start + 100])
            bar.advance(task, len(made_activities[start : start + 100]))
    return {
        "companies": company_count,
        "contacts": contact_count,
        "deals": deal_count,
        "activities": activity_count,
    }
