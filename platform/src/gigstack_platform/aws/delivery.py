"""Delivery: the GitHub OIDC provider and the role `.github/workflows/deliver.yaml` assumes to push images.

The workflow authenticates with GitHub's OIDC token (no long-lived keys); the role trusts only the configured
repository's branch and may push only to the `gigstack/*` ECR repositories. An AWS account holds one OIDC
provider per URL: set `gigstack:delivery.oidcProviderArn` when the account already has GitHub's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws.iam import policy_document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
# What `docker push` (and buildx's provenance/SBOM attestations) calls on a repository.
ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


@dataclass
class DeliveryArgs:
    name_prefix: str
    account_id: pulumi.Input[str]
    region: str
    github_repository: str
    branch: str
    oidc_provider_arn: str | None
    tags: dict[str, str]


def github_trust_policy(provider_arn: str, repository: str, branch: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:ref:refs/heads/{branch}",
                        }
                    },
                }
            ],
        }
    )


class Delivery(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:Delivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider_arn: pulumi.Input[str]
        if args.oidc_provider_arn:
            provider_arn = args.oidc_provider_arn
        else:
            provider_arn = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[GITHUB_OIDC_AUDIENCE],
                tags=args.tags,
                opts=child,
            ).arn
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.name_prefix}-delivery",
            assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
                lambda arn: github_trust_policy(arn, args.github_repository, args.branch)
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=child,
        )
        repositories = pulumi.Output.concat(
            "arn:aws:ecr:", args.region, ":", args.account_id, ":repository/gigstack/*"
        )
        aws.iam.RolePolicy(
            f"{name}-push",
            role=role.id,
            policy=repositories.apply(
                lambda arn: policy_document(
                    [
                        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
                        {"Effect": "Allow", "Action": ECR_PUSH_ACTIONS, "Resource": arn},
                    ]
                )
            ),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": role.arn})
