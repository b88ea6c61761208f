"""The migration command's arguments and run, shared by ``crm migrate`` (the running ``crm dev``) and
``python -m crm_core.migrations`` (a table in AWS)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crm_core.migrations import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SEGMENTS,
    MigrationStopped,
    StateMismatch,
    Summary,
    migrations,
    run,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    known = migrations()
    parser.add_argument(
        "migration",
        choices=sorted(known),
        help="the migration, named for its decision record: "
        + "; ".join(f"{name}: {m.description}" for name, m in sorted(known.items())),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="scan and count what would change; write nothing"
    )
    parser.add_argument(
        "--segments",
        type=_positive,
        default=DEFAULT_SEGMENTS,
        metavar="N",
        help=f"parallel Scan segments, one thread each (default: {DEFAULT_SEGMENTS})",
    )
    parser.add_argument(
        "--page-size",
        type=_positive,
        default=DEFAULT_PAGE_SIZE,
        metavar="N",
        help=f"items a Scan call reads; progress is kept after each page (default: {DEFAULT_PAGE_SIZE})",
    )
    parser.add_argument(
        "--tenant",
        default=None,
        metavar="ID",
        help="migrate only this tenant's items, e.g. one first as a canary (the scan still reads every item)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep each segment's last key in FILE after every page, so that --resume can continue",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="start each segment after the last key --state FILE holds (the same migration, --segments, "
        "--tenant and --dry-run)",
    )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def run_command(args: argparse.Namespace, client: Any, table: str) -> int:
    """Run the migration the arguments name, a progress bar on stderr; the summary on stdout."""
    if args.resume and args.state is None:
        print("--resume needs --state FILE", file=sys.stderr)
        return 2
    total = client.describe_table(TableName=table)["Table"].get("ItemCount")  # DynamoDB's estimate
    try:
        with _progress(f"migration {args.migration}", total) as advance:
            summary = run(
                client,
                table,
                migrations()[args.migration],
                dry_run=args.dry_run,
                segments=args.segments,
                page_size=args.page_size,
                state_file=args.state,
                resume=args.resume,
                tenant=args.tenant,
                progress=advance,
            )
    except StateMismatch as refused:
        print(str(refused), file=sys.stderr)
        return 2
    except MigrationStopped as stopped:
        _print(stopped.summary)
        again = "run it again with --resume" if args.state else "run it again (it changes nothing twice)"
        print(f"migration {args.migration} stopped: {stopped}; {again}", file=sys.stderr)
        return 1
    _print(summary)
    return 0


def _print(summary: Summary) -> None:
    for line in summary.lines():
        print(line)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar when rich is installed (the development environment); else none."""
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        yield lambda scanned: None
        return
    from rich.console import Console

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        # ItemCount is refreshed by DynamoDB about every six hours: a bar that overruns it is no error.
        task = bar.add_task(description, total=total or None)
        yield lambda scanned: bar.advance(task, scanned)
