"""CSV imports' files: the bucket admins upload to (through presigned URLs), whose uploads are announced on
the splitter's queue, read and written by the functions ``definitions.IMPORTS_BUCKET`` names."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct
from crm_core.definitions import EXPORTS_PREFIX, IMPORT_CHUNKS_QUEUE, IMPORTS_BUCKET, TENANT_EXPORTS_QUEUE

from infra.data import CrmData, bucket_encryption
from infra.functions import CrmFunctions
from infra.messaging import CrmMessaging
from infra.nag import acknowledge, nag_reference


class CrmImports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: CrmFunctions,
        messaging: CrmMessaging,
        data: CrmData,
    ) -> None:
        super().__init__(scope, construct_id)
        definition = IMPORTS_BUCKET
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            **bucket_encryption(data.data_key),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # Uploads, their chunks and rejected rows are working files: kept a few days, then deleted.
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(definition.expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # The web app uploads with the presigned URL from the browser; the URL is the credential.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods(method) for method in definition.browser_methods],
                    allowed_origins=["*"],
                    allowed_headers=["*"],
                    max_age=3600,
                )
            ]
            if definition.browser_methods
            else None,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Working files deleted within days; who created each import is in the table and its audit trail.",
        )
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(messaging.queues[definition.notify_queue.name]),
            s3.NotificationKeyFilter(prefix=definition.notify_prefix),
        )
        # Objects are read and put by key, and one import's rejected rows listed under its prefix: no
        # deletes (the lifecycle rule deletes), no bucket settings.
        objects = self.bucket.arn_for_objects("*")
        bucket = self.bucket
        for name in definition.used_by:
            function = functions.functions[name]
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[objects])
            )
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
            )
            function.add_environment(definition.environment_variable, self.bucket.bucket_name)
            assert function.role is not None
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::{nag_reference(bucket, 'Arn', function.role)}/*]",
                "Imports' files are keyed by tenant and import, made at run time; the function reaches "
                "them only by keys it builds from the import it works on.",
            )
        # The S3 notification's handler (one function per stack, made by CDK): it runs at deployment only,
        # putting the bucket's notification configuration.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "CDK's bucket notifications handler logs with the AWS managed basic execution policy.",
                )
        # The splitter queues the chunks of a file to the chunk workers' queue.
        messaging.queues[IMPORT_CHUNKS_QUEUE.name].grant_send_messages(functions.functions["import_files"])
        # Tenant exports: the API queues an export to its worker, whose zip is one multipart upload under
        # exports/, dropped (AbortMultipartUpload) when a run fails; a long export's runs hand over the
        # bytes not sent yet in an object of their own, deleted by the next run (DeleteObject), and the next
        # run checks the upload is still open (ListParts).
        messaging.queues[TENANT_EXPORTS_QUEUE.name].grant_send_messages(functions.functions["reports"])
        exporter = functions.functions["tenant_exports"]
        exporter.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts"],
                resources=[self.bucket.arn_for_objects(f"{EXPORTS_PREFIX}*")],
            )
        )
        # The erasure's scrub deletes the tenant's export zips made before it (and aborts an export's open
        # upload): by keys it builds from the tenant's exports, under exports/ only.
        scrub = functions.functions["erasure_scrub"]
        scrub.add_environment(definition.environment_variable, self.bucket.bucket_name)
        scrub.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:DeleteObject"],
                resources=[self.bucket.arn_for_objects(f"{EXPORTS_PREFIX}*")],
            )
        )
        assert scrub.role is not None
        acknowledge(
            scrub.role,
            f"AwsSolutions-IAM5[Resource::{nag_reference(bucket, 'Arn', scrub.role)}/{EXPORTS_PREFIX}*]",
            "An erased person's tenant's export zips are keyed by tenant and export, made at run time; the "
            "scrub deletes only the zips of that tenant's exports it read.",
        )
        assert exporter.role is not None
        acknowledge(
            exporter.role,
            f"AwsSolutions-IAM5[Resource::{nag_reference(bucket, 'Arn', exporter.role)}/{EXPORTS_PREFIX}*]",
            "An export's zip is keyed by tenant and export, made at run time; the worker aborts only the "
            "upload of the export it works on, and deletes only that export's run tails.",
        )
