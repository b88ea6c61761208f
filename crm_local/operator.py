"""``crm tenant create|list|show|plan|suspend|resume|delete|billing`` (API.md section 6): the operator's
commands, running services/tenant_lifecycle.py (and services/billing.py) as the control plane does, against
the running ``crm dev`` of this folder (or AWS as the environment configures it)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crm_core.plans import OVERRIDES, PLAN_NAMES

QUOTA_OPTIONS = {quota: f"--{quota.replace('_', '-')}" for quota in OVERRIDES}


def add_tenant_commands(commands: Any, run: Any) -> None:
    """The ``tenant`` command and its subcommands; ``run(handler)`` wraps each handler (attaching to
    ``crm dev`` first)."""
    tenant = commands.add_parser(
        "tenant", help="the operator's commands: create, list, show, plan, suspend, resume and delete tenants"
    ).add_subparsers(dest="tenant_command", required=True, metavar="COMMAND")

    create = tenant.add_parser("create", help="create a tenant with an admin API key; prints them as JSON")
    create.add_argument("--name", required=True, help="the tenant's name, e.g. 'Acme Ltd'")
    create.add_argument(
        "--admin-email",
        default=None,
        metavar="EMAIL",
        help="the first admin's email (default: a placeholder address; the API key is printed either way)",
    )
    create.add_argument(
        "--plan", default="free", choices=PLAN_NAMES, help="the tenant's plan and its quotas (default: free)"
    )
    _quota_options(create)
    create.set_defaults(run=run(_create))

    listed = tenant.add_parser(
        "list", help="every tenant, one a line: id, name, plan, status (tab-separated); oldest first"
    )
    listed.add_argument(
        "--limit", type=int, default=1000, metavar="N", help="print at most N tenants (default: 1000)"
    )
    listed.add_argument("--json", action="store_true", help="one JSON object a line instead of columns")
    listed.set_defaults(run=run(_list))

    shown = tenant.add_parser(
        "show", help="one tenant as a JSON object: plan, status, quotas and what it uses of them"
    )
    shown.add_argument("tenant_id", metavar="ID", help="the tenant's id (see `crm tenant list`)")
    shown.set_defaults(run=run(_show))

    plan = tenant.add_parser(
        "plan",
        help="put a tenant on a plan (free, team, business, or custom), its quotas the plan's unless given",
    )
    plan.add_argument("tenant_id", metavar="ID", help="the tenant's id (see `crm tenant list`)")
    plan.add_argument("plan", metavar="NAME", choices=PLAN_NAMES, help=f"one of {', '.join(PLAN_NAMES)}")
    _quota_options(plan)
    plan.set_defaults(run=run(_plan))

    for name, what in (
        ("suspend", "refuse every credential of the tenant (403) until it is resumed; nothing is deleted"),
        ("resume", "let a suspended tenant's credentials work again"),
    ):
        one = tenant.add_parser(name, help=what)
        one.add_argument("tenant_id", metavar="ID", help="the tenant's id (see `crm tenant list`)")
        one.set_defaults(run=run(_suspend if name == "suspend" else _resume))

    delete = tenant.add_parser(
        "delete",
        help="delete every item, file, schedule and rule of the tenant, then check that nothing is left "
        "(asks for confirmation; running it again finishes a deletion cut short)",
    )
    delete.add_argument("tenant_id", metavar="ID", help="the tenant's id (see `crm tenant list`)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(run=run(_delete))

    billing = tenant.add_parser(
        "billing",
        help="the monthly billing export: every tenant's usage of the month written to S3 (CSV and JSON "
        "Lines) and printed as a table",
    )
    billing.add_argument(
        "--month",
        default=None,
        metavar="YYYY-MM",
        help="the calendar month (UTC; default: this month so far)",
    )
    billing.add_argument(
        "--json", action="store_true", help="print the rows as JSON Lines instead of a table"
    )
    billing.set_defaults(run=run(_billing))


def _quota_options(parser: argparse.ArgumentParser) -> None:
    for quota, option in QUOTA_OPTIONS.items():
        parser.add_argument(
            option,
            dest=quota,
            type=int,
            default=None,
            metavar="N",
            help=f"{quota.replace('_', ' ')} (default: the plan's)",
        )


def _overrides(args: argparse.Namespace) -> dict[str, int | None]:
    return {quota: getattr(args, quota) for quota in OVERRIDES if getattr(args, quota) is not None}


def _print(value: Any) -> None:
    print(json.dumps(value))


def _create(args: argparse.Namespace) -> int:
    from crm_core.services import tenant_lifecycle

    _print(tenant_lifecycle.create(args.name, args.admin_email, args.plan, _overrides(args)))
    return 0


def _list(args: argparse.Namespace) -> int:
    """One tenant a line, oldest first, a page (one bounded Query) at a time."""
    from crm_core.services import tenant_lifecycle

    after, left = None, args.limit
    while left > 0:
        page, after = tenant_lifecycle.list_page(min(left, 100), after)
        for tenant in page:
            if args.json:
                _print(tenant)
            else:
                print("\t".join((tenant["tenant_id"], tenant["name"], tenant["plan"], tenant["status"])))
        left -= len(page)
        if after is None:
            break
    return 0


def _show(args: argparse.Namespace) -> int:
    from crm_core.services import tenant_lifecycle

    _print(tenant_lifecycle.show(args.tenant_id))
    return 0


def _plan(args: argparse.Namespace) -> int:
    from crm_core.services import tenant_lifecycle

    _print(tenant_lifecycle.set_plan(args.tenant_id, args.plan, _overrides(args)))
    return 0


def _suspend(args: argparse.Namespace) -> int:
    from crm_core.services import tenant_lifecycle

    _print(tenant_lifecycle.suspend(args.tenant_id))
    return 0


def _resume(args: argparse.Namespace) -> int:
    from crm_core.services import tenant_lifecycle

    _print(tenant_lifecycle.resume(args.tenant_id))
    return 0


def _delete(args: argparse.Namespace) -> int:
    """Asks first (unless --yes); the job's steps run here (services/tenant_deletion.py) with a progress
    display per kind (rich) on stderr; the job and its check as JSON; exit 1 when the check found something
    left."""
    from crm_core.services import tenant_deletion
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not args.yes:
        if not sys.stdin.isatty():
            print("crm: delete asks for confirmation: give --yes to delete without asking", file=sys.stderr)
            return 1
        answer = input(f"Delete tenant {args.tenant_id} and everything of it, for good? Type its id: ")
        if answer.strip() != args.tenant_id:
            print("Nothing deleted.", file=sys.stderr)
            return 1
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}
        counts: dict[str, int] = {}

        def on_progress(phase: str, done: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=None)
            counts[phase] = counts.get(phase, 0) + done
            progress.update(tasks[phase], description=f"{phase}: {counts[phase]:,}", advance=done)

        job = tenant_deletion.run(args.tenant_id, on_progress)
    shown = tenant_deletion.shown(job)
    left = shown["left"] or {}
    console.print(
        f"Check: {'nothing left' if shown['complete'] else 'LEFT ' + json.dumps(left)} "
        f"(removed {', '.join(f'{n:,} {k}' for k, n in shown['removed'].items())}; {shown['steps']} steps)"
    )
    _print(shown)
    return 0 if shown["complete"] else 1


def _billing(args: argparse.Namespace) -> int:
    """The daily schedule's export for one month (services/billing.py), then its rows and where they went."""
    from crm_core.services import billing
    from rich.console import Console
    from rich.table import Table

    done = billing.export(billing.parse_month(args.month))
    where = f"s3://{done.as_dict()['bucket']}/{done.key} (and {done.json_key.rsplit('/', 1)[-1]})"
    if args.json:
        sys.stdout.write(billing.to_json_lines(done.rows).decode())
        print(where, file=sys.stderr)
        return 0
    table = Table(title=f"Billing {done.month}: {len(done.rows)} tenants", caption=where)
    for column in billing.COLUMNS[1:]:
        table.add_column(column, justify="right" if column in billing.MEASURES else "left")
    for row in done.rows:
        table.add_row(*(f"{row[c]:,}" if c in billing.MEASURES else str(row[c]) for c in billing.COLUMNS[1:]))
    Console(width=200).print(table)
    return 0
