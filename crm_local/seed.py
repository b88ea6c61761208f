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


def _batch_create(api: str, api_key: str, collection: str, inputs: list[dict[str, Any]]) -> list[str]:
    request = urllib.request.Request(
        f"{api}/v1/{collection}/batch/create",
        data=json.dumps({"inputs": inputs}).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        results = json.load(response)["results"]
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
        for contact in contacts(rng, contact_count, company_ids):
            batch.append(contact)
            if len(batch) == 100:
                _batch_create(api, api_key, "contacts", batch)
                bar.advance(task, len(batch))
                batch = []
        if batch:
            _batch_create(api, api_key, "contacts", batch)
            bar.advance(task, len(batch))
    return {"companies": company_count, "contacts": contact_count}
