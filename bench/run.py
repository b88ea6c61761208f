"""``python -m bench``: DynamoDB calls and capacity per request for a small and a large tenant, side by
side, and the handlers' import time as a ratio to ``import boto3``. Results also go to
``build/bench/latest.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from crm_core.rate_limits import SYNC_EVERY

from bench import cost, imports
from bench.endpoints import ENDPOINTS, PUBLIC, Dataset, Measured, load_dataset, run_scenarios
from bench.report import Printer, endpoint_rows, write_json

OUTPUT = imports.ROOT / "build" / "bench" / "latest.json"
SETUP = (
    "LocalRuntime in process (moto server, gateway, real handlers); each row is one HTTP request after "
    "a warm-up (functions loaded, cursor secret fetched); the outbox relay is "
    "stopped (it is on no request's path); moto's package lookup and base-table Query are made faster "
    "(crm_local.moto_speed, as in crm dev: same answers)."
)
CAPACITY_METHOD = (
    "computed from item sizes by DynamoDB's rules (reads 4 KB units, eventually consistent x0.5, a Query "
    "on the items it evaluated before its filter; writes 1 KB units of the larger of before/after, "
    "TransactWriteItems x2; GSI writes counted apart as '+GSI'). moto returns only fixed placeholders in "
    "ConsumedCapacity (0.5 or 1 per call whatever the size), kept in the JSON as "
    "moto_reported_capacity_units."
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--small", type=int, default=10, help="contacts of the small tenant (default 10)")
    parser.add_argument("--large", type=int, default=2000, help="contacts of the large tenant (default 2000)")
    parser.add_argument("--small-deals", type=int, default=10, help="deals of the small tenant (default 10)")
    parser.add_argument(
        "--large-deals", type=int, default=10_000, help="deals of the large tenant (default 10000)"
    )
    parser.add_argument(
        "--small-tickets", type=int, default=10, help="tickets of the small tenant (default 10)"
    )
    parser.add_argument(
        "--large-tickets", type=int, default=10_000, help="tickets of the large tenant (default 10000)"
    )
    parser.add_argument(
        "--import-runs", type=int, default=11, help="fresh interpreters per module (default 11)"
    )
    parser.add_argument(
        "--import-rows", type=int, default=2000, help="rows of the CSV import measured (default 2000)"
    )
    parser.add_argument("--skip-import-pipeline", action="store_true", help="do not measure a CSV import")
    parser.add_argument("--skip-campaigns", action="store_true", help="do not measure a campaign's send")
    parser.add_argument(
        "--campaign-contacts",
        type=int,
        default=1000,
        help="contacts of the campaign's segment (default 1000)",
    )
    parser.add_argument("--skip-imports", action="store_true", help="only count DynamoDB calls")
    parser.add_argument("--skip-calls", action="store_true", help="only time the imports")
    parser.add_argument("--output", default=str(OUTPUT), help=f"JSON results (default {OUTPUT})")
    parser.add_argument(
        "--save-cost-baseline",
        metavar="NOTE",
        help=f"keep this run's units per endpoint as {cost.BASELINE_FILE.name}, with a note",
    )
    return parser.parse_args(argv)


def _companies_for(contacts: int) -> int:
    return max(2, min(100, contacts // 100))


def measure_calls(
    small_contacts: int,
    large_contacts: int,
    printer: Printer,
    small_deals: int = 10,
    large_deals: int = 10_000,
    small_tickets: int = 10,
    large_tickets: int = 10_000,
) -> dict[str, Any]:
    """Start the local CRM in process, load two tenants, run every scenario against each."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from bench.api import new_tenant_api
    from bench.recorder import DynamoRecorder
    from crm_local.runtime import LocalRuntime

    runtime = LocalRuntime(port=0, state_file=None)
    instance = runtime.start()
    from bench import events

    event_figures = events.measure(runtime)  # stops the relay when done
    delay, relay = event_figures["commit_to_partner_queue_ms"], event_figures["relay"]
    printer.line(
        f"Events: commit to a partner's queue, median {delay['median']} ms (p90 {delay['p90']} ms, "
        f"{delay['samples']} events); the relay published {relay['events']} events in {relay['seconds']} s "
        f"({relay['events_per_second']} events/s)."
    )
    # The outbox relay is not on any request's path; on 2 cores it only takes the CPU from it.
    runtime.relay.stop()
    recorder = DynamoRecorder(instance.aws_endpoint, instance.region).install(runtime)
    datasets: dict[str, Dataset] = {}
    results: dict[str, dict[str, Measured]] = {}
    errors: list[str] = []
    try:
        for name, contacts, deals, tickets in (
            ("small", small_contacts, small_deals, small_tickets),
            ("large", large_contacts, large_deals, large_tickets),
        ):
            started = time.perf_counter()
            api = new_tenant_api(runtime.api_url, f"bench {name}")
            loaded = datasets[name] = load_dataset(
                name, api, contacts, _companies_for(contacts), deals, tickets=tickets
            )
            printer.line(
                f"loaded the {name} tenant: {contacts:,} contacts, {len(loaded.companies)} companies, "
                f"{deals:,} deals in {time.perf_counter() - started:.1f} s (the deals in "
                f"{loaded.deals_load_seconds:.1f} s, {loaded.deals_per_second:.0f} deals/s), "
                f"{tickets:,} tickets in {loaded.tickets_load_seconds:.1f} s",
                style="dim",
            )
        for name, dataset in datasets.items():
            started = time.perf_counter()
            try:
                results[name] = run_scenarios(recorder, dataset)
            except Exception as error:
                errors.append(f"{name}: {error}")
                traceback.print_exc()
            printer.line(f"measured the {name} tenant in {time.perf_counter() - started:.1f} s", style="dim")
    finally:
        recorder.uninstall()
        runtime.stop()

    endpoints = []
    for key, label in ENDPOINTS:
        entry: dict[str, Any] = {"key": key, "label": label}
        for name in datasets:
            measured = results.get(name, {}).get(key)
            entry[name] = measured.to_dict() if measured else None
        small, large = entry.get("small"), entry.get("large")
        entry["same_calls"] = bool(small and large and small["dynamodb_calls"] == large["dynamodb_calls"])
        endpoints.append(entry)
    return {
        "events": event_figures,
        "setup": SETUP,
        "capacity_method": CAPACITY_METHOD,
        "datasets": {
            name: {
                "contacts": d.contacts,
                "companies": len(d.companies),
                "deals": d.deals,
                "load_seconds": round(d.load_seconds, 1),
                "deals_load_seconds": round(d.deals_load_seconds, 1),
                "deals_per_second": round(d.deals_per_second, 1),
                "tickets": d.tickets,
                "tickets_load_seconds": round(d.tickets_load_seconds, 1),
                "tenant_id": d.api.tenant_id,
            }
            for name, d in datasets.items()
        },
        "endpoints": endpoints,
        "errors": errors,
    }


READ_EFFICIENCY_GOAL = 0.9


def _print_read_efficiency(printer: Printer, calls: dict[str, Any], large_text: str) -> None:
    """Per list: records a page returned for each item its Queries read (issue 9: >= 0.9 on common lists)."""
    rows, styles = [], []
    for entry in calls["endpoints"]:
        large = entry.get("large") or {}
        if large.get("items_returned") is None or not large.get("items_read"):
            continue
        efficiency = large["items_returned"] / large["items_read"]
        rows.append(
            [entry["label"], str(large["items_returned"]), str(large["items_read"]), f"{efficiency:.2f}"]
        )
        styles.append("" if efficiency >= READ_EFFICIENCY_GOAL else "yellow")
    if rows:
        printer.table(
            f"Read efficiency of lists ({large_text}): records returned / items read",
            ["List", "Returned", "Read", "Efficiency"],
            rows,
            right=(1, 2, 3),
            no_wrap=True,
            styles=styles,
            caption=f"Goal {READ_EFFICIENCY_GOAL} on common lists; a page reads limit + 1 to know whether "
            "the list goes on. Yellow: a filter no index serves (read in up to 4 bounded rounds).",
        )


def _print_batch_ratio(printer: Printer, calls: dict[str, Any]) -> None:
    by_key = {entry["key"]: entry for entry in calls["endpoints"] if "key" in entry}
    single, batch = by_key.get("contact.create"), by_key.get("contact.batch_create_100")
    if not single or not batch:
        return
    one, hundred = (single.get("large") or {}).get("seconds"), (batch.get("large") or {}).get("seconds")
    if one and hundred:
        printer.line(
            f"Batch of 100 contacts: {hundred:.2f} s against {one:.3f} s for one create: "
            f"{hundred / one:.1f}x one create's latency for 100x the records (10 inputs written at a time)."
        )


def _dollars(value: float) -> str:
    return f"${value:.3f}"


READ_UNITS_SPREAD = 1.2  # issue 11: a request's read units at the large size within 1.2x of the small's


def _read_units_per_record(measured: dict[str, Any]) -> float:
    """A request's read units, per record answered for a list (a page of 10 reads less than one of 25)."""
    returned = measured.get("items_returned")
    return float(measured["rcu"]) / max(int(returned), 1) if returned is not None else float(measured["rcu"])


def _print_read_units_spread(printer: Printer, calls: dict[str, Any]) -> None:
    """Every request reads about as much for a large tenant as for a small one (lists: per record)."""
    spread = []
    for entry in calls["endpoints"]:
        small, large = entry.get("small") or {}, entry.get("large") or {}
        if not small.get("rcu") or not large.get("rcu"):
            continue
        ratio = _read_units_per_record(large) / _read_units_per_record(small)
        if ratio > READ_UNITS_SPREAD:
            spread.append(f"{entry['label']} ({ratio:.2f}x)")
    if spread:
        printer.line(
            f"READ UNITS GROW with the tenant (more than {READ_UNITS_SPREAD}x; lists per record answered): "
            + ", ".join(spread),
            style="bold red",
        )
    else:
        printer.line(
            f"OK: every request's read units at the large size are within {READ_UNITS_SPREAD}x of the "
            "small's (lists per record answered).",
            style="bold green",
        )


def _print_cost(printer: Printer, calls: dict[str, Any], size: str = "large") -> None:
    """The price of a million calls in the documented mix, and each write's units, before and now."""
    model = cost.CostModel.load()
    now_units = {e["key"]: {**e[size], "label": e["label"]} for e in calls["endpoints"] if e.get(size)}
    now = cost.price_of_mix(model, now_units)
    baseline = cost.load_baseline()
    before_units = (baseline or {}).get("endpoints", {})
    # The baseline kept the DynamoDB units and events; its Lambda time is priced as measured now.
    durations = {key: cost.billed_ms(model, m) for key, m in now_units.items()}
    before = cost.price_of_mix(model, before_units, durations) if before_units else None
    prices = model.prices
    rows = [
        [component, _dollars(before.dollars[component]) if before else "—", _dollars(dollars)]
        for component, dollars in now.dollars.items()
    ]
    rows.append(["Total", _dollars(before.total) if before else "—", _dollars(now.total)])
    goal = model.goals["price_per_million_calls"]
    printer.table(
        f"Price of {cost.CALLS:,} calls in the mix of bench/{cost.MODEL_FILE.name} "
        f"({prices['region']} on-demand prices of {prices['as_of']}), measured on the {size} tenant",
        ["Component", "Before issue 11", "Now"],
        rows,
        right=(1, 2),
        styles=[None] * (len(rows) - 1) + ["bold green" if now.total < goal else "bold red"],
        caption=(
            f"Goal: under ${goal:.2f}. Mix: {', '.join(f'{k} {v:g}%' for k, v in model.mix.items())}. "
            f"{now.events / 1e3:,.0f}k events published per million calls. Measured: DynamoDB units and "
            "calls, events, the handlers' CPU time; assumed (the model file): a call's wait, batch fill, "
            f"log bytes, the share of events from tenants with a webhook target "
            f"({model.events['webhook_event_share']:.0%}). "
            + (
                f"Before: the DynamoDB units and events of {baseline['note']} (commit "
                f"{str(baseline['commit'])[:7]}), the rest priced as the stack is now."
                if baseline
                else ""
            )
        ),
    )
    if now.missing:
        printer.line(f"NOT PRICED (not measured): {', '.join(now.missing)}", style="bold red")
    by_item = cost.writes_by_item(model, now_units)
    printer.table(
        "What the writes keep: the mix's DynamoDB writes by the kind of item written, $ per million calls",
        ["Item", "Price", "What needs it"],
        [
            [
                kind,
                f"${dollars:.3f}",
                cost.WRITE_ITEM_PURPOSES.get(kind)
                or (cost.OTHER_ENTRY_PURPOSE if kind.startswith("entry:") else ""),
            ]
            for kind, dollars in by_item.items()
        ],
        right=(1,),
        caption=f"Total ${sum(by_item.values()):.3f}: the two DynamoDB writes lines of the price above.",
    )
    goals = model.goals["write_units"]
    rows, styles = [], []
    for key, measured in now_units.items():
        units = cost.write_units(measured)
        if not units:
            continue
        old = before_units.get(key)
        wanted = goals.get(key)
        rows.append(
            [
                measured["label"],
                f"{cost.write_units(old):g} ({old['wcu_table']:g}+{old['wcu_index']:g})" if old else "—",
                f"{units:g} ({measured['wcu_table']:g}+{measured['wcu_index']:g})",
                f"<= {wanted}" if wanted else "",
                ", ".join(f"{n} {t}" if n > 1 else t for t, n in (measured.get("events") or {}).items()),
            ]
        )
        styles.append(None if not wanted else "bold green" if units <= wanted else "bold red")
    printer.table(
        "Write units per write (table + indexes), before issue 11 and now",
        ["Endpoint", "Before", "Now", "Goal", "Events"],
        rows,
        right=(1, 2, 3),
        no_wrap=True,
        styles=styles,
    )
    printer.table(
        "Where a write's units go now (table + indexes, by the kind of item written)",
        ["Endpoint", "Units by item"],
        [
            [m["label"], ", ".join(f"{kind} {units:g}" for kind, units in m["write_units_by_item"].items())]
            for m in now_units.values()
            if cost.write_units(m) and m.get("write_units_by_item")
        ],
        caption="record: the record with its index entries; entry:<x>: a side item kept for <x> "
        "(search: a type-ahead token, dedupe: a duplicate key, tag, ...); event: the outbox; "
        "timeline_entry: an event's copy in a linked record's timeline.",
    )


def _print_calls(printer: Printer, calls: dict[str, Any]) -> None:
    sets = calls["datasets"]
    small_n, large_n = sets["small"]["contacts"], sets["large"]["contacts"]
    small_d, large_d = sets["small"]["deals"], sets["large"]["deals"]
    small_text = f"{small_n:,} contacts, {small_d:,} deals"
    large_text = f"{large_n:,} contacts, {large_d:,} deals"
    rows, styles = endpoint_rows(calls["endpoints"], "small", "large")
    printer.table(
        f"DynamoDB calls per request: a tenant with {small_text} / one with {large_text}",
        [
            "Endpoint",
            f"Calls, {small_text}",
            f"Calls, {large_text}",
            "Total",
            "RCU",
            "WCU table+GSI",
            "Calls vs size",
        ],
        rows,
        right=(3, 4, 5),
        no_wrap=True,
        styles=styles,
        caption=(
            "Get=GetItem BatchGet=BatchGetItem TxWrite=TransactWriteItems Put=PutItem Update=UpdateItem. "
            "The authorizer's calls (every request's, the same for each: below) and the one-time Secrets "
            "Manager fetch (warmed) excluded; any other AWS call a request made is named in the last column."
        ),
    )
    printer.line(f"Setup: {calls['setup']}")
    printer.line(f"Capacity: {calls['capacity_method']}")
    differing = [e["label"] for e in calls["endpoints"] if not e["same_calls"]]
    if differing:
        printer.line(
            f"FLAGGED: {len(differing)} endpoint(s) made different DynamoDB calls at {large_text} "
            f"than at {small_text}: {', '.join(differing)}",
            style="bold red",
        )
    else:
        printer.line(
            f"OK: every endpoint made the same DynamoDB calls at {large_text} as at {small_text}.",
            style="bold green",
        )
    for entry in calls["endpoints"]:
        small, large = entry.get("small") or {}, entry.get("large") or {}
        if large.get("items_returned") == 0 and large.get("next_cursor"):
            printer.line(
                f"EMPTY PAGE: {entry['label']} answered 0 records and a next_cursor at {large_text} "
                f"({small.get('items_returned')} at {small_text}): its filter applies after the page's "
                "limit, so the calls stay the same but a client pages on to find the matches.",
                style="yellow",
            )
    _print_read_efficiency(printer, calls, large_text)
    _print_read_units_spread(printer, calls)
    _print_cost(printer, calls)
    _print_batch_ratio(printer, calls)
    for name, text in (("small", small_text), ("large", large_text)):
        if sets[name]["deals"]:
            printer.line(
                f"Deal creation ({text}): {sets[name]['deals']:,} deals through POST /v1/deals/batch/create "
                f"(100 a request) in {sets[name]['deals_load_seconds']:.1f} s, "
                f"{sets[name]['deals_per_second']:.0f} deals/s locally."
            )
    syncs = sum(e[size].get("rate_limit_syncs", 0) for e in calls["endpoints"] for size in ("small", "large"))
    printer.line(
        f"Rate limiting: {syncs} UpdateItem syncs of the tenant's request count over "
        f"{2 * len(calls['endpoints'])} measured requests (one per {SYNC_EVERY} requests per container, "
        "not in the rows above)."
    )
    measured = [
        e[size]
        for e in calls["endpoints"]
        for size in ("small", "large")
        if e.get(size) and e["key"] not in PUBLIC  # the public pages have no authorizer
    ]
    per_request = sorted({(m.get("authorizer_calls", 0), m.get("authorizer_rcu", 0)) for m in measured})
    printer.line(
        "Authorizer (every request, no cache: decision 0009): DynamoDB calls and read units per request "
        f"{', '.join(f'{c} calls / {u:g} RU' for c, u in per_request)} over {len(measured)} measured "
        "requests at both sizes (not in the rows above); "
        + ("the same for every request" if len(per_request) == 1 else "FLAGGED: they differ")
        + f"; {sum(m.get('authorizer_writes', 0) for m in measured)} writes of a key's last use (at most one "
        "a minute per key).",
        style="bold green" if len(per_request) == 1 else "bold red",
    )
    for error in calls["errors"]:
        printer.line(f"ERROR {error}", style="bold red")


def _print_imports(printer: Printer, result: dict[str, Any]) -> None:
    base = result["baseline"]
    rows: list[list[str]] = []
    styles: list[str | None] = []
    baseline_row = [f"import {base['module']} (baseline)", f"{base['median_ms']:.0f}", "1.00x", "1.00x"]
    rows.append([*baseline_row, "", "", ""])
    styles.append(None)
    for handler in result["handlers"].values():
        verdict = "MET" if handler["met"] else "MISSED"
        first = handler["first_request_path"]
        rows.append(
            [
                f"import {handler['module']}",
                f"{handler['median_ms']:.0f}",
                f"{handler['ratio_to_boto3']:.2f}x",
                f"{handler['cpu_ratio_to_boto3']:.2f}x",
                f"{handler['cold_ratio_to_boto3']:.2f}x ({first})" if first else "",
                f"<= {handler['goal']:.1f}x",
                verdict,
            ]
        )
        styles.append("bold green" if handler["met"] else "bold red")
    printer.table(
        f"Cold import, {result['runs']} fresh interpreters each, ratios the median of each round's "
        "(CRM_TABLE_NAME=crm)",
        ["Import", "ms", "Ratio to boto3", "CPU ratio", "With 1st request", "Goal", "Result"],
        rows,
        right=(1, 2, 3, 4),
        styles=styles,
        caption=(
            "Ratio: wall clock of the import statement over that of import boto3 in the same round, median "
            "of the rounds (the goal's measure). CPU ratio: the same with CPU time, which a busy machine "
            "disturbs less. With 1st request: the import and what the first request to that path adds "
            "before its AWS calls (its router and its route's validation model), over import boto3."
        ),
    )
    profiled = result["profiled_module"]
    printer.table(
        f"{profiled} (the slowest): top 10 cumulative import costs (-X importtime, median of 3)",
        ["Module", "Depth", "Self ms", "Cumulative ms"],
        [
            [
                ("  " * c["depth"]) + c["module"],
                str(c["depth"]),
                f"{c['self_ms']:.1f}",
                f"{c['cumulative_ms']:.1f}",
            ]
            for c in result["top_cumulative"]
        ],
        right=(1, 2, 3),
    )
    printer.table(
        f"{profiled}: import time by top-level package (sum of self time)",
        ["Package", "Modules", "Self ms"],
        [[p["package"], str(p["modules"]), f"{p['self_ms']:.1f}"] for p in result["by_package"]],
        right=(1, 2),
        caption=(
            f"{result['module_count']} modules in all; boto3 "
            f"{'is' if result['imports_boto3'] else 'is not'} among them."
        ),
    )
    for name, handler in result["handlers"].items():
        verdict = "MET" if handler["met"] else "MISSED"
        printer.line(
            f"{name} handler import: {handler['ratio_to_boto3']:.2f}x import boto3 "
            f"({handler['median_ms']:.0f} ms vs {base['median_ms']:.0f} ms), goal <= {handler['goal']:.1f}x: "
            f"{verdict}",
            style="bold green" if handler["met"] else "bold red",
        )


def _print_import_pipeline(printer: Printer, result: dict[str, Any]) -> None:
    """A CSV import through the local pipeline beside raw BatchWriteItem of the same rows (issue 14)."""
    printer.table(
        f"CSV import of {result['rows']} contacts: POST to completed, beside raw BatchWriteItem of the rows",
        ["Path", "Seconds", "Rows/s", "DynamoDB calls per row"],
        [
            [
                "import pipeline",
                f"{result['pipeline_seconds']:.2f}",
                f"{result['pipeline_rows_per_second']:.1f}",
                f"{result['dynamodb_calls_per_row']:.2f}",
            ],
            [
                "raw BatchWriteItem (25 a call), one item a row",
                f"{result['raw_batch_write_seconds']:.2f}",
                f"{result['raw_batch_write_rows_per_second']:.1f}",
                "0.04",
            ],
            [
                f"raw BatchWriteItem, the import's {result['items_written_per_row']:.1f} items a row",
                f"{result['raw_same_items_seconds']:.2f}",
                f"{result['rows'] / max(result['raw_same_items_seconds'], 1e-9):.1f}",
                f"{result['items_written_per_row'] / 25:.2f}",
            ],
        ],
        right=(1, 2, 3),
        caption="Calls of the pipeline: "
        + ", ".join(f"{name} {count}" for name, count in result["dynamodb_calls"].items()),
    )
    verdict = "MET" if result["met"] else "MISSED"
    printer.line(
        f"import pipeline: {result['ratio_pipeline_to_raw']:.3f}x raw BatchWriteItem of a row's item, "
        f"goal >= {result['goal_ratio']:.1f}x: {verdict}; "
        f"{result['ratio_pipeline_to_raw_same_items']:.3f}x raw BatchWriteItem of the items it wrote; "
        f"at {result['items_written_per_row']:.1f} items a row the first ratio cannot pass "
        f"{result['ceiling_of_ratio_at_these_items']:.2f}x locally (the local endpoint's cost is by item)",
        style="bold green" if result["met"] else "bold red",
    )


def _print_campaigns(printer: Printer, result: dict[str, Any]) -> None:
    """A campaign sent to a segment through the local pipeline (issue 15): POST /send to status sent."""
    printer.table(
        f"Campaign to a segment of {result['recipients']} contacts (half consenting): POST /send to sent",
        [
            "Seconds",
            "Emails/s",
            "Recipients/s",
            "DynamoDB calls per recipient",
            "Items written per recipient",
        ],
        [
            [
                f"{result['seconds']:.2f}",
                f"{result['emails_per_second']:.1f}",
                f"{result['recipients_per_second']:.1f}",
                f"{result['dynamodb_calls_per_recipient']:.2f}",
                f"{result['items_written_per_recipient']:.2f}",
            ]
        ],
        right=(0, 1, 2, 3, 4),
        caption="Calls: " + ", ".join(f"{name} {count}" for name, count in result["dynamodb_calls"].items()),
    )


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=imports.ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.perf_counter()
    printer = Printer()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    # Imports first: the subprocesses then have the machine to themselves.
    if not args.skip_imports:
        results["imports"] = imports.measure(args.import_runs)
    if not args.skip_calls:
        results["calls"] = measure_calls(
            args.small,
            args.large,
            printer,
            args.small_deals,
            args.large_deals,
            args.small_tickets,
            args.large_tickets,
        )
        _print_calls(printer, results["calls"])
        if args.save_cost_baseline:
            baseline = cost.baseline_of(
                results["calls"]["endpoints"], "large", args.save_cost_baseline, results["commit"]
            )
            write_json(cost.BASELINE_FILE, baseline)
    if not args.skip_import_pipeline:
        from bench import import_pipeline

        results["import_pipeline"] = import_pipeline.measure(args.import_rows)
        _print_import_pipeline(printer, results["import_pipeline"])
    from bench import quotes

    results["quote_pdf"] = quotes.measure()
    for count, row in results["quote_pdf"]["lines"].items():
        printer.line(
            f"Quote PDF of {count} lines (fpdf2): median {row['median_ms']} ms, p90 {row['p90_ms']} ms, "
            f"{row['bytes']:,} bytes; import fpdf {results['quote_pdf']['import_fpdf_seconds']} s"
        )
    if not args.skip_campaigns:
        from bench import campaigns

        results["campaigns"] = campaigns.measure(args.campaign_contacts)
        _print_campaigns(printer, results["campaigns"])
    if "imports" in results:
        _print_imports(printer, results["imports"])
    results["duration_seconds"] = round(time.perf_counter() - started, 1)
    write_json(_output_path(args.output), results)
    printer.line(f"Bench run time: {results['duration_seconds']:.0f} s. Results: {args.output}")
    return 1 if results.get("calls", {}).get("errors") else 0


def _output_path(text: str) -> Any:
    from pathlib import Path

    return Path(text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
