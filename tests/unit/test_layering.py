"""The code's layering holds and no import goes in a circle: functions -> http -> services -> repositories
-> models, each importing only its own layer and those below it (ARCHITECTURE.md: handlers thin, services
hold the rules, repositories hold DynamoDB), and the shared core never names a function.

Read from the source with ``ast`` (every import, also those inside functions: a function-level import is
how a cycle hides), except what only type checkers read (``if TYPE_CHECKING:``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"crm_core": ROOT / "layers" / "crm_core", "functions": ROOT / "functions"}

# The layers, lowest first. A module not named here is in its package's layer; the core's own top-level
# modules are the base every layer may use (errors, ids, config, auth, ...), except those named.
LAYERS = ("base", "models", "repositories", "services", "http", "functions")
SERVICE_LEVEL = {
    "crm_core.outbox",
    "crm_core.rate_limits",
    "crm_core.concurrency",
    "crm_core.consumers",
    "crm_core.plans",
}
# The operator's migrations are an entry point, as a request's handler is: one may work through the services.
ENTRY_LEVEL = "crm_core.migrations"


def layer_of(module: str) -> str:
    if module.startswith("functions"):
        return "functions"
    if module in SERVICE_LEVEL:
        return "services"
    if module == ENTRY_LEVEL or module.startswith(f"{ENTRY_LEVEL}."):
        return "http"
    part = module.split(".")[1] if module.count(".") else ""
    return part if part in LAYERS else "base"


def module_name(path: Path, package: str, root: Path) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            found[module_name(path, package, root)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The project modules ``module`` imports (a package's ``from x import y`` of a submodule counts as
    importing the submodule)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skipped |= {id(child) for child in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative
                base = ".".join([*module.split(".")[: -node.level], node.module])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known and name != module}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {module: imports_of(path, module, set(found)) for module, path in found.items()}


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    """A package importing its own submodules (its __init__ re-exporting them) is not a cycle."""

    def edges(module: str) -> set[str]:
        return {other for other in graph[module] if not module.startswith(other + ".")}

    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for other in sorted(edges(module)):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_every_import_goes_down_the_layers(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{module} ({layer_of(module)}) imports {other} ({layer_of(other)})"
        for module, imported in sorted(graph.items())
        for other in sorted(imported)
        if LAYERS.index(layer_of(other)) > LAYERS.index(layer_of(module))
    ]
    assert upward == [], "\n".join(upward)


def test_the_core_never_names_a_function() -> None:
    """Not by import, and not by a dotted name in a string either (the registry and the definitions
    derive function modules from names)."""
    named = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in PACKAGES["crm_core"].rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "functions." in line and not line.lstrip().startswith("#")
    ]
    assert named == [], named
