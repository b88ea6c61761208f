"""The `crm` command as a user runs it: `crm dev` in a folder, `crm tenant create` finding it through
`.crm/dev.json`, Ctrl-C stopping it cleanly, and `--data DIR` keeping records across a restart."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import requests

from crm_local.runtime import free_port
from tests.support.client import ApiClient

CRM = [sys.executable, "-m", "crm_local.cli"]
# A clean stop writes the data folder's snapshot: on a loaded machine (2 shared cores) it takes its time.
STOP_TIMEOUT_S = 180


@contextmanager
def crm_dev(folder: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [*CRM, "dev", "--port", str(port), *args],
        cwd=folder,
        env=_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    state = folder / ".crm" / "dev.json"
    try:
        deadline = time.monotonic() + 180  # a loaded machine (2 shared cores) starts it slowly
        while not state.exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "crm dev did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            process.wait(timeout=STOP_TIMEOUT_S)


def _env() -> dict[str, str]:
    """A user's shell: no AWS or CRM settings, and no virtualenv's ``crm`` on the PATH (as after ``make
    dev``, which does not put .venv/bin there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep) if d != venv_bin)
    return env


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
        docs = api.session.get(f"{api_url}/docs", timeout=60)  # the first builds the OpenAPI document
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert "/v1/contacts" in api.session.get(f"{api_url}/openapi.json", timeout=60).json()["paths"]
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


def _banner_command(process: subprocess.Popen[str]) -> list[str]:
    """The command ``crm dev``'s banner tells to run to create a tenant, as words."""
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        assert line, "crm dev's banner has no 'Create a tenant' line"
        if line.startswith("Create a tenant:"):
            return shlex.split(line.split(":", 1)[1].split("  ")[0].strip())


def _operate(tmp_path: Path, api_url: str, tenant: dict[str, Any]) -> None:
    """show, plan, suspend, resume and delete of `crm tenant`, seen through the tenant's API key."""
    tenant_id = tenant["tenant_id"]

    def me() -> requests.Response:
        headers = {"Authorization": f"Bearer {tenant['api_key']}"}
        return requests.get(f"{api_url}/v1/me", headers=headers, timeout=30)

    shown = json.loads(crm(tmp_path, "tenant", "show", tenant_id).stdout)
    assert (shown["plan"], shown["status"], shown["quotas"]["seats"]) == ("team", "active", 50), shown
    planned = crm(tmp_path, "tenant", "plan", tenant_id, "custom", "--requests-per-minute", "42")
    assert planned.returncode == 0 and json.loads(planned.stdout)["quotas"]["requests_per_minute"] == 42
    assert me().headers["RateLimit-Limit"] == "42"
    assert "No tenant with id" in crm(tmp_path, "tenant", "plan", "01NOSUCH", "team").stderr
    assert json.loads(crm(tmp_path, "tenant", "suspend", tenant_id).stdout)["status"] == "suspended"
    assert me().status_code == 403 and me().json()["type"] == "/problems/tenant-suspended"
    assert json.loads(crm(tmp_path, "tenant", "resume", tenant_id).stdout)["status"] == "active"
    assert me().status_code == 200
    billed = crm(tmp_path, "tenant", "billing")  # this month so far: a row per tenant, and where it went
    assert billed.returncode == 0 and tenant_id in billed.stdout, billed.stderr
    assert "billing/month=" in billed.stdout and "api_calls" in billed.stdout
    unconfirmed = crm(tmp_path, "tenant", "delete", tenant_id)  # no terminal to ask on, no --yes
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr and me().status_code == 200
    deleted = crm(tmp_path, "tenant", "delete", tenant_id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    report = json.loads(deleted.stdout)
    assert report["complete"] and report["removed"]["items"] > 5 and not any(report["left"].values()), report
    assert "Check: nothing left" in deleted.stderr
    assert me().status_code == 401
    assert tenant_id not in crm(tmp_path, "tenant", "list").stdout


def test_the_commands_around_crm_dev(tmp_path: Path) -> None:
    """The banner's command works as printed (`crm` is not on this PATH); `tenant list` shows the tenants;
    `dlq show` leaves what it shows in the queue and pretty-prints JSON; after a `kill -9` of `crm dev`,
    each command says in one line that nothing answers there, and how to start one."""
    with crm_dev(tmp_path) as (api_url, process):
        command = _banner_command(process)
        assert command[0] != "crm" and command[-4:] == ["tenant", "create", "--name", "Acme"], command
        made = subprocess.run(command, cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=60)
        assert made.returncode == 0, made.stderr
        acme = json.loads(made.stdout)
        globex = json.loads(
            crm(tmp_path, "tenant", "create", "--name", "Globex Corp", "--plan", "team").stdout
        )

        listed = crm(tmp_path, "tenant", "list")
        assert listed.returncode == 0, listed.stderr
        rows = [line.split("\t") for line in listed.stdout.splitlines()]
        assert rows == [
            [acme["tenant_id"], "Acme", "free", "active"],
            [globex["tenant_id"], "Globex Corp", "team", "active"],
        ]
        as_json = [json.loads(line) for line in crm(tmp_path, "tenant", "list", "--json").stdout.splitlines()]
        assert [(t["tenant_id"], t["name"], t["plan"]) for t in as_json] == [
            (acme["tenant_id"], "Acme", "free"),
            (globex["tenant_id"], "Globex Corp", "team"),
        ]
        assert all(t["created_at"] for t in as_json)
        assert crm(tmp_path, "tenant", "list", "--limit", "1").stdout.splitlines() == [
            listed.stdout.splitlines()[0]
        ]
        _operate(tmp_path, api_url, globex)

        state = json.loads((tmp_path / ".crm" / "dev.json").read_text())
        sqs = boto3.client(
            "sqs",
            endpoint_url=state["aws_endpoint"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        dead = sqs.get_queue_url(QueueName="crm-reminders-dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=dead, MessageBody=json.dumps({"activity_id": "A1", "remind_at": "soon"}))
        sqs.send_message(QueueUrl=dead, MessageBody="not json")
        for look in (1, 2):  # the second look right after the first sees them all again
            shown = crm(tmp_path, "dlq", "show", "crm-reminders")
            assert shown.returncode == 0, shown.stderr
            assert '\n  "body": {\n    "activity_id": "A1",' in shown.stdout, (look, shown.stdout)
            assert '"body": "not json"' in shown.stdout, (look, shown.stdout)
        dead_letters = [line.split()[:2] for line in crm(tmp_path, "dlq", "list").stdout.splitlines()]
        assert ["crm-reminders-dlq", "2"] in dead_letters, dead_letters

        process.kill()  # kill -9: no chance to remove .crm/dev.json
        process.wait(timeout=30)
    assert (tmp_path / ".crm" / "dev.json").exists()
    for args in (("tenant", "create", "--name", "Late"), ("tenant", "list"), ("dlq", "list"), ("seed",)):
        done = crm(tmp_path, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, (args, done.stderr)
        assert f"no `crm dev` is answering at {api_url}" in done.stderr, (args, done.stderr)
        assert f"`{' '.join(command[:-4])} dev`" in done.stderr, (args, done.stderr)


def test_an_endpoint_that_is_gone_is_said_in_one_line(tmp_path: Path) -> None:
    """Pointed at AWS by the environment (no .crm/dev.json), at an endpoint where nothing answers."""
    env = {**_env(), "CRM_TABLE_NAME": "crm", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    env.update({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    done = subprocess.run(
        [*CRM, "tenant", "create", "--name", "Nobody"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"no `crm dev` is answering at {env['AWS_ENDPOINT_URL']}" in done.stderr, done.stderr


def test_every_argument_has_help() -> None:
    import argparse

    from crm_local.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "crm")
    assert missing == []
