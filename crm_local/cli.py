"""The ``crm`` command: run the CRM locally and operate it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm_core.rate_limits import PLAN_LIMITS


def _dev(args: argparse.Namespace) -> int:
    from crm_local.data_dir import DamagedJournal
    from crm_local.runtime import AlreadyRunning, LocalRuntime

    port = args.port if args.port is not None else int(os.environ.get("CRM_PORT", "8000"))
    runtime = LocalRuntime(port=port, host=args.host, access_log=True, data_dir=args.data)
    try:
        instance = runtime.start()
    except (AlreadyRunning, DamagedJournal) as refused:
        runtime.stop()
        print(f"crm dev: {refused}", file=sys.stderr, flush=True)
        return 1
    if args.data is not None:
        print(
            f"Data            {args.data} ({runtime.restored} items restored, {runtime.unpublished} events "
            "to publish; each change is on disk before it is answered)",
            flush=True,
        )
    print(f"CRM API         {instance.api}/v1", flush=True)
    print(f"OpenAPI         {instance.api}/openapi.json   docs: {instance.api}/docs", flush=True)
    print(
        f"AWS endpoint    {instance.aws_endpoint}  (AWS_ENDPOINT_URL, region {instance.region})", flush=True
    )
    print("Create a tenant: crm tenant create --name Acme        Ctrl-C stops.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping...", flush=True)
        runtime.stop()
    return 0


def _attach() -> None:
    """Use the running ``crm dev`` if there is one; otherwise AWS as the environment configures it."""
    from crm_local.runtime import find_running

    if find_running() is None and not os.environ.get("CRM_TABLE_NAME"):
        sys.exit("No running `crm dev` found (.crm/dev.json) and CRM_TABLE_NAME is not set for AWS.")


def _tenant_create(args: argparse.Namespace) -> int:
    _attach()
    from crm_core.services.tenants import create_tenant

    tenant = create_tenant(args.name, args.admin_email, plan=args.plan)
    print(json.dumps({"tenant_id": tenant.tenant_id, "api_key": tenant.api_key, "user_id": tenant.user_id}))
    return 0


def _seed(args: argparse.Namespace) -> int:
    from crm_local.runtime import find_running
    from crm_local.seed import seed

    running = find_running()
    if running is None:
        sys.exit("No running `crm dev` found (.crm/dev.json): start it first.")
    api_key = args.api_key or os.environ.get("CRM_API_KEY")
    created = None
    if not api_key:
        from crm_core.services.tenants import create_tenant

        created = create_tenant(args.tenant_name)
        api_key = created.api_key
    counts = seed(running.api, api_key, args.contacts)
    summary: dict[str, object] = {**counts}
    if created is not None:
        summary.update({"tenant_id": created.tenant_id, "api_key": created.api_key})
    print(json.dumps(summary))
    return 0


def _sqs() -> Any:
    """SQS of the running ``crm dev``, or of AWS as the environment configures it."""
    from crm_local.runtime import find_running

    find_running()
    import boto3

    return boto3.client("sqs")


def _dlq(args: argparse.Namespace) -> int:
    from crm_local import dlq

    sqs = _sqs()
    if args.dlq_command == "list":
        rows = dlq.list_all(sqs)
        width = max(len(row.dead_letter_queue) for row in rows)
        for row in rows:
            print(f"{row.dead_letter_queue:<{width}}  {row.messages:>6}  (of {row.queue})")
    elif args.dlq_command == "show":
        for message in dlq.show(sqs, args.queue, args.limit):
            print(json.dumps(message))
    else:
        from crm_core.definitions import OUTBOX_DEAD_LETTER_QUEUE, PARTNER_DELIVERIES_QUEUE
        from rich.progress import Progress, SpinnerColumn, TextColumn

        replays: dict[Any, tuple[Callable[..., dlq.Replay], str]] = {
            OUTBOX_DEAD_LETTER_QUEUE: (dlq.replay_outbox, "published again"),
            PARTNER_DELIVERIES_QUEUE: (dlq.replay_partner_deliveries, "sent again to their partner buses"),
        }
        replayed = next((q for q in replays if args.queue in (q.name, q.dead_letter_name)), None)
        with Progress(SpinnerColumn(), TextColumn("{task.description}")) as bar:
            task = bar.add_task("replaying" if replayed else "moving", total=None)
            if replayed is not None:
                replay = replays[replayed][0](
                    sqs, progress=lambda n: bar.update(task, description=f"replayed {n}")
                )
            else:
                moved = dlq.redrive(sqs, args.queue, lambda n: bar.update(task, description=f"moved {n}"))
        if replayed is None:
            print(f"moved {moved} message(s) back to {args.queue}")
            return 0
        print(f"replayed {replay.replayed} dead letter(s): {replay.events} event(s) {replays[replayed][1]}")
        for reason in replay.kept:
            print(f"kept {reason}")
        return 1 if replay.kept else 0
    return 0


def _openapi(args: argparse.Namespace) -> int:
    os.environ.setdefault("CRM_TABLE_NAME", "crm")
    from crm_local.openapi import openapi_json

    text = openapi_json()
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm", description="The CRM on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the whole CRM locally")
    dev.add_argument("--port", type=int, default=None, help="API port (default: $CRM_PORT or 8000)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument(
        "--data", type=Path, default=None, help="keep the data in DIR across restarts, crashes included"
    )
    dev.set_defaults(run=_dev)

    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(
        dest="tenant_command", required=True
    )
    create = tenant.add_parser("create", help="create a tenant with an admin API key")
    create.add_argument("--name", required=True)
    create.add_argument("--admin-email", default=None)
    create.add_argument("--plan", default="free", choices=sorted(PLAN_LIMITS), help="sets the rate limit")
    create.set_defaults(run=_tenant_create)

    seed = commands.add_parser("seed", help="fill a tenant with realistic demo data")
    seed.add_argument("--contacts", type=int, default=200, help="how many contacts (companies: a tenth)")
    seed.add_argument(
        "--api-key", default=None, help="the tenant to fill (default: $CRM_API_KEY, else a new one)"
    )
    seed.add_argument("--tenant-name", default="Demo", help="the name of the new tenant, when one is made")
    seed.set_defaults(run=_seed)

    dead = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(
        dest="dlq_command", required=True
    )
    dead.add_parser("list", help="every dead-letter queue and how many messages it holds").set_defaults(
        run=_dlq
    )
    shown = dead.add_parser("show", help="messages of one queue's dead-letter queue")
    shown.add_argument("queue")
    shown.add_argument("--limit", type=int, default=10)
    shown.set_defaults(run=_dlq)
    moved = dead.add_parser(
        "redrive",
        help="send a dead-letter queue's messages back to their queue; for crm-outbox, read the "
        "dead-lettered stream batches again and publish their events; for crm-partner-deliveries, send "
        "the events to their partner buses again",
    )
    moved.add_argument("queue")
    moved.set_defaults(run=_dlq)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document generated from the code")
    openapi.add_argument("--output", "-o", default=None)
    openapi.set_defaults(run=_openapi)

    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
