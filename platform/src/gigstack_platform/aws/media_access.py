"""MediaAccess: least-privilege access to the uploads bucket for the services that use media keys.

Each service in `catalog.MEDIA_SERVICES` gets its own EKS Pod Identity role, bound to its ServiceAccount in
the services namespace. What it may do is what servicekit.media does: sign presigned POSTs for new objects
under the media areas (s3:PutObject, the credentials the browser's upload is made with), HEAD them
(s3:GetObject), and list the bucket under those prefixes only so that a missing object answers 404 rather
than 403. KMS: GenerateDataKey for uploads encrypted with the bucket's key, Decrypt for reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws.iam import pod_identity_trust_policy, policy_document, role_with_policies
from gigstack_platform.catalog import MEDIA_SERVICES, SERVICES_NAMESPACE

# docs/contracts.md, "media keys": <area>/<owner user id>/<object name>.
MEDIA_AREAS = ("gigs", "chat", "deliveries")


def media_policy(bucket_arn: str, kms_key_arn: str) -> str:
    objects = [f"{bucket_arn}/{area}/*" for area in MEDIA_AREAS]
    return policy_document(
        [
            {
                "Sid": "MediaObjects",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": objects,
            },
            {
                "Sid": "MediaListing",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{area}/*" for area in MEDIA_AREAS]}},
            },
            {
                "Sid": "MediaEncryption",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
            },
        ]
    )


@dataclass
class MediaAccessArgs:
    cluster_name: pulumi.Input[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    tags: dict[str, str]


class MediaAccess(pulumi.ComponentResource):
    role_arns: dict[str, pulumi.Output[str]]
    associations: list[aws.eks.PodIdentityAssociation]

    def __init__(self, name: str, args: MediaAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:MediaAccess", name, None, opts)
        policy = pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
            lambda values: media_policy(values[0], values[1])
        )
        self.role_arns = {}
        self.associations = []
        for service in MEDIA_SERVICES:
            role = role_with_policies(
                f"{name}-{service}",
                trust_policy=pod_identity_trust_policy(),
                managed_policy_arns=[],
                inline_policy=policy,
                tags={**args.tags, "Service": service},
                parent=self,
            )
            self.associations.append(
                aws.eks.PodIdentityAssociation(
                    f"{name}-{service}",
                    cluster_name=args.cluster_name,
                    namespace=SERVICES_NAMESPACE,
                    service_account=service,
                    role_arn=role.arn,
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            self.role_arns[service] = role.arn
        self.register_outputs({"role_arns": self.role_arns})
