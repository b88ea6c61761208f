"""`crm dev --data DIR` across a crash: a `kill -9` loses no acknowledged write, makes no effect twice and
leaves no effect unmade; and one `crm dev` per folder.

Each test runs `crm dev` as a user does, a subprocess in a folder of its own, and talks to it over HTTP
(and to its AWS endpoint, as any boto3 tool may).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from crm_local.runtime import free_port
from tests.integration.test_cli import CRM, STOP_TIMEOUT_S, crm, tenant_create
from tests.integration.test_webhooks import Receiver, add_webhook
from tests.support.client import ApiClient
from tests.support.waiting import eventually

BATCH = 25  # contacts a batch (the API takes 100; fewer keep the test short on a busy machine)
START_SECONDS = 90  # the machine's other work included: a cold start compiles every module
PARTNER_BUS_ARN = "arn:aws:events:us-east-1:111111111111:event-bus/partner"  # another account's


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRM_"))}
    return {**env, **extra}


class Dev:
    """A `crm dev` subprocess, serving once ``start`` returns."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.log = folder.parent / f"crm-dev-{self.port}.log"  # its output, for a failure's message
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*CRM, "dev", "--port", str(self.port), *args],
                cwd=folder,
                env=env or _env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> Dev:
        deadline = time.monotonic() + START_SECONDS
        while not self.serving():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "crm dev did not start"
            time.sleep(0.2)
        return self

    def printed(self, start: str) -> str:
        """The line of its output that starts so ("" while there is none)."""
        return next((line for line in self.log.read_text().splitlines() if line.startswith(start)), "")

    def serving(self) -> bool:
        try:  # any answer (401: no credential) is the API's
            return requests.get(f"{self.api}/v1/contacts", timeout=10).status_code == 401
        except requests.RequestException:
            return False

    def aws(self, service: str) -> Any:
        """A client of this `crm dev`'s AWS endpoint (the one it wrote to `.crm/dev.json`)."""
        state = json.loads((self.folder / ".crm" / "dev.json").read_text())
        assert state["api"] == self.api, state
        return boto3.client(
            service,
            endpoint_url=state["aws_endpoint"],
            region_name=state["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
        return self.process.wait(timeout=STOP_TIMEOUT_S)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean stop, no snapshot
        self.process.wait(timeout=30)


@contextmanager
def crm_dev(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Dev]:
    dev = Dev(folder, *args, env=env)
    try:
        yield dev.start()
    finally:
        if dev.process.poll() is None:
            dev.process.kill()
            dev.process.wait(timeout=30)


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def reminder_titles(api: ApiClient) -> list[str]:
    return sorted(n["title"] for n in api.all_pages("/v1/notifications", {"limit": 100}))


def received(receiver: Receiver) -> Counter[tuple[str, str]]:
    """(event type, subject record's id) -> how many times the receiver accepted it."""
    return Counter((e["type"], e["data"]["id"]) for e in list(receiver.accepted))


def contacts_made_in_batches(api: ApiClient, batches: int) -> list[str]:
    """The ids of new contacts made in batches of BATCH, each batch answered whole."""
    made: list[str] = []
    for batch in range(batches):
        inputs = [{"email": f"c{batch}-{n}@example.com", "first_name": f"C{n}"} for n in range(BATCH)]
        response = api.post("/v1/contacts/batch/create", {"inputs": inputs})
        assert response.status_code in (200, 201), response.text
        results = response.json()["results"]
        assert [r["status"] for r in results] == [201] * BATCH
        made += [r["id"] for r in results]
    return made


def assert_rebuilt_what_the_endpoint_forgot(
    dev: Dev, partner_target_id: str, reminder: dict[str, Any], timed: list[str]
) -> None:
    """The partner's rule is on the bus again, and the reminder still ahead, the sent quote's expiry and the
    active contract's timers (``timed``: their names) have their schedules again (the local endpoint forgot
    them in the crash)."""
    scheduler = dev.aws("scheduler")
    for name in timed:
        assert scheduler.get_schedule(Name=name, GroupName="crm-reminders")["Name"] == name
    rules = dev.aws("events").list_rules(EventBusName="crm", NamePrefix=f"crm-target-{partner_target_id}")
    assert len(rules["Rules"]) == 1
    schedule = dev.aws("scheduler").get_schedule(Name=f"reminder-{reminder['id']}", GroupName="crm-reminders")
    at = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
    remind_at = datetime.fromisoformat(reminder["remind_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= at - remind_at < timedelta(seconds=1)


TIMERS = ("renewal", "expiry", "overdue")


def has_schedule(dev: Dev, name: str) -> bool:
    scheduler = dev.aws("scheduler")
    try:
        scheduler.get_schedule(Name=name, GroupName="crm-reminders")
    except scheduler.exceptions.ResourceNotFoundException:
        return False
    return True


def timed_records(dev: Dev, api: ApiClient, contact_id: str) -> list[str]:
    """A sent quote and an active contract with a plan, once their schedules are made: their names."""
    deal = api.create("deals", {"name": "Engines", "contact_ids": [contact_id]})
    # A sent quote (its expiry schedule) and an active contract (its renewal, expiry, overdue timers).
    in_days = {n: (datetime.now(UTC) + timedelta(days=n)).date().isoformat() for n in (1, 30, 60, 365)}
    quote = api.create(
        "quotes",
        {
            "contact_id": contact_id,
            "deal_id": deal["id"],
            "currency": "EUR",
            "valid_until": in_days[30],
            "line_items": [{"description": "Engine", "quantity": "1", "unit_price": "100.00"}],
        },
    )
    assert api.post(f"/v1/quotes/{quote['id']}/send", {}).status_code == 200
    contract = api.create(
        "contracts",
        {
            "name": "Support",
            "start_date": in_days[1],
            "end_date": in_days[365],
            "value": "100.00",
            "currency": "EUR",
            "status": "active",
            "renewal_reminder_days": 10,
            "payment_plan": [{"due_date": in_days[60], "amount": "100.00"}],
        },
    )
    timed = [f"quote-expiry-{quote['id']}", *(f"contract-{contract['id']}-{t}" for t in TIMERS)]
    assert eventually(lambda: all(has_schedule(dev, name) for name in timed))
    return timed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.stop()


def test_a_kill_loses_no_acknowledged_write_and_repeats_no_effect(tmp_path: Path, receiver: Receiver) -> None:
    data = tmp_path / "data"
    # A small journal limit: the journal is compacted into a snapshot several times while contacts are
    # written, so the restart reads a snapshot taken mid-run and the journal after it.
    env = _env(CRM_DATA_COMPACT_BYTES="60000")
    first = Dev(tmp_path, "--data", str(data), env=env)
    try:
        first.start()
        tenant = tenant_create(tmp_path)
        api = ApiClient(first.api, tenant["api_key"])
        target = add_webhook(api, receiver.url, ["activity.*", "company.*"])
        partner = api.post(
            "/v1/event-targets",
            {"type": "eventbridge", "event_bus_arn": PARTNER_BUS_ARN, "event_types": ["company.*"]},
        )
        assert partner.status_code == 201, partner.text
        contact = api.create("contacts", {"email": "ada@example.com", "first_name": "Ada"})
        fired = api.create(
            "activities",
            {"type": "task", "subject": "Fired before", "contact_id": contact["id"], "remind_at": soon(2)},
        )
        assert api.post("/v1/contacts", {"email": "ADA@example.com"}).status_code == 409  # refused: not kept
        made = [contact["id"], *contacts_made_in_batches(api, 3)]
        # Every effect so far is made before the crash: the reminder fired, and the receiver has each event
        # (the relay publishes in commit order: with the last one's, every event before it is out).
        assert eventually(lambda: reminder_titles(api) == ["Reminder: Fired before"])
        next_week = api.create(
            "activities",
            {
                "type": "task",
                "subject": "Next week",
                "contact_id": contact["id"],
                "remind_at": soon(7 * 86400),
            },
        )
        before = {
            ("activity.created", fired["id"]),
            ("activity.created", next_week["id"]),
            ("activity.reminder_due", fired["id"]),
        }
        assert eventually(lambda: set(received(receiver)) == before), received(receiver)
        assert api.get(f"/v1/event-targets/{partner.json()['id']}").json()["status"] == "active"

        timed = timed_records(first, api, contact["id"])

        # The bus goes away (as any tool on the AWS endpoint can make it): what commits now cannot be
        # published before the crash, and is acknowledged all the same.
        first.aws("events").delete_event_bus(Name="crm")
        company = api.create("companies", {"name": "Committed Before The Crash"})
        due_while_down = api.create(
            "activities",
            {"type": "task", "subject": "Due while down", "contact_id": contact["id"], "remind_at": soon(2)},
        )
    finally:
        first.kill()
    assert set(received(receiver)) == before
    assert (tmp_path / ".crm" / "dev.json").exists()  # left behind by the kill
    with (data / "journal.jsonl").open("ab") as journal:  # and a write the kill cut short, never answered
        journal.write(b'{"changes":[{"put":{"PK":{"S":"T#')
    stale = crm(tmp_path, "tenant", "create", "--name", "Nobody")
    assert stale.returncode == 1 and "no `crm dev` is answering at" in stale.stderr, stale.stderr

    with crm_dev(tmp_path, "--data", str(data), env=env) as second:
        # The two events committed after the bus went away are all that was left to publish (it prints
        # that line once it serves).
        assert ", 2 events to publish;" in eventually(lambda: second.printed("Data ")), second.log.read_text()
        api = ApiClient(second.api, tenant["api_key"])
        assert {c["id"] for c in api.all_pages("/v1/contacts", {"limit": 100})} == set(made)
        assert (data / "table.jsonl").exists()  # a snapshot taken while the first ran (none at a kill)
        assert api.get(f"/v1/companies/{company['id']}").status_code == 200
        # Committed and not published at the crash: published now, once; the reminder that fell due while
        # crm dev was down fires now, late, once; the one that fired before does not fire again.
        after = before | {
            ("company.created", company["id"]),
            ("activity.created", due_while_down["id"]),
            ("activity.reminder_due", due_while_down["id"]),
        }
        assert eventually(lambda: set(received(receiver)) == after, timeout=40), received(receiver)
        assert eventually(
            lambda: reminder_titles(api) == ["Reminder: Due while down", "Reminder: Fired before"]
        )
        time.sleep(3)  # anything made twice would arrive by now
        assert received(receiver) == Counter(after), received(receiver)
        assert reminder_titles(api) == ["Reminder: Due while down", "Reminder: Fired before"]
        # The delivery log of before the crash is kept, and each event was delivered in one try.
        log = api.all_pages(f"/v1/event-targets/{target['id']}/deliveries", {"limit": 100})
        assert sorted((d["event_type"], d["outcome"]) for d in log) == sorted(
            (kind, "succeeded") for kind, _ in after
        )
        assert_rebuilt_what_the_endpoint_forgot(second, partner.json()["id"], next_week, timed)
        assert second.stop() == 0
    assert not (tmp_path / ".crm" / "dev.json").exists()


def test_a_second_crm_dev_in_the_same_folder_or_on_the_same_data_says_so_and_exits(tmp_path: Path) -> None:
    first_folder, other_folder, data = tmp_path / "one", tmp_path / "two", tmp_path / "data"
    first_folder.mkdir()
    other_folder.mkdir()
    with crm_dev(first_folder, "--data", str(data)) as first:
        state = (first_folder / ".crm" / "dev.json").read_bytes()
        pid = first.process.pid

        same_folder = subprocess.run(
            [*CRM, "dev", "--port", str(free_port())],
            cwd=first_folder,
            env=_env(),
            text=True,
            capture_output=True,
            timeout=60,
        )
        assert same_folder.returncode == 1
        assert same_folder.stderr.count("\n") == 1, same_folder.stderr  # one line, no traceback
        assert "already running in this folder" in same_folder.stderr
        assert first.api in same_folder.stderr and f"pid {pid}" in same_folder.stderr

        same_data = subprocess.run(
            [*CRM, "dev", "--port", str(free_port()), "--data", str(data)],
            cwd=other_folder,
            env=_env(),
            text=True,
            capture_output=True,
            timeout=60,
        )
        assert same_data.returncode == 1
        assert same_data.stderr.count("\n") == 1, same_data.stderr
        assert f"data folder {data} is in use" in same_data.stderr
        assert first.api in same_data.stderr and f"pid {pid}" in same_data.stderr
        assert not (other_folder / ".crm" / "dev.json").exists()

        # The first is untouched and still serving.
        assert (first_folder / ".crm" / "dev.json").read_bytes() == state
        assert first.serving()
        assert first.stop() == 0
    assert not (first_folder / ".crm" / "dev.json").exists()
