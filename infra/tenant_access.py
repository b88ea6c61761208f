"""The tenant access role (docs/decisions/0035): what the API functions assume for their
caller's tenant (crm_core.tenant_access), so that their requests reach the table and the buckets with
credentials that can touch that tenant's items and files only.

- Trusted by the API functions' roles alone, for ``sts:AssumeRole`` and ``sts:TagSession`` (the session is
  tagged with the tenant).
- Its own policy (``crm_core.tenant_access.role_policy``) is the most a session may do: the table's item
  actions (no Scan) on partition keys ``T#<the session's tenant tag>`` and ``T#<tag>#...`` on the table
  and its indexes, and the tenant's folders of the imports and analytics buckets. Each session narrows it
  again with the session policy made for its tenant.
- The functions that assume it (every API function) keep no table access of their own: every call of a
  request is made inside the tenant's scope (crm_core.http.app; for the public functions — tracking
  links, survey and quote pages, no credential — the tenant their verified token names, crm_core.http.public).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct
from crm_core.definitions import ANALYTICS, TENANT_ACCESS
from crm_core.tenant_access import role_policy

from infra.nag import acknowledge, nag_reference, table_index_finding

ENVIRONMENT_VARIABLE = "CRM_TENANT_ROLE_ARN"


class CrmTenantAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.Function],
        table: dynamodb.Table,
        imports_bucket: s3.IBucket,
        analytics_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        assumers = [functions[name] for name in TENANT_ACCESS.functions]
        roles = [function.role for function in assumers if function.role is not None]
        assert len(roles) == len(assumers), "every function that assumes the role has a role of its own"

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ArnPrincipal(roles[0].role_arn).with_session_tags(),
            description="CRM tenant access: a request's DynamoDB and S3 calls, held to its tenant",
            max_session_duration=Duration.seconds(TENANT_ACCESS.session_seconds),
        )
        trust = self.role.assume_role_policy
        assert trust is not None
        trust.add_statements(
            iam.PolicyStatement(
                actions=["sts:AssumeRole", "sts:TagSession"],
                principals=[iam.ArnPrincipal(role.role_arn) for role in roles[1:]],
            )
        )
        document = role_policy(table.table_arn, imports_bucket.bucket_arn, analytics_bucket.bucket_arn)
        self.policy = iam.Policy(
            self, "Policy", document=iam.PolicyDocument.from_json(document), roles=[self.role]
        )
        for finding, reason in (
            (
                table_index_finding(table, self.role),
                "Queries use the table's indexes; each call is held to partition keys starting with the "
                "session's tenant (dynamodb:LeadingKeys on its tenant tag).",
            ),
            *(
                (
                    f"AwsSolutions-IAM5[Resource::{nag_reference(bucket, 'Arn', self.role)}/{prefix}"
                    f"<aws:PrincipalTag/{TENANT_ACCESS.tag}>/*]",  # (cdk-nag writes the variable so)
                    "A tenant's files: the folder named by the session's tenant tag, file keys made at "
                    "run time.",
                )
                for bucket, prefixes in (
                    (imports_bucket, TENANT_ACCESS.imports_prefixes),
                    (analytics_bucket, (f"{ANALYTICS.prefix}tenant=",)),
                )
                for prefix in prefixes
            ),
        ):
            acknowledge(self, finding, reason)

        for function in assumers:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["sts:AssumeRole", "sts:TagSession"], resources=[self.role.role_arn]
                )
            )
            function.add_environment(ENVIRONMENT_VARIABLE, self.role.role_arn)
