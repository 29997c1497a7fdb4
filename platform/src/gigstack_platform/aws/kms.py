"""The platform's customer-managed KMS key (EKS secrets, stores, logs, ECR, S3, Secrets Manager)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def platform_key(name: str, account_id: pulumi.Input[str], region: str, tags: dict[str, str]) -> aws.kms.Key:
    def policy(account: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        # CloudWatch Logs encrypts the EKS control-plane log group with this key.
                        "Sid": "CloudWatchLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                    },
                ],
            }
        )

    return aws.kms.Key(
        name,
        description="gigstack platform data key",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=pulumi.Output.from_input(account_id).apply(policy),
        tags=tags,
    )
