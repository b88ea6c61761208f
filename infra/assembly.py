"""The synthesized cloud assembly, read back: every template's size and counts against CloudFormation's
limits, and the stack with its nested stacks gathered into one template (docs/decisions/0024).

``.venv/bin/python -m infra.assembly [OUTDIR]`` prints each template's bytes, resources, outputs and
parameters (``make synth`` synthesizes, then runs it; OUTDIR: ``$CDK_OUTDIR`` or ``cdk.out``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent  # not infra.bundling's: this module needs no CDK

# CloudFormation's quotas per template (a nested stack's included), and what the CRM keeps under them so
# the features being added still fit: a test fails past the budget, long before a deployment would.
LIMITS = {"bytes": 1_000_000, "resources": 500, "outputs": 200, "parameters": 200}
BUDGET = {"bytes": 800_000, "resources": 400, "outputs": 200, "parameters": 200}
NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class TemplateSize:
    name: str
    bytes: int
    resources: int
    outputs: int
    parameters: int

    def over(self, budget: dict[str, int]) -> list[str]:
        """What is not under ``budget``: ``["resources 412 >= 400"]``."""
        return [
            f"{k} {getattr(self, k)} >= {limit}" for k, limit in budget.items() if getattr(self, k) >= limit
        ]

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.bytes:,} bytes, {self.resources} resources, {self.outputs} outputs, "
            f"{self.parameters} parameters"
        )


def template_files(outdir: Path) -> list[Path]:
    """Every template of the assembly: the stacks' and the nested stacks' (``*.nested.template.json``)."""
    return sorted(outdir.glob("*.template.json"))


def sizes(outdir: Path) -> list[TemplateSize]:
    result = []
    for path in template_files(outdir):
        template = json.loads(path.read_text())
        result.append(
            TemplateSize(
                name=path.name,
                bytes=path.stat().st_size,
                resources=len(template.get("Resources", {})),
                outputs=len(template.get("Outputs", {})),
                parameters=len(template.get("Parameters", {})),
            )
        )
    return result


def _nested_templates(outdir: Path, stack_name: str) -> dict[str, str]:
    """A nested stack's template file by the object key its ``TemplateURL`` ends with (the assets manifest
    maps one to the other)."""
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    return {
        f"{asset_hash}.json": asset["source"]["path"]
        for asset_hash, asset in manifest["files"].items()
        if asset["source"].get("path", "").endswith(".nested.template.json")
    }


def _substitute(value: Any, refs: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> Any:
    """``value`` with ``{"Ref": parameter}`` replaced by what the parameter is given, and
    ``{"Fn::GetAtt": [nested stack, "Outputs.X"]}`` by that output's value."""
    if isinstance(value, list):
        return [_substitute(v, refs, outputs) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in refs:
        return refs[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        target, attribute = value["Fn::GetAtt"]
        if target in outputs and attribute.startswith("Outputs."):
            return outputs[target][attribute.removeprefix("Outputs.")]
    return {k: _substitute(v, refs, outputs) for k, v in value.items()}


def gathered_template(outdir: Path, stack_name: str) -> dict[str, Any]:
    """The stack's template with its nested stacks' resources in it, as if it were one template: each
    nested stack's parameters replaced by what the parent gives them, each output the parent reads by its
    value, the ``AWS::CloudFormation::Stack`` resources left out. Logical ids stay as they are (a nested
    construct's id is the one it had in the parent); one used twice is an error."""
    nested_files = _nested_templates(outdir, stack_name)

    def gather(file_name: str, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        template = json.loads((outdir / file_name).read_text())
        resources: dict[str, Any] = {}
        outputs: dict[str, dict[str, Any]] = {}
        pending = dict(template.get("Resources", {}))
        # A nested stack may be given another one's output: gather them in the order they can be resolved.
        while pending:
            progressed = False
            for logical_id, resource in list(pending.items()):
                if resource["Type"] != NESTED_STACK:
                    continue
                parameters = resource.get("Properties", {}).get("Parameters", {})
                resolved = _substitute(_substitute(parameters, given, {}), {}, outputs)
                if any(pending.get(t, {}).get("Type") == NESTED_STACK for t in _targets(resolved)):
                    continue
                url = json.dumps(resource["Properties"]["TemplateURL"])
                (key,) = [k for k in nested_files if k in url]
                nested_resources, nested_outputs = gather(nested_files[key], resolved)
                for nested_id, nested_resource in nested_resources.items():
                    if nested_id in resources or nested_id in template["Resources"]:
                        raise ValueError(f"logical id {nested_id} is in more than one template")
                    resources[nested_id] = nested_resource
                outputs[logical_id] = nested_outputs
                del pending[logical_id]
                progressed = True
            if not progressed:
                break
        for logical_id, resource in pending.items():
            if resource["Type"] == NESTED_STACK:
                raise ValueError(
                    f"nested stack {logical_id} is given outputs of a nested stack that cannot be gathered"
                )
            resources[logical_id] = _substitute(_substitute(resource, given, {}), {}, outputs)
        own_outputs = {
            name: _substitute(_substitute(output["Value"], given, {}), {}, outputs)
            for name, output in template.get("Outputs", {}).items()
        }
        return resources, own_outputs

    parent = json.loads((outdir / f"{stack_name}.template.json").read_text())
    resources, _ = gather(f"{stack_name}.template.json", {})
    return {**parent, "Resources": resources}


def _targets(value: Any) -> set[str]:
    """The logical ids ``value`` refers to (``Ref``, ``Fn::GetAtt``)."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= _targets(v)
    elif isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        elif set(value) == {"Fn::GetAtt"}:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= _targets(v)
    return found


def dependency_cycle(template: dict[str, Any]) -> list[str]:
    """A cycle among the template's resources (by ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and ``DependsOn``),
    or ``[]``: CloudFormation refuses such a template, and CDK does not look across nested stacks' wiring."""
    resources = template.get("Resources", {})
    edges: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        targets = _targets(resource) | set([depends] if isinstance(depends, str) else depends)
        text = json.dumps(resource.get("Properties", {}))
        targets |= {other for other in resources if "${" + other in text}
        edges[logical_id] = {t for t in targets if t in resources and t != logical_id}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                cycle = visit(nxt, [*path, nxt])
                if cycle:
                    return cycle
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node, [node])
            if cycle:
                return cycle
    return []


def main() -> None:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CDK_OUTDIR") or REPO_ROOT / "cdk.out")
    for size in sizes(outdir):
        over = size.over(BUDGET)
        print(f"{size}{'  OVER BUDGET: ' + ', '.join(over) if over else ''}")


if __name__ == "__main__":
    main()
