"""Cold-start import cost of the Lambda handlers, as a ratio to a bare ``import boto3``.

Each sample is a fresh interpreter (as a new Lambda container is) that times the one import statement
(wall clock, the goal's measure, and the process's CPU time, which a busy machine disturbs less);
the modules take turns, so a busy moment of the machine falls on all of them alike. The first round
only warms the byte-code caches and the disk and is not counted. ``-X importtime`` shows where the
handler's time goes.

An API function includes a router on the first request to its path (crm_core.http.app.ApiResolver), so
each API function's sample then also times what its first request adds before any AWS call: the router
of its first path, the validation model of that path's GET route and Powertools' validation middleware
(made by the first route that runs, not by the import). Import plus that is the cold start as a caller
waits for it, less the DynamoDB calls; it shows that the import's gain was not simply moved into the
first request.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_core.definitions import API_FUNCTIONS, AUTHORIZER

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "boto3"
# Every function API Gateway invokes on a request: the API functions and the authorizer.
HANDLERS = {
    definition.name: definition.handler.rpartition(".")[0] for definition in (*API_FUNCTIONS, AUTHORIZER)
}
# The path of an API function's first route ("ANY /v1/contacts"): the first request the bench makes.
FIRST_PATHS = {
    definition.handler.rpartition(".")[0]: definition.routes[0].split(" ", 1)[1]
    for definition in API_FUNCTIONS
}
GOAL_RATIO = 1.5
_TIMED = (
    "import time\n"
    "_w, _c = time.perf_counter(), time.process_time()\n"
    "import {module} as _module\n"
    "print(time.perf_counter() - _w, time.process_time() - _c)\n"
)
_FIRST_REQUEST = (
    "_w = time.perf_counter()\n"
    "_module.app.include_routers_for({path!r})\n"
    "for _route in _module.app._static_routes + _module.app._dynamic_routes:\n"
    "    if _route.method == 'GET' and _route.rule.match({path!r}):\n"
    "        _route.dependant, _route.body_field\n"
    "import aws_lambda_powertools.event_handler.middlewares.openapi_validation\n"
    "print(time.perf_counter() - _w)\n"
)


def lambda_env() -> dict[str, str]:
    """What a deployed function's environment holds that an import can read, and nothing of ours."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(
        {
            "CRM_TABLE_NAME": "crm",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "crm",
            "PYTHONHASHSEED": "0",
        }
    )
    return env


@dataclass
class ImportTiming:
    module: str
    samples: list[float] = field(default_factory=list)  # seconds, the import statement alone
    cpu_samples: list[float] = field(default_factory=list)  # seconds of CPU, the import statement alone
    first_request_samples: list[float] = field(default_factory=list)  # seconds, after the import
    process_samples: list[float] = field(default_factory=list)  # seconds, the whole interpreter

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_samples)

    @property
    def first_request_median(self) -> float | None:
        return statistics.median(self.first_request_samples) if self.first_request_samples else None

    @property
    def cold_samples(self) -> list[float]:
        """Import and first request, per sample."""
        if not self.first_request_samples:
            return self.samples
        return [a + b for a, b in zip(self.samples, self.first_request_samples, strict=True)]

    @property
    def cold_median(self) -> float:
        return statistics.median(self.cold_samples)

    @property
    def process_median(self) -> float:
        return statistics.median(self.process_samples)


@dataclass
class ImportCost:
    module: str
    depth: int
    self_ms: float
    cumulative_ms: float


def _time_once(module: str, env: dict[str, str]) -> tuple[list[float], float]:
    """The import's wall and CPU seconds (and the first request's, for an API function), and the whole
    interpreter's wall seconds."""
    code = _TIMED.format(module=module)
    if module in FIRST_PATHS:
        code += _FIRST_REQUEST.format(path=FIRST_PATHS[module])
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr}")
    return [float(word) for word in result.stdout.split()], wall


def time_imports(modules: list[str], runs: int) -> dict[str, ImportTiming]:
    env = lambda_env()
    timings = {m: ImportTiming(m) for m in modules}
    for round_number in range(runs + 1):
        for module in modules:
            seconds, wall = _time_once(module, env)
            if round_number:  # round 0 warms the caches
                timing = timings[module]
                timing.samples.append(seconds[0])
                timing.cpu_samples.append(seconds[1])
                timing.first_request_samples.extend(seconds[2:])
                timing.process_samples.append(wall)
    return timings


def import_profile(module: str, runs: int = 3) -> list[ImportCost]:
    """Every module ``import module`` loads, with its self and cumulative time (median of ``runs``)."""
    samples: dict[str, list[tuple[int, int, int]]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            cwd=ROOT,
            env=lambda_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "[us]" in line:
                continue
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
            depth = (len(name) - len(name.lstrip(" "))) // 2
            samples.setdefault(name.strip(), []).append((depth, int(self_us), int(cumulative_us)))
    costs = []
    for name, values in samples.items():
        costs.append(
            ImportCost(
                module=name,
                depth=min(v[0] for v in values),
                self_ms=statistics.median(v[1] for v in values) / 1000,
                cumulative_ms=statistics.median(v[2] for v in values) / 1000,
            )
        )
    return sorted(costs, key=lambda c: c.cumulative_ms, reverse=True)


def by_package(profile: list[ImportCost]) -> list[dict[str, Any]]:
    """Self time summed over each top-level package: which dependency the import time is spent in."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for cost in profile:
        root = cost.module.split(".", 1)[0]
        totals[root] = totals.get(root, 0.0) + cost.self_ms
        counts[root] = counts.get(root, 0) + 1
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [{"package": name, "self_ms": round(ms, 1), "modules": counts[name]} for name, ms in ranked]


def paired_ratio(samples: list[float], baseline: list[float]) -> float:
    """The median of each round's ratio to the baseline's sample of the same round: a machine whose load
    changes from one round to the next (others' tests on shared cores) moves both alike."""
    return statistics.median(a / b for a, b in zip(samples, baseline, strict=True))


def measure(runs: int = 11, profile_top: int = 10) -> dict[str, Any]:
    modules = [BASELINE, *HANDLERS.values()]
    timings = time_imports(modules, runs)
    baseline = timings[BASELINE]
    handlers = {}
    for name, module in HANDLERS.items():
        timing = timings[module]
        ratio = paired_ratio(timing.samples, baseline.samples)
        first_request = timing.first_request_median
        handlers[name] = {
            "module": module,
            "median_ms": round(timing.median * 1000, 1),
            "samples_ms": [round(s * 1000, 1) for s in timing.samples],
            "process_median_ms": round(timing.process_median * 1000, 1),
            "ratio_to_boto3": round(ratio, 3),
            "cpu_median_ms": round(timing.cpu_median * 1000, 1),
            "cpu_ratio_to_boto3": round(paired_ratio(timing.cpu_samples, baseline.cpu_samples), 3),
            "first_request_path": FIRST_PATHS.get(module),
            "first_request_median_ms": round(first_request * 1000, 1) if first_request is not None else None,
            "cold_median_ms": round(timing.cold_median * 1000, 1),
            "cold_ratio_to_boto3": round(paired_ratio(timing.cold_samples, baseline.samples), 3),
            "process_ratio_to_boto3": round(timing.process_median / baseline.process_median, 3),
            "goal": GOAL_RATIO,
            "met": ratio <= GOAL_RATIO,
        }
    slowest = max(HANDLERS, key=lambda name: timings[HANDLERS[name]].median)
    profile = import_profile(HANDLERS[slowest])
    return {
        "runs": runs,
        "method": "fresh interpreters timing the import statement, modules taking turns (first round "
        "discarded); ratios are the median of each round's ratio to that round's import boto3",
        "baseline": {
            "module": BASELINE,
            "median_ms": round(baseline.median * 1000, 1),
            "samples_ms": [round(s * 1000, 1) for s in baseline.samples],
            "cpu_median_ms": round(baseline.cpu_median * 1000, 1),
            "process_median_ms": round(baseline.process_median * 1000, 1),
        },
        "handlers": handlers,
        "profiled": slowest,
        "profiled_module": HANDLERS[slowest],
        "top_cumulative": [
            {
                "module": c.module,
                "depth": c.depth,
                "self_ms": round(c.self_ms, 1),
                "cumulative_ms": round(c.cumulative_ms, 1),
            }
            for c in profile[:profile_top]
        ],
        "by_package": by_package(profile)[:profile_top],
        "imports_boto3": any(c.module == "boto3" for c in profile),
        "module_count": len(profile),
    }
