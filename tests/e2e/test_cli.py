"""The `crm` command as a user runs it: `crm dev` in a folder, `crm tenant create` finding it through
`.crm/dev.json`, Ctrl-C stopping it cleanly, and `--data DIR` keeping records across a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crm_local.runtime import free_port
from tests.support.client import ApiClient

CRM = [sys.executable, "-m", "crm_local.cli"]


@contextmanager
def crm_dev(folder: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}
    process = subprocess.Popen(
        [*CRM, "dev", "--port", str(port), *args],
        cwd=folder,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    state = folder / ".crm" / "dev.json"
    try:
        deadline = time.monotonic() + 60
        while not state.exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "crm dev did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            process.wait(timeout=30)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}


def crm(folder: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``crm <args>`` as a user runs it in ``folder`` (where ``crm dev`` left ``.crm/dev.json``)."""
    return subprocess.run(
        [*CRM, *args], cwd=folder, env=_env(), text=True, capture_output=True, timeout=timeout
    )


def tenant_create(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}
    done = subprocess.run(
        [*CRM, "tenant", "create", "--name", "Cli Ltd"],
        cwd=folder,
        env=env,
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    created: dict[str, str] = json.loads(done.stdout)
    return created


def test_dev_serves_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with crm_dev(tmp_path, "--data", str(data)) as (api_url, process):
        state = json.loads((tmp_path / ".crm" / "dev.json").read_text())
        assert state["api"] == api_url and state["region"] == "us-east-1"
        assert state["aws_endpoint"].startswith("http://127.0.0.1:")
        tenant = tenant_create(tmp_path)
        assert set(tenant) >= {"tenant_id", "api_key"}
        api = ApiClient(api_url, tenant["api_key"])
        contact = api.create("contacts", {"email": "kept@example.com", "first_name": "Kept"})
        assert api.patch(f"/v1/contacts/{contact['id']}", {"title": "Archivist"}).status_code == 200
        seeded = crm(tmp_path, "seed", "--contacts", "20", timeout=120)
        assert seeded.returncode == 0, seeded.stderr
        demo = json.loads(seeded.stdout.strip().splitlines()[-1])
        assert demo["contacts"] == 20 and demo["deals"] == 5 and demo["activities"] == 10
        demo_api = ApiClient(api_url, demo["api_key"])
        assert len(demo_api.all_pages("/v1/contacts", {"limit": 100})) == 20
        pipeline = demo_api.get("/v1/pipelines").json()["items"][0]
        board = demo_api.get(f"/v1/pipelines/{pipeline['id']}/board").json()
        open_deals = sum(stage["count"] for stage in board["stages"])
        assert open_deals == len(demo_api.all_pages("/v1/deals", {"status": "open"}))
        listed = crm(tmp_path, "dlq", "list")
        assert listed.returncode == 0, listed.stderr
        assert "crm-reminders-dlq" in listed.stdout and "crm-outbox-dlq" in listed.stdout
        replayed = crm(tmp_path, "dlq", "redrive", "crm-outbox")
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed 0 dead letter(s): 0 event(s) published again" in replayed.stdout
        docs = api.session.get(f"{api_url}/docs", timeout=10)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert "/v1/contacts" in api.session.get(f"{api_url}/openapi.json", timeout=10).json()["paths"]
    assert process.returncode == 0
    assert not (tmp_path / ".crm" / "dev.json").exists()

    with crm_dev(tmp_path, "--data", str(data)) as (api_url, _):
        api = ApiClient(api_url, tenant["api_key"])
        read = api.get(f"/v1/contacts/{contact['id']}")
        assert read.status_code == 200, read.text
        assert read.json()["title"] == "Archivist" and read.json()["version"] == 2
        assert [c["id"] for c in api.get("/v1/contacts", params={"q": "kept"}).json()["items"]] == [
            contact["id"]
        ]
        assert api.post("/v1/contacts", {"email": "KEPT@example.com"}).status_code == 409


def test_tenant_create_without_a_running_instance_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}
    done = subprocess.run(
        [*CRM, "tenant", "create", "--name", "Nobody"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "crm dev" in done.stderr
