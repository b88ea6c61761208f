"""Printing the results (with rich when it is installed, plain columns otherwise) and the JSON file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SHORT = {
    "GetItem": "Get",
    "BatchGetItem": "BatchGet",
    "Query": "Query",
    "Scan": "Scan",
    "TransactGetItems": "TxGet",
    "PutItem": "Put",
    "UpdateItem": "Update",
    "DeleteItem": "Delete",
    "BatchWriteItem": "BatchWrite",
    "TransactWriteItems": "TxWrite",
}
ORDER = list(SHORT)


def format_calls(calls: Mapping[str, int]) -> str:
    if not calls:
        return "none"
    ordered = sorted(calls, key=lambda op: (ORDER.index(op) if op in ORDER else len(ORDER), op))
    return " + ".join(f"{calls[op]} {SHORT.get(op, op)}" for op in ordered)


def _units(value: float) -> str:
    return f"{value:g}"


def _wcu(measured: Mapping[str, Any]) -> str:
    return f"{_units(measured['wcu_table'])}+{_units(measured['wcu_index'])}"


class Printer:
    """Tables and lines, through rich when available."""

    def __init__(self) -> None:
        try:
            from rich.console import Console
        except ImportError:  # pragma: no cover - rich is in the dev environment
            self.console: Any = None
        else:
            probe = Console()
            self.console = probe if probe.is_terminal else Console(width=200)

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.console is None:
            print(text)
        else:
            self.console.print(text, style=style, highlight=False)

    def table(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        right: Sequence[int] = (),
        no_wrap: bool = False,
        styles: Sequence[str | None] | None = None,
        caption: str | None = None,
    ) -> None:
        if self.console is None:
            widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
            print(f"\n{title}")
            for row in [headers, ["-" * w for w in widths], *rows]:
                cells = [
                    str(c).rjust(w) if i in right else str(c).ljust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=False))
                ]
                print("  ".join(cells).rstrip())
            if caption:
                print(caption)
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
        for index, header in enumerate(headers):
            table.add_column(header, justify="right" if index in right else "left", no_wrap=no_wrap)
        for index, row in enumerate(rows):
            table.add_row(*row, style=(styles[index] if styles else None))
        self.console.print(table)


def endpoint_rows(
    endpoints: list[dict[str, Any]], small: str, large: str
) -> tuple[list[list[str]], list[str | None]]:
    rows: list[list[str]] = []
    styles: list[str | None] = []
    for entry in endpoints:
        a, b = entry.get(small), entry.get(large)
        if a is None or b is None:
            rows.append([entry["label"], "—", "—", "—", "—", "—", "NOT MEASURED"])
            styles.append("yellow")
            continue
        flag = "same" if entry["same_calls"] else "DIFFERS"
        if a["other_aws_calls"] or b["other_aws_calls"]:
            others = sorted(set(a["other_aws_calls"]) | set(b["other_aws_calls"]))
            flag += " +" + ",".join(others)
        rows.append(
            [
                entry["label"],
                format_calls(a["dynamodb_calls"]),
                format_calls(b["dynamodb_calls"]),
                f"{a['dynamodb_calls_total']} / {b['dynamodb_calls_total']}",
                f"{_units(a['rcu'])} / {_units(b['rcu'])}",
                f"{_wcu(a)} / {_wcu(b)}",
                flag,
            ]
        )
        styles.append(None if entry["same_calls"] and flag == "same" else "bold red")
    return rows, styles


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
