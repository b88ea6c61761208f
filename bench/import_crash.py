"""``python -m bench.import_crash --rows 100000``: a CSV import through the local pipeline (``crm dev`` in
process, the relay running) in which the worker of some chunks dies half-way through its chunk: after
some of its rows' shared transactions committed and before what derives from them was written. The
chunk's message comes back (as SQS hands back a message whose worker died) and its next try finishes it.
Then every row must be accounted for once: the import's counters equal the rows, the contacts are the
file's distinct rows each once (the list's total, and every page read), and the events the relay published
are one per record (plus the import's ``import.completed``). Not part of ``make test`` (minutes at
100,000 rows); tests/integration/test_imports.py runs a small version of it.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crm_local.seed import call_api

# The chunks whose first try dies, and after how many of its shared transactions.
DIE_IN_CHUNKS = (0, 1)
DIE_AFTER_GROUPS = 3


def csv_rows(rows: int, start: int = 0) -> bytes:
    lines = ["Email,First Name,Last Name"] + [
        f"p{n}@crash.example,P{n},Row{n}" for n in range(start, start + rows)
    ]
    return ("\n".join(lines) + "\n").encode()


class WorkerKilled(Exception):
    """What a worker that dies half-way through its chunk raises (its message is handed out again)."""


@contextmanager
def dying_workers(
    chunks: tuple[int, ...], after_groups: int, tenant_id: str | None = None
) -> Iterator[list[int]]:
    """While it holds, the first try of each of ``chunks`` (of ``tenant_id``'s imports; None: any) dies
    after ``after_groups`` of its shared transactions committed, before their derived entries are
    written: the worst place, where the relay must write what the worker did not. Yields the chunks that
    died, as they die."""
    from crm_core.services import import_rows, imports

    died: list[int] = []
    local = threading.local()
    write_chunk, write_after_commit = imports._write_chunk, import_rows.write_after_commit

    def _write_chunk(job: Any, chunk: int) -> dict[str, int]:
        dies = chunk in chunks and chunk not in died and tenant_id in (None, job.tenant_id)
        local.dying = [chunk, after_groups] if dies else None
        try:
            return write_chunk(job, chunk)
        finally:
            local.dying = None

    def _write_after_commit(*derived: Any) -> None:
        dying = getattr(local, "dying", None)
        if dying is not None:
            dying[1] -= 1
            if dying[1] <= 0:
                local.dying = None
                died.append(dying[0])
                raise WorkerKilled(f"the worker of chunk {dying[0]} died half-way through it")
        write_after_commit(*derived)

    setattr(imports, "_write_chunk", _write_chunk)  # noqa: B010
    setattr(import_rows, "write_after_commit", _write_after_commit)  # noqa: B010
    try:
        yield died
    finally:
        setattr(imports, "_write_chunk", write_chunk)  # noqa: B010
        setattr(import_rows, "write_after_commit", write_after_commit)  # noqa: B010


def _settled(read: Any, deadline_s: float, quiet_s: float = 3.0, target: int | None = None) -> int:
    """``read()`` once it reaches ``target``, or has not changed for ``quiet_s`` (or at the deadline)."""
    value, since, deadline = read(), time.monotonic(), time.monotonic() + deadline_s
    while time.monotonic() < deadline and (target is None or value < target):
        time.sleep(0.5)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return int(value)


def check_records(api: str, key: str) -> dict[str, Any]:
    """The tenant's contacts, every page read: their total, how many, how many distinct emails, and how
    many at version 1 (written once: one event each, its contact.created)."""
    total = call_api(api, key, "GET", "/v1/contacts?limit=1")["total"]
    emails: dict[str, int] = {}
    versions: dict[int, int] = {}
    cursor: str | None = ""
    while cursor is not None:
        page = call_api(api, key, "GET", f"/v1/contacts?limit=100{'&cursor=' + cursor if cursor else ''}")
        for contact in page["items"]:
            emails[contact["email"]] = emails.get(contact["email"], 0) + 1
            versions[contact["version"]] = versions.get(contact["version"], 0) + 1
        cursor = page.get("next_cursor")
    return {
        "contacts_total": total,
        "contacts_listed": sum(emails.values()),
        "distinct_emails": len(emails),
        "contacts_by_version": versions,
    }


def measure(rows: int, *, progress: bool = True, relay_wait_s: float = 600) -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from crm_core.services.imports import CHUNK_ROWS
    from crm_core.services.tenants import create_tenant
    from rich.progress import Progress

    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    try:
        tenant = create_tenant("Crash", plan="business")  # 100,000 contacts: beyond the free plan
        api, key = instance.api, tenant.api_key
        published_before = _settled(lambda: runtime.relay.published, 60)
        data = csv_rows(rows)
        with dying_workers(DIE_IN_CHUNKS, DIE_AFTER_GROUPS, tenant.tenant_id) as died:
            started = time.perf_counter()
            job = call_api(api, key, "POST", "/v1/imports", {"object": "contacts"})
            upload = urllib.request.Request(
                job["upload_url"], data=data, method="PUT", headers={"Content-Type": "text/csv"}
            )
            urllib.request.urlopen(upload, timeout=600).close()
            with Progress(disable=not progress) as bar:
                task = bar.add_task("rows", total=rows)
                while job["status"] not in ("completed", "failed"):
                    time.sleep(0.5)
                    job = call_api(api, key, "GET", f"/v1/imports/{job['id']}")
                    bar.update(task, completed=job["processed"])
            seconds = time.perf_counter() - started
        if progress:
            print(f"import {job['status']} in {seconds:.1f} s: {json.dumps(job)}", flush=True)
        records = check_records(api, key)
        # The relay publishes the records' events after the import (it is on no row's path), at its own
        # pace: waited for until all are published or ``relay_wait_s`` has passed (not until a quiet
        # minute: the relay counts a poll's events, up to a thousand, once the poll is done, which on a
        # loaded machine takes minutes), then a moment more for any event published twice.
        relay_started = time.perf_counter()
        target = published_before + rows + 1
        _settled(lambda: runtime.relay.published, relay_wait_s, quiet_s=relay_wait_s, target=target)
        relay_seconds = time.perf_counter() - relay_started
        published = _settled(lambda: runtime.relay.published, 60, quiet_s=5) - published_before
    finally:
        runtime.stop()
    counters = {name: job[name] for name in ("total", "processed", "created", "updated", "skipped", "failed")}
    result = {
        "rows": rows,
        "status": job["status"],
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds, 1),
        "chunks_that_died_half_way": sorted(died),
        "counters": counters,
        **records,
        "events_published": published,
        "relay_caught_up": published >= rows + 1,
        "relay_seconds_after_completion": round(relay_seconds, 1),
    }
    expected = dict(total=rows, processed=rows, created=rows, updated=0, skipped=0, failed=0)
    result["every_row_once"] = (
        job["status"] == "completed"
        and counters == expected
        and records["contacts_total"] == rows == records["distinct_emails"] == records["contacts_listed"]
        and records["contacts_by_version"] == {1: rows}  # each written once: one contact.created each
        # each record's contact.created and the import's import.completed, once each (when the relay
        # has not caught up in time: none twice so far)
        and (published == rows + 1 if result["relay_caught_up"] else published < rows + 1)
        and sorted(died) == [chunk for chunk in DIE_IN_CHUNKS if chunk * CHUNK_ROWS < rows]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_crash", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the CSV file (default 100000)")
    parser.add_argument(
        "--relay-wait", type=float, default=600, help="seconds to wait for the relay's events (default 600)"
    )
    args = parser.parse_args(argv)
    result = measure(args.rows, relay_wait_s=args.relay_wait)
    print(json.dumps(result, indent=2))
    return 0 if result["every_row_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
