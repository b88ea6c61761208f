"""The CDK app: ``cdk synth`` (through cdk.json), or ``.venv/bin/python -m infra.app`` from the repo root.

Run directly, it writes the cloud assembly to ``cdk.out/`` (or ``$CDK_OUTDIR``, which the CDK CLI sets).
The feature flags in cdk.json's ``context`` apply either way (the tests synthesize with them too).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from infra.bundling import REPO_ROOT, SourceLayout
from infra.nag import add_checks
from infra.stack import CrmStack

STACK_NAME = "CrmStack"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json (the CLI passes it itself; other callers get it from here)."""
    path = REPO_ROOT / "cdk.json"
    if not path.is_file():
        return {}
    context = json.loads(path.read_text()).get("context", {})
    assert isinstance(context, dict)
    return context


def build_app(
    *,
    outdir: str | None = None,
    layout: SourceLayout | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[cdk.App, CrmStack]:
    """The app with its one stack and the cdk-nag AWS Solutions checks; not yet synthesized. ``context``
    adds to (or replaces keys of) cdk.json's, as ``-c key=value`` does on the CLI."""
    # Context given here is overridden by whatever the CLI passes, so cdk.json stays the one source.
    app = cdk.App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    # Environment-agnostic: deploys to the account and region of the credentials in use.
    stack = CrmStack(app, STACK_NAME, description="Serverless multi-tenant CRM", layout=layout)
    cdk.Tags.of(stack).add("app", "crm")
    add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR") or str(REPO_ROOT / "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
