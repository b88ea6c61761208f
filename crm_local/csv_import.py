"""``crm import FILE``: an import created through the API, the file PUT to its upload URL, and the import
read until it is done, its rows shown as a progress bar; then its summary."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.5
DONE = ("completed", "failed")


class ApiRefused(Exception):
    """The API refused a call of `crm import` or `crm export`; the message is its problem's detail."""


ImportRefused = ApiRefused


def call_api(api: str, api_key: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{api}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors", []))
        raise ApiRefused(" ".join(filter(None, [problem.get("detail", str(error)), fields]))) from None


def run_import(
    api: str,
    api_key: str,
    path: Path,
    *,
    object_name: str,
    on_duplicate: str,
    mapping: dict[str, str] | None,
    timeout_s: float = 3600,
) -> dict[str, Any]:
    """The import as it ended (completed or failed)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    body: dict[str, Any] = {"object": object_name, "on_duplicate": on_duplicate}
    if mapping is not None:
        body["mapping"] = mapping
    job = call_api(api, api_key, "POST", "/v1/imports", body)
    # A type of its own: urllib's default (a form) has the local endpoint read the body as form fields.
    upload = urllib.request.Request(
        job["upload_url"], data=path.read_bytes(), method="PUT", headers={"Content-Type": "text/csv"}
    )
    with urllib.request.urlopen(upload, timeout=300):
        pass
    deadline = time.monotonic() + timeout_s
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("reading", total=None)
        while job["status"] not in DONE and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = call_api(api, api_key, "GET", f"/v1/imports/{job['id']}")
            if job["status"] != "pending":
                bar.update(task, description="rows", total=job["total"], completed=job["processed"])
    return dict(job)


def summary(job: dict[str, Any]) -> str:
    """The import's outcome in a few lines."""
    if job["status"] == "failed":
        return f"import {job['id']} failed: {job['error']}"
    if job["status"] != "completed":
        return (
            f"import {job['id']} is still {job['status']}: {job['processed']} of {job['total']} rows so far"
        )
    lines = [
        f"import {job['id']}: {job['total']} rows: {job['created']} created, {job['updated']} updated, "
        f"{job['skipped']} skipped, {job['failed']} failed"
    ]
    if job.get("rejected_rows_url"):
        lines.append(f"rejected rows, with the reason of each: {job['rejected_rows_url']}")
    return "\n".join(lines)
