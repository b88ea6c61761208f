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
from infra.stages import STAGE_CONTEXT, StagePolicies, stage_named
from infra.waf import WEB_ACL_REGION, CrmWebAcl

STACK_NAME = "CrmStack"
EDGE_STACK_NAME = "CrmEdge"
# Where the CRM deploys (-c crm:region=eu-west-1): unset, the stack is environment-agnostic (it deploys to
# the credentials' region), and must then go to us-east-1, where CloudFront's web ACL is made beside it.
REGION_CONTEXT = "crm:region"
# An existing CloudFront web ACL (its ARN, from us-east-1) instead of the CRM's own.
WEB_ACL_CONTEXT = "crm:webAclArn"


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
    stage = stage_named(app.node.try_get_context(STAGE_CONTEXT))
    region = app.node.try_get_context(REGION_CONTEXT)
    web_acl_arn = app.node.try_get_context(WEB_ACL_CONTEXT)
    edge: cdk.Stack | None = None
    kwargs: dict[str, Any] = {}
    if region and str(region) != WEB_ACL_REGION and not web_acl_arn:
        # The web ACL in a stack of its own in us-east-1 (deployed first: `cdk deploy --all` orders them),
        # read by the CRM's stack through CDK's cross-region references (docs/decisions/0036).
        account = os.environ.get("CDK_DEFAULT_ACCOUNT")
        edge = cdk.Stack(
            app,
            EDGE_STACK_NAME,
            description="CRM edge: the CloudFront web ACL (us-east-1)",
            env=cdk.Environment(account=account, region=WEB_ACL_REGION),
            cross_region_references=True,
        )
        web_acl_arn = CrmWebAcl(edge, "WebAcl").acl.attr_arn
        kwargs = {
            "env": cdk.Environment(account=account, region=str(region)),
            "cross_region_references": True,
        }
    elif region:
        kwargs = {"env": cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=str(region))}
    # Without a region: environment-agnostic, deploying to the account and region of the credentials in use.
    stack = CrmStack(
        app,
        STACK_NAME,
        description=f"Serverless multi-tenant CRM ({stage.name})",
        layout=layout,
        web_acl_arn=web_acl_arn,
        **kwargs,
    )
    stack.edge = edge
    for each in (stack, edge):
        if each is not None:
            cdk.Tags.of(each).add("app", "crm")
            cdk.Tags.of(each).add("stage", stage.name)
    # Retention, deletion protection and log retention by stage, once every construct is made.
    cdk.Aspects.of(app).add(StagePolicies(stage), priority=cdk.AspectPriority.MUTATING)
    add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR") or str(REPO_ROOT / "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
