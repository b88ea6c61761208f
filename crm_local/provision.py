"""Creates the deployable resources on the local endpoint, from the same definitions the CDK app reads."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from crm_core.auth import Role
from crm_core.config import LOCAL_ACCOUNT_ID
from crm_core.definitions import (
    ANALYTICS,
    BUCKETS,
    CURSOR_SECRET_NAME,
    EVENT_BUS_NAME,
    OUTBOX_DEAD_LETTER_QUEUE,
    PARTNER_DELIVERIES_QUEUE,
    QUEUES,
    REMINDERS_QUEUE,
    RULES,
    SCHEDULE_GROUP_NAME,
    SES_CONFIGURATION_SET_NAME,
    TABLE,
    TABLE_LOGICAL_NAME,
    TENANT_ACCESS,
    USER_POOL,
    WEBHOOK_EVENTS_QUEUE,
)


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    table_stream_arn: str
    event_bus_name: str
    event_bus_arn: str
    cursor_secret_arn: str
    user_pool_id: str
    user_pool_client_id: str
    queue_urls: dict[str, str]  # queue name -> URL (dead-letter queues included)
    schedule_group: str
    reminders_queue_arn: str
    scheduler_role_arn: str
    partner_bus_role_arn: str
    partner_deliveries_dlq_arn: str
    webhook_events_queue_arn: str  # what a tenant's webhook rule targets (services/event_target_rules.py)
    webhook_events_dlq_arn: str
    tenant_role_arn: str  # what request handlers assume for their caller's tenant (crm_core.tenant_access)


def table_request(table_name: str) -> dict[str, Any]:
    """CreateTable parameters for the single table, from ``definitions.TABLE``."""
    attributes = {TABLE.partition_key, TABLE.sort_key}
    indexes = []
    for index in TABLE.indexes:
        attributes |= {index.partition_key, index.sort_key}
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
        )
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
        ],
        "GlobalSecondaryIndexes": indexes,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": TABLE.stream_view},
    }


def provision(session: Any) -> LocalResources:
    dynamodb = session.client("dynamodb")
    table = dynamodb.create_table(**table_request(TABLE_LOGICAL_NAME))["TableDescription"]
    dynamodb.update_time_to_live(
        TableName=TABLE_LOGICAL_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
    )
    events = session.client("events")
    bus_arn = events.create_event_bus(Name=EVENT_BUS_NAME)["EventBusArn"]
    secret_arn = session.client("secretsmanager").create_secret(
        Name=CURSOR_SECRET_NAME, SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    pool_id, client_id = _user_pool(session)
    queue_urls, queue_arns = _queues(session)
    _rules(session, queue_arns)
    _buckets(session, queue_arns)
    session.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP_NAME)
    # Campaign emails go through this configuration set (its events reach SNS in AWS: infra/).
    session.client("sesv2").create_configuration_set(ConfigurationSetName=SES_CONFIGURATION_SET_NAME)
    role_arn = _service_role(session, "crm-scheduler", "scheduler.amazonaws.com")
    partner_role_arn = _service_role(session, "crm-partner-buses", "events.amazonaws.com")
    tenant_role_arn = _tenant_access_role(session)
    return LocalResources(
        table_name=TABLE_LOGICAL_NAME,
        table_stream_arn=table["LatestStreamArn"],
        event_bus_name=EVENT_BUS_NAME,
        event_bus_arn=bus_arn,
        cursor_secret_arn=secret_arn,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        queue_urls=queue_urls,
        schedule_group=SCHEDULE_GROUP_NAME,
        reminders_queue_arn=queue_arns[REMINDERS_QUEUE.name],
        scheduler_role_arn=role_arn,
        partner_bus_role_arn=partner_role_arn,
        partner_deliveries_dlq_arn=queue_arns[PARTNER_DELIVERIES_QUEUE.dead_letter_name],
        webhook_events_queue_arn=queue_arns[WEBHOOK_EVENTS_QUEUE.name],
        webhook_events_dlq_arn=queue_arns[WEBHOOK_EVENTS_QUEUE.dead_letter_name],
        tenant_role_arn=tenant_role_arn,
    )


def _service_role(session: Any, name: str, service: str) -> str:
    """A role the service may assume (the local endpoint enforces no policy; AWS gets them from CDK)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    arn: str = session.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    return arn


def _tenant_access_role(session: Any) -> str:
    """The tenant access role (``definitions.TENANT_ACCESS``), assumed by this process as the API functions
    assume it in AWS: the local endpoint hands out credentials it accepts, and evaluates no policy (the
    policies are tested on their own: tests/unit/test_tenant_policy.py)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    arn: str = session.client("iam").create_role(
        RoleName=TENANT_ACCESS.role_name,
        AssumeRolePolicyDocument=json.dumps(trust),
        MaxSessionDuration=TENANT_ACCESS.session_seconds,
    )["Role"]["Arn"]
    return arn


def _queues(session: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Each queue of ``definitions.QUEUES`` with its dead-letter queue and redrive policy."""
    sqs = session.client("sqs")
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}

    def create(name: str, attributes: dict[str, str]) -> None:
        urls[name] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arns[name] = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    for queue in QUEUES:
        create(queue.dead_letter_name, {"MessageRetentionPeriod": str(14 * 24 * 3600)})
        redrive = {
            "deadLetterTargetArn": arns[queue.dead_letter_name],
            "maxReceiveCount": str(queue.max_receives),
        }
        create(
            queue.name,
            {"VisibilityTimeout": str(queue.visibility_timeout_s), "RedrivePolicy": json.dumps(redrive)},
        )
    # The outbox Pipe's dead-letter queue (in AWS); the local relay retries from the stream instead, but the
    # queue exists so that `crm dlq` sees the same queues everywhere.
    create(OUTBOX_DEAD_LETTER_QUEUE.dead_letter_name, {"MessageRetentionPeriod": str(14 * 24 * 3600)})
    create(PARTNER_DELIVERIES_QUEUE.dead_letter_name, {"MessageRetentionPeriod": str(14 * 24 * 3600)})
    return urls, arns


def _rules(session: Any, queue_arns: dict[str, str]) -> None:
    events = session.client("events")
    for rule in RULES:
        events.put_rule(
            Name=rule.name, EventBusName=EVENT_BUS_NAME, EventPattern=json.dumps(rule.event_pattern)
        )
        events.put_targets(
            Rule=rule.name,
            EventBusName=EVENT_BUS_NAME,
            Targets=[{"Id": "queue", "Arn": queue_arns[rule.queue.name]}],
        )


def _buckets(session: Any, queue_arns: dict[str, str]) -> None:
    """Each bucket of ``definitions.BUCKETS``, announcing what is put under its prefix on its queue."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket=ANALYTICS.bucket)  # the exporter's Parquet files (crm_core.reports)
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket.name)
        if bucket.browser_methods:
            # As CDK's bucket: the web app (served by `crm dev` on another port) PUTs to presigned URLs.
            s3.put_bucket_cors(
                Bucket=bucket.name,
                CORSConfiguration={
                    "CORSRules": [
                        {
                            "AllowedMethods": list(bucket.browser_methods),
                            "AllowedOrigins": ["*"],
                            "AllowedHeaders": ["*"],
                            "MaxAgeSeconds": 3600,
                        }
                    ]
                },
            )
        s3.put_bucket_notification_configuration(
            Bucket=bucket.name,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": queue_arns[bucket.notify_queue.name],
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": bucket.notify_prefix}]}
                        },
                    }
                ]
            },
        )


def _user_pool(session: Any) -> tuple[str, str]:
    """The user pool of ``definitions.USER_POOL`` with the roles as groups. Its client also allows the
    admin password flow, so tests and scripts can sign a user in without a browser (the deployed web
    client allows SRP only)."""
    cognito = session.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName="crm-users",
        UsernameAttributes=["email"],
        Schema=[
            {
                "Name": name,
                "AttributeDataType": "String",
                "Mutable": False,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            }
            for name in USER_POOL.custom_attributes
        ],
    )["UserPool"]["Id"]
    for precedence, role in enumerate(Role):
        cognito.create_group(UserPoolId=pool_id, GroupName=role.value, Precedence=precedence)
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="crm-web",
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id
