"""``python -m crm_core.migrations 0008 --table NAME --region R [--dry-run]``: a migration against a table
in AWS, with the credentials of the environment (docs/operations.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from crm_core.migrations.command import add_arguments, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_core.migrations",
        description="Migrate the items of a deployed CRM table (a parallel Scan of the whole table).",
    )
    add_arguments(parser)
    parser.add_argument("--table", required=True, help="the table's name (the stack's output TableName)")
    parser.add_argument("--region", default=None, help="its region (default: the environment's)")
    parser.add_argument(
        "--endpoint-url", default=None, help="another DynamoDB endpoint (default: AWS_ENDPOINT_URL, else AWS)"
    )
    args = parser.parse_args(argv)
    # A migration working through the services (0011) reaches the table as they do, by the environment.
    os.environ["CRM_TABLE_NAME"] = args.table
    if args.region:
        os.environ["AWS_REGION"] = args.region
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    import boto3
    from botocore.config import Config

    # Adaptive retries back off on throttling, which a whole-table scan with writes may meet.
    config = Config(retries={"mode": "adaptive", "max_attempts": 10})
    client: Any = boto3.client(
        "dynamodb", region_name=args.region, endpoint_url=args.endpoint_url, config=config
    )
    return run_command(args, client, args.table)


if __name__ == "__main__":
    sys.exit(main())
