"""Uploads bucket (media objects uploaded with presigned POSTs, no public access) and one ECR repository per
service. The bucket is the object store of docs/adr/0017; aws/media_access.py grants the services using it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.catalog import SERVICES


@dataclass
class ArtifactsArgs:
    name_prefix: str
    account_id: pulumi.Input[str]
    region: str
    production: bool
    kms_key_arn: pulumi.Output[str]
    upload_origins: list[str]
    tags: dict[str, str]


class Artifacts(pulumi.ComponentResource):
    uploads_bucket: pulumi.Output[str]
    uploads_bucket_arn: pulumi.Output[str]
    image_registry: pulumi.Output[str]
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ArtifactsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:Artifacts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-uploads",
            bucket_prefix=f"{args.name_prefix}-uploads-",
            # Non-production buckets may be emptied by `pulumi destroy`; production ones are emptied by hand.
            force_destroy=not args.production,
            tags=args.tags,
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-uploads",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-uploads", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-uploads",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-uploads", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        # Browsers POST straight to S3 with the forms media.createUpload presigns (and GET what they may
        # read); only the app's origins may do so.
        aws.s3.BucketCorsConfiguration(
            f"{name}-uploads",
            bucket=bucket.id,
            cors_rules=[
                {
                    "allowed_methods": ["POST", "GET", "HEAD"],
                    "allowed_origins": args.upload_origins,
                    "allowed_headers": ["content-type", "content-md5", "x-amz-*"],
                    "max_age_seconds": 3000,
                }
            ],
            opts=child,
        )
        # Abandoned uploads: multipart uploads never completed are aborted after a day, and versions that a
        # re-upload or a deletion replaced are kept 30 days (to undo a mistake), then expire.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-uploads",
            bucket=bucket.id,
            rules=[
                {
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                },
                {
                    "id": "expire-replaced-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": 30},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-uploads-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [arn, f"{arn}/*"],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        self.repository_urls = {}
        for service in SERVICES:
            repository = aws.ecr.Repository(
                f"{name}-{service}",
                name=f"gigstack/{service}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.kms_key_arn}],
                force_delete=not args.production,
                tags=args.tags,
                opts=child,
            )
            self.repository_urls[service] = repository.repository_url
        self.uploads_bucket = bucket.bucket
        self.uploads_bucket_arn = bucket.arn
        self.image_registry = pulumi.Output.concat(
            args.account_id, ".dkr.ecr.", args.region, ".amazonaws.com/gigstack"
        )
        self.register_outputs({"uploads_bucket": bucket.bucket, "image_registry": self.image_registry})
