"""``crm export``: an export of the tenant created through the API and read until it is done, its records
shown as a progress bar; then the zip downloaded from its link."""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

from crm_local.csv_import import DONE, POLL_SECONDS, call_api


def run_export(api: str, api_key: str, *, timeout_s: float = 3600) -> dict[str, Any]:
    """The export as it ended (completed or failed)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    job = call_api(api, api_key, "POST", "/v1/exports", {})
    deadline = time.monotonic() + timeout_s
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("waiting", total=None)
        while job["status"] not in DONE and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = call_api(api, api_key, "GET", f"/v1/exports/{job['id']}")
            if job["objects"]:
                total, done = sum(job["objects"].values()), sum(job["processed"].values())
                bar.update(task, description="records", total=total, completed=min(done, total))
    return dict(job)


def download(job: dict[str, Any], out: Path) -> None:
    with urllib.request.urlopen(job["download_url"], timeout=300) as answer, out.open("wb") as file:
        shutil.copyfileobj(answer, file)


def summary(job: dict[str, Any], out: Path | None) -> str:
    """The export's outcome in a few lines."""
    if job["status"] == "failed":
        return f"export {job['id']} failed: {job['error']}"
    if job["status"] != "completed":
        return f"export {job['id']} is still {job['status']}: try `GET /v1/exports/{job['id']}` later"
    counts = ", ".join(f"{count} {name}" for name, count in job["objects"].items() if count)
    lines = [f"export {job['id']}: {sum(job['objects'].values())} records ({counts or 'none'})"]
    if out is not None:
        lines.append(f"written to {out} ({job['size_bytes']} bytes)")
    else:
        lines.append(f"download (until {job['download_expires_at']}): {job['download_url']}")
    return "\n".join(lines)
