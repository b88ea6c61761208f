"""Lambda code assets, built without Docker.

Every asset is a directory staged under ``build/`` (never committed) and handed to CDK with
``Code.from_asset``:

- ``build/deps/<lock hash>/python``: the third-party runtime dependencies from ``layers/requirements.lock``,
  installed by uv as manylinux wheels for the Lambda runtime (python3.13, arm64). Keyed by the hash of the
  lock file and the target platform, so a second synth reuses it and never reaches PyPI.
- ``build/assets/layer-<hash>/python``: those dependencies (hard-linked from the cache when the file system
  allows it) plus ``crm_core``: the ``CrmCoreLayer``.
- ``build/assets/function-<name>-<hash>``: ``functions/__init__.py`` and ``functions/<name>/`` at the root,
  so the handler ``functions.<name>.handler.handler`` imports as it does in the repository.

Every asset ships bytecode compiled by a Python of the Lambda runtime's version (``.cpython-313.pyc``,
unchecked-hash, as nothing can change a deployed file): the deployment is read-only, so without it every
cold start would compile every module it imports from source. Where no such interpreter is on the
machine, the assets are built without bytecode and a warning says so.

Staged directories are named by the hash of what goes in them and written to a temporary directory that
is renamed into place, so concurrent synths (pytest-xdist) never see half a directory. Function and
layer code is only copied here, never imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent

# The Lambda runtime the layer's binary wheels are built for; keep in step with infra/functions.py.
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_PLATFORM = "aarch64-manylinux2014"
# A function's own packages (``packages_dir``) may need a newer glibc than the layer's: pyarrow's wheels are
# manylinux_2_28, which the Python 3.13 runtime (Amazon Linux 2023, glibc 2.34) runs.
PACKAGES_PLATFORM = "aarch64-manylinux_2_28"
# What of a function's own packages no function imports, left out of its code (Lambda allows 250 MB of
# code and layers, unzipped): pyarrow's C++ headers, Cython sources, tests and Flight (checked:
# pyarrow.parquet imports without them; libarrow needs Substrait's library, which stays).
PACKAGE_TRIM: dict[str, tuple[str, ...]] = {
    "pyarrow": (
        "include",
        "includes",
        "tests",
        "*.pyx",
        "*.pxd",
        "*.pxi",
        "*flight*",
        "_pyarrow_cpp_tests*",
    ),
}

_EXCLUDED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_COMPLETE_MARKER = ".complete"


class BundlingError(RuntimeError):
    """A Lambda asset cannot be built from the working tree."""


@dataclass(frozen=True)
class SourceLayout:
    """Where the sources of the assets live; the repository itself unless a test says otherwise."""

    root: Path = REPO_ROOT

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def lock_file(self) -> Path:
        return self.root / "layers" / "requirements.lock"

    @property
    def core_package(self) -> Path:
        return self.root / "layers" / "crm_core"

    @property
    def functions_dir(self) -> Path:
        return self.root / "functions"


def _iter_files(directory: Path, *, bytecode: bool = False) -> Iterator[Path]:
    """Every file under ``directory`` that belongs in an asset, in a stable order (with ``bytecode``, the
    compiled files of an already staged tree too)."""
    excluded_dirs = _EXCLUDED_DIRS - {"__pycache__"} if bytecode else _EXCLUDED_DIRS
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in excluded_dirs)
        for name in sorted(files):
            if bytecode or not name.endswith(_EXCLUDED_SUFFIXES):
                yield Path(current) / name


def _hash_tree(digest: hashlib._Hash, directory: Path, label: str) -> None:
    for path in _iter_files(directory):
        digest.update(f"{label}/{path.relative_to(directory).as_posix()}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")


def _copy_tree(source: Path, target: Path, *, link: bool = False, bytecode: bool = False) -> None:
    """Copy the asset files of ``source`` into ``target`` (hard links when ``link`` and possible)."""
    for path in _iter_files(source, bytecode=bytecode):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if link:
            try:
                os.link(path, destination)
                continue
            except OSError:
                pass  # another file system or no hard links: copy instead
        shutil.copy2(path, destination)


def _publish(staging: Path, final: Path) -> None:
    """Move a fully built directory into place; if another process won the race, keep theirs."""
    (staging / _COMPLETE_MARKER).touch()
    try:
        staging.rename(final)
    except OSError:
        if not (final / _COMPLETE_MARKER).exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)


def _prune(parent: Path, prefix: str, keep: Path) -> None:
    """Remove earlier builds of the same asset (best effort; staging directories are left alone)."""
    pattern = re.compile(re.escape(prefix) + r"[0-9a-f]{16}")
    for old in parent.iterdir():
        if old != keep and old.is_dir() and pattern.fullmatch(old.name):
            shutil.rmtree(old, ignore_errors=True)


def _uv() -> list[str]:
    beside_python = Path(sys.executable).parent / "uv"
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]


def lambda_python() -> str | None:
    """An interpreter of the Lambda runtime's Python version on this machine, to compile bytecode with."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{LAMBDA_PYTHON_VERSION}") or ""]
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{LAMBDA_PYTHON_VERSION}*/bin/python3"))
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == LAMBDA_PYTHON_VERSION:
            return candidate
    return None


def _compile_bytecode(directory: Path) -> None:
    python = lambda_python()
    if python is None:
        print(
            f"warning: no Python {LAMBDA_PYTHON_VERSION} found; {directory.name} ships without bytecode, so "
            "its cold starts compile every module",
            file=sys.stderr,
        )
        return
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        str(directory),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundlingError(
            f"compiling bytecode failed ({' '.join(command)}):\n{result.stdout}{result.stderr}"
        )


def _staging_dir(parent: Path, name: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}.", suffix=".tmp", dir=parent))


def _install(parent: Path, key: str, requirements: list[str], platform: str = LAMBDA_PLATFORM) -> Path:
    """``requirements`` installed once (keyed by ``key``) for the Lambda runtime, as ``<key>/python``."""
    final = parent / key
    if (final / _COMPLETE_MARKER).exists():
        return final / "python"

    staging = _staging_dir(parent, key)
    command = [
        *_uv(),
        "pip",
        "install",
        "--quiet",
        "--no-deps",  # the lock file is complete; install exactly what it pins
        "--target",
        str(staging / "python"),
        "--python-platform",
        platform,
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary",
        ":all:",
        "--no-compile",
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(
            f"installing the layer's dependencies failed ({' '.join(command)}):\n{result.stderr.strip()}"
        )
    # Console scripts are of no use in a layer (and carry the build machine's interpreter path); uv
    # leaves its own lock file in the target.
    shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
    (staging / "python" / ".lock").unlink(missing_ok=True)
    _trim(staging / "python")
    _compile_bytecode(staging / "python")
    _publish(staging, final)
    return final / "python"


def _trim(directory: Path) -> None:
    for package, patterns in PACKAGE_TRIM.items():
        for pattern in patterns:
            for path in (directory / package).glob(pattern):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()


def dependencies_dir(layout: SourceLayout) -> Path:
    """The third-party runtime dependencies for the Lambda runtime, installed once per lock file."""
    lock = layout.lock_file
    if not lock.is_file():
        raise BundlingError(
            f"{lock} is missing. Create it with: .venv/bin/uv pip compile pyproject.toml "
            f"--python-platform {LAMBDA_PLATFORM} --python-version {LAMBDA_PYTHON_VERSION} -o {lock}"
        )
    digest = hashlib.sha256(f"{LAMBDA_PLATFORM}|{LAMBDA_PYTHON_VERSION}|".encode())
    digest.update(lock.read_bytes())
    key = digest.hexdigest()[:16]
    parent = layout.build_dir / "deps"
    final = _install(parent, key, ["-r", str(lock)])
    _prune(parent, "", final.parent)
    return final


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not line.startswith((" ", "#")):
            pins[re.sub(r"\[.*\]", "", name).lower()] = version.split()[0]
    return pins


def packages_dir(layout: SourceLayout, packages: Iterable[str]) -> Path | None:
    """Packages one function adds to the layer's (``FunctionDefinition.packages``: pyarrow for the
    analytics exporter), at the versions the development lock (``requirements.lock``, every extra) pins,
    installed once; None when it adds none."""
    wanted = sorted(packages)
    if not wanted:
        return None
    pins = _pins(layout.root / "requirements.lock")
    missing = [p for p in wanted if p.lower() not in pins]
    if missing:
        raise BundlingError(
            f"{', '.join(missing)} not pinned in requirements.lock: add it to an extra, make lock"
        )
    requirements = [f"{p}=={pins[p.lower()]}" for p in wanted]
    digest = hashlib.sha256(f"{PACKAGES_PLATFORM}|{LAMBDA_PYTHON_VERSION}|{' '.join(requirements)}".encode())
    digest.update(repr(PACKAGE_TRIM).encode())
    return _install(layout.build_dir / "packages", digest.hexdigest()[:16], requirements, PACKAGES_PLATFORM)


def stage_layer(layout: SourceLayout) -> Path:
    """``python/`` with the dependencies and ``crm_core``, as a Lambda layer expects."""
    core = layout.core_package
    if not (core / "__init__.py").is_file():
        raise BundlingError(f"the shared package is missing: {core}/__init__.py does not exist")
    deps = dependencies_dir(layout)

    digest = hashlib.sha256(deps.parent.name.encode())
    _hash_tree(digest, core, "crm_core")
    key = digest.hexdigest()[:16]
    parent = layout.build_dir / "assets"
    final = parent / f"layer-{key}"
    if not (final / _COMPLETE_MARKER).exists():
        staging = _staging_dir(parent, f"layer-{key}")
        _copy_tree(deps, staging / "python", link=True, bytecode=True)
        _copy_tree(core, staging / "python" / "crm_core")
        _compile_bytecode(staging / "python" / "crm_core")
        _publish(staging, final)
        _prune(parent, "layer-", final)
    return final


def function_package(handler: str) -> tuple[str, ...]:
    """``functions.contacts.handler.handler`` -> ``("functions", "contacts")``: the package to ship."""
    parts = handler.split(".")
    if len(parts) != 4 or parts[0] != "functions" or parts[2] != "handler":
        raise BundlingError(
            f"handler {handler!r} is not of the form functions.<name>.handler.<function> "
            "(each function folder's entry point is handler.py)"
        )
    return tuple(parts[:-2])


def stage_function(layout: SourceLayout, name: str, handler: str, packages: Iterable[str] = ()) -> Path:
    """A directory holding ``functions/__init__.py`` and the function's own package, at its root (and the
    third-party ``packages`` it alone needs beside them)."""
    package = function_package(handler)
    source = layout.root.joinpath(*package)
    module = source / "handler.py"
    init = layout.functions_dir / "__init__.py"
    for required in (init, module):
        if not required.is_file():
            raise BundlingError(
                f"function {name!r}: {required.relative_to(layout.root)} does not exist "
                f"(its handler is {handler!r}); add the function's code or remove it from "
                "crm_core.definitions"
            )

    extra = packages_dir(layout, packages)
    digest = hashlib.sha256(init.read_bytes())
    digest.update(str(extra).encode())
    _hash_tree(digest, source, "/".join(package))
    key = digest.hexdigest()[:16]
    parent = layout.build_dir / "assets"
    final = parent / f"function-{name}-{key}"
    if not (final / _COMPLETE_MARKER).exists():
        staging = _staging_dir(parent, f"function-{name}-{key}")
        (staging / "functions").mkdir()
        shutil.copy2(init, staging / "functions" / "__init__.py")
        _copy_tree(source, staging.joinpath(*package))
        _compile_bytecode(staging / "functions")
        if extra is not None:
            _copy_tree(extra, staging, link=True, bytecode=True)
        _publish(staging, final)
        _prune(parent, f"function-{name}-", final)
    return final


def asset_code(directory: Path, exclude: Iterable[str] = (_COMPLETE_MARKER,)) -> lambda_.Code:
    """A staged directory as Lambda code (the build marker left out)."""
    return lambda_.Code.from_asset(str(directory), exclude=list(exclude))
