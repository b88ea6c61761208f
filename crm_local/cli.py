"""The ``crm`` command: run the CRM locally and operate it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from crm_core.models.import_job import ImportObject, OnDuplicate

if TYPE_CHECKING:
    from crm_local.runtime import RunningInstance


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
    from crm_local.pages import WEB_DIST

    built = (WEB_DIST / "index.html").is_file()
    print(
        f"Web app         {instance.api}/" + ("" if built else "   (not built: make web builds it)"),
        flush=True,
    )
    print(f"OpenAPI         {instance.api}/openapi.json   docs: {instance.api}/docs", flush=True)
    print(
        f"AWS endpoint    {instance.aws_endpoint}  (AWS_ENDPOINT_URL, region {instance.region})", flush=True
    )
    print(f"Create a tenant: {crm_command()} tenant create --name Acme        Ctrl-C stops.", flush=True)
    stopped = threading.Event()
    # Ctrl-C and a kill stop it cleanly, also when started in the background, whose SIGINT the shell ignores
    # (Python then keeps it ignored, and only a SIGKILL would stop it).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping...", flush=True)
        runtime.stop()
    return 0


class Refused(Exception):
    """What the user is told, in one line on stderr, before ``crm`` exits 1."""


def crm_command() -> str:
    """How to run ``crm`` from this shell: ``crm`` when the one on the PATH is this one, else its path
    (``.venv/bin/crm`` in the repository, where ``make dev`` puts it and not on the PATH)."""
    script = Path(sys.executable).with_name("crm")
    on_path = shutil.which("crm")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "crm"
    if not script.exists():
        return f"{sys.executable} -m crm_local.cli"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script.absolute())


def _attach() -> RunningInstance | None:
    """The running ``crm dev`` of this folder, this process pointed at it; None for AWS as the environment
    configures it (``CRM_TABLE_NAME`` set, no ``crm dev`` ever ran here)."""
    from crm_local.runtime import NotAnswering, answers, find_running

    try:
        running = find_running()
    except NotAnswering as gone:
        raise Refused(
            f"no `crm dev` is answering at {gone.api} (.crm/dev.json is left from one that stopped); "
            f"start one in this folder with `{crm_command()} dev`"
        ) from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if running is None and endpoint and not answers(endpoint):  # at once, not after boto3's retries
        raise Refused(
            f"no `crm dev` is answering at {endpoint} (AWS_ENDPOINT_URL); start one with "
            f"`{crm_command()} dev`"
        )
    if running is None and not os.environ.get("CRM_TABLE_NAME"):
        raise Refused(
            "no `crm dev` is running in this folder (no .crm/dev.json) and CRM_TABLE_NAME is not set for "
            f"AWS; start one here with `{crm_command()} dev`"
        )
    return running


def _attached(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``handler`` run against the running ``crm dev`` of this folder (or AWS as configured)."""

    def run(args: argparse.Namespace) -> int:
        _attach()
        return handler(args)

    return run


def _seed(args: argparse.Namespace) -> int:
    from crm_local.seed import seed

    running = _attach()
    if running is None:
        raise Refused(
            f"`crm seed` fills a tenant of a running `crm dev`: start one with `{crm_command()} dev`"
        )
    api_key = args.api_key or os.environ.get("CRM_API_KEY")
    from crm_core.auth import parse_api_key

    if api_key and parse_api_key(api_key) is None:
        raise Refused("--api-key (or $CRM_API_KEY) is not a CRM API key: they look like crm_<tenant>_...")
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


def _running_and_admin_key(doing: str, args: argparse.Namespace) -> tuple[RunningInstance, str]:
    """The running ``crm dev`` and the admin key a command acts with (--api-key or $CRM_API_KEY)."""
    from crm_core.auth import parse_api_key

    running = _attach()
    if running is None:
        raise Refused(f"{doing} a running `crm dev`: start one with `{crm_command()} dev`")
    api_key = args.api_key or os.environ.get("CRM_API_KEY")
    if not api_key or parse_api_key(api_key) is None:
        raise Refused("give an admin's API key with --api-key or $CRM_API_KEY (crm_<tenant>_...)")
    return running, api_key


def _import(args: argparse.Namespace) -> int:
    from crm_local.csv_import import ImportRefused, run_import, summary

    running, api_key = _running_and_admin_key("`crm import` imports into", args)
    path = Path(args.file)
    if not path.is_file():
        raise Refused(f"{args.file}: no such file")
    mapping = None
    if args.mapping is not None:
        try:
            mapping = json.loads(args.mapping)
        except ValueError:
            raise Refused('--mapping must be a JSON object: {"CSV column": "field", ...}') from None
    try:
        job = run_import(
            running.api,
            api_key,
            path,
            object_name=args.object,
            on_duplicate=args.on_duplicate,
            mapping=mapping,
        )
    except ImportRefused as refused:
        raise Refused(f"the import was refused: {refused}") from None
    print(summary(job))
    return 0 if job["status"] == "completed" else 1


def _export(args: argparse.Namespace) -> int:
    from crm_local.csv_import import ApiRefused
    from crm_local.tenant_export import download, run_export, summary

    running, api_key = _running_and_admin_key("`crm export` exports a tenant of", args)
    try:
        job = run_export(running.api, api_key)
    except ApiRefused as refused:
        raise Refused(f"the export was refused: {refused}") from None
    out = Path(args.out or f"crm-export-{job['id']}.zip") if job["status"] == "completed" else None
    if out is not None and not args.no_download:
        download(job, out)
    print(summary(job, None if args.no_download else out))
    return 0 if job["status"] == "completed" else 1


def _sqs() -> Any:
    """SQS of the running ``crm dev``, or of AWS as the environment configures it."""
    _attach()
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
            with contextlib.suppress(ValueError):  # a JSON body shown as JSON, not as escaped JSON text
                message["body"] = json.loads(message["body"])
            print(json.dumps(message, indent=2, ensure_ascii=False))
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


def _migrate(args: argparse.Namespace) -> int:
    """A migration of the running ``crm dev``'s table (its data folder's journal keeps the changes, as a
    request's), or of AWS's as the environment configures it."""
    _attach()
    import boto3
    from crm_core.config import settings
    from crm_core.migrations.command import run_command

    return run_command(args, boto3.client("dynamodb", region_name=settings().region), settings().table_name)


def _reports(args: argparse.Namespace) -> int:
    """The analytics files of the running ``crm dev`` (or of AWS as the environment configures it):
    ``reexport`` writes every record of the tenants again (docs/decisions/0020); ``compact`` merges each
    past day's small files."""
    _attach()
    from crm_core.reports import store
    from crm_core.services import analytics_export as exporter
    from crm_core.services.tenants import list_tenants
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    tenants = list(args.tenant or [])
    if not tenants and args.reports_command == "reexport":
        after: str | None = None
        while True:
            page, after = list_tenants(100, after)
            tenants += [t.tenant_id for t in page]
            if after is None:
                break
    elif not tenants:
        tenants = list(store.tenants())
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task(f"{args.reports_command} tenants", total=len(tenants))
        records = bar.add_task("records", total=None, visible=args.reports_command == "reexport")
        for tenant_id in tenants:
            if args.reports_command == "reexport":
                counts = exporter.reexport(tenant_id, lambda n: bar.advance(records, n))
                bar.console.print(f"{tenant_id}: " + ", ".join(f"{n} {o}" for o, n in counts.items()))
            else:
                files = exporter.compact(tenant_id)
                bar.console.print(f"{tenant_id}: {files['files_before']} files -> {files['files_after']}")
            bar.advance(task)
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


def _add_reports_commands(commands: Any) -> None:
    analytics = commands.add_parser(
        "reports", help="the reports' analytics files: write them again, or compact them"
    ).add_subparsers(dest="reports_command", required=True, metavar="COMMAND")
    for name, what in (
        ("reexport", "write every record of the tenants to the analytics files again (a full re-export)"),
        ("compact", "merge each past day's small analytics files into one per object"),
    ):
        one = analytics.add_parser(name, help=what)
        one.add_argument(
            "--tenant", action="append", metavar="ID", help="only this tenant (repeatable; default: all)"
        )
        one.set_defaults(run=_reports)


def _add_openapi_command(commands: Any) -> None:
    openapi = commands.add_parser("openapi", help="print the OpenAPI document generated from the code")
    openapi.add_argument(
        "--output", "-o", default=None, metavar="FILE", help="write it to FILE instead of standard output"
    )
    openapi.set_defaults(run=_openapi)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="The CRM on this machine: `crm dev` runs it; the other commands find the running "
        "`crm dev` of this folder through .crm/dev.json (or, with none there, AWS as the environment "
        "configures it: CRM_TABLE_NAME, AWS credentials and region).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="run the whole CRM locally")
    dev.add_argument("--port", type=int, default=None, help="API port (default: $CRM_PORT or 8000)")
    dev.add_argument("--host", default="127.0.0.1", help="address the API listens on (default: 127.0.0.1)")
    dev.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the data in DIR across restarts, crashes included (default: in memory only)",
    )
    dev.set_defaults(run=_dev)

    from crm_local.operator import add_tenant_commands

    add_tenant_commands(commands, _attached)

    seed = commands.add_parser(
        "seed",
        help="fill a tenant with realistic demo data: a sales team of four users who own it, companies, "
        "contacts, deals won, lost and open, notes, calls, meetings and tasks (done, overdue, due today, "
        "due later)",
    )
    seed.add_argument(
        "--contacts",
        type=int,
        default=200,
        metavar="N",
        help="how many contacts (default: 200; companies are a tenth of them, deals a quarter, "
        "activities a half)",
    )
    seed.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="an admin API key of the tenant to fill (default: $CRM_API_KEY, else a new tenant is made)",
    )
    seed.add_argument(
        "--tenant-name",
        default="Demo",
        metavar="NAME",
        help="the new tenant's name, when one is made (default: Demo)",
    )
    seed.set_defaults(run=_seed)

    imported = commands.add_parser(
        "import",
        help="import a CSV file into a tenant of the running `crm dev`, with a progress bar and a summary",
    )
    imported.add_argument("file", metavar="FILE", help="the CSV file (UTF-8, `,` or `;`, a header line)")
    imported.add_argument(
        "--object", choices=get_args(ImportObject), default="contacts", help="what each row is"
    )
    imported.add_argument(
        "--on-duplicate",
        choices=get_args(OnDuplicate),
        default="skip",
        help="a row whose email (domain) a record has: skip it, update the record, or create (refused)",
    )
    imported.add_argument(
        "--mapping",
        default=None,
        metavar="JSON",
        help='columns to fields, {"CSV column": "field"} (default: guessed from the header)',
    )
    imported.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="an admin API key of the tenant (default: $CRM_API_KEY)",
    )
    imported.set_defaults(run=_import)

    exported = commands.add_parser(
        "export",
        help="export a tenant of the running `crm dev` to a zip of JSON Lines, with a progress bar",
    )
    exported.add_argument(
        "--out", default=None, metavar="FILE", help="where to write the zip (default: crm-export-<id>.zip)"
    )
    exported.add_argument(
        "--no-download", action="store_true", help="print the download link instead of downloading the zip"
    )
    exported.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="an admin API key of the tenant (default: $CRM_API_KEY)",
    )
    exported.set_defaults(run=_export)

    dead = commands.add_parser("dlq", help="look into and empty the dead-letter queues").add_subparsers(
        dest="dlq_command", required=True, metavar="COMMAND"
    )
    dead.add_parser("list", help="every dead-letter queue and how many messages it holds").set_defaults(
        run=_dlq
    )
    shown = dead.add_parser(
        "show", help="messages of one queue's dead-letter queue, left in it (JSON bodies pretty-printed)"
    )
    shown.add_argument(
        "queue", help="the queue or its dead-letter queue, e.g. crm-reminders (see `dlq list`)"
    )
    shown.add_argument("--limit", type=int, default=10, metavar="N", help="at most N messages (default: 10)")
    shown.set_defaults(run=_dlq)
    moved = dead.add_parser(
        "redrive",
        help="send a dead-letter queue's messages back to their queue; for crm-outbox, read the "
        "dead-lettered stream batches again and publish their events; for crm-partner-deliveries, send "
        "the events to their partner buses again",
    )
    moved.add_argument(
        "queue", help="the queue or its dead-letter queue, e.g. crm-reminders (see `dlq list`)"
    )
    moved.set_defaults(run=_dlq)

    migrate = commands.add_parser(
        "migrate",
        help="migrate the stored items written before a change of their shape (a parallel Scan of the "
        "whole table; running it twice changes nothing the second time); prints what it scanned, rewrote "
        "and deleted, by kind",
    )
    from crm_core.migrations.command import add_arguments

    add_arguments(migrate)
    migrate.set_defaults(run=_migrate)

    _add_reports_commands(commands)

    _add_openapi_command(commands)
    return parser


def _unreachable(error: BaseException | None) -> Any:
    """The ``EndpointConnectionError`` behind ``error``, if one is (pynamodb wraps botocore's errors and
    keeps them as ``cause``)."""
    from botocore.exceptions import EndpointConnectionError

    while error is not None and not isinstance(error, EndpointConnectionError):
        error = getattr(error, "cause", None) or error.__cause__ or error.__context__
    return error


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError
    from crm_core.errors import ProblemError

    try:
        code: int = args.run(args)
    except Refused as refused:
        message = str(refused)
    except ProblemError as problem:  # the service's answer, as the API would give it
        message = problem.detail
    except BotoCoreError as error:  # no region, no credentials: the environment, not a bug
        message = f"AWS as the environment configures it: {error}"
    except urllib.error.HTTPError as error:
        message = f"the CRM API answered {error.code} {error.reason} to {error.url}"
    except urllib.error.URLError as error:
        message = f"the CRM API did not answer ({error.reason}); is `crm dev` still running?"
    except Exception as error:
        unreachable = _unreachable(error)
        if unreachable is None:
            raise
        message = (
            f"no `crm dev` is answering at {unreachable.kwargs.get('endpoint_url')} (AWS_ENDPOINT_URL); "
            f"start one with `{crm_command()} dev`"
        )
    else:
        return code
    print(f"crm: {message}", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
