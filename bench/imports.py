"""Cold-start import cost of the Lambda handlers, as a ratio to a bare ``import boto3``.

Each sample is a fresh interpreter (as a new Lambda container is) that times the one import statement;
the modules take turns, so a busy moment of the machine falls on all of them alike. The first round
only warms the byte-code caches and the disk and is not counted. ``-X importtime`` shows where the
handler's time goes.
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
GOAL_RATIO = 1.5
_TIMED = "import time; _t = time.perf_counter(); import {module}; print(time.perf_counter() - _t)"


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
    process_samples: list[float] = field(default_factory=list)  # seconds, the whole interpreter

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def process_median(self) -> float:
        return statistics.median(self.process_samples)


@dataclass
class ImportCost:
    module: str
    depth: int
    self_ms: float
    cumulative_ms: float


def _time_once(module: str, env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1]), wall


def time_imports(modules: list[str], runs: int) -> dict[str, ImportTiming]:
    env = lambda_env()
    timings = {m: ImportTiming(m) for m in modules}
    for round_number in range(runs + 1):
        for module in modules:
            seconds, wall = _time_once(module, env)
            if round_number:  # round 0 warms the caches
                timings[module].samples.append(seconds)
                timings[module].process_samples.append(wall)
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


def measure(runs: int = 7, profile_top: int = 10) -> dict[str, Any]:
    modules = [BASELINE, *HANDLERS.values()]
    timings = time_imports(modules, runs)
    baseline = timings[BASELINE]
    handlers = {}
    for name, module in HANDLERS.items():
        timing = timings[module]
        ratio = timing.median / baseline.median
        handlers[name] = {
            "module": module,
            "median_ms": round(timing.median * 1000, 1),
            "samples_ms": [round(s * 1000, 1) for s in timing.samples],
            "process_median_ms": round(timing.process_median * 1000, 1),
            "ratio_to_boto3": round(ratio, 3),
            "process_ratio_to_boto3": round(timing.process_median / baseline.process_median, 3),
            "goal": GOAL_RATIO,
            "met": ratio <= GOAL_RATIO,
        }
    slowest = max(handlers, key=lambda name: handlers[name]["median_ms"])
    profile = import_profile(HANDLERS[slowest])
    return {
        "runs": runs,
        "method": "median of fresh interpreters timing the import statement (first round discarded)",
        "baseline": {
            "module": BASELINE,
            "median_ms": round(baseline.median * 1000, 1),
            "samples_ms": [round(s * 1000, 1) for s in baseline.samples],
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
