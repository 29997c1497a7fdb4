"""The policy objects. Constructing ResourceValidationPolicy is free of side effects; PolicyPack is not."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from gigstack_platform.policies import encryption, exposure, governance

MANDATORY = EnforcementLevel.MANDATORY

storage_encryption = ResourceValidationPolicy(
    name="gigstack-storage-encryption",
    description="Data stores, buckets, registries, secrets and EKS Secrets are encrypted at rest with KMS.",
    validate=encryption.validate_storage_encryption,
    enforcement_level=MANDATORY,
)
transit_encryption = ResourceValidationPolicy(
    name="gigstack-transit-encryption",
    description="Stores require TLS: Redis transit encryption, HTTPS-only search, forced TLS parameters.",
    validate=encryption.validate_transit_encryption,
    enforcement_level=MANDATORY,
)
no_public_data_store = ResourceValidationPolicy(
    name="gigstack-no-public-data-store",
    description="No data store is publicly accessible; buckets block every kind of public access.",
    validate=exposure.validate_no_public_data_store,
    enforcement_level=MANDATORY,
)
no_open_ingress = ResourceValidationPolicy(
    name="gigstack-no-open-ingress",
    description="Security groups admit 0.0.0.0/0 only when tagged gigstack.io/load-balancer=true.",
    validate=exposure.validate_no_open_ingress,
    enforcement_level=MANDATORY,
)
required_tags = ResourceValidationPolicy(
    name="gigstack-required-tags",
    description="Taggable AWS resources carry Project, Stack, Environment, ManagedBy and Production tags.",
    validate=governance.validate_required_tags,
    enforcement_level=MANDATORY,
)
production_safeguards = ResourceValidationPolicy(
    name="gigstack-production-safeguards",
    description="With Production=true: multi-AZ, deletion protection, backups and final snapshots.",
    validate=governance.validate_production_safeguards,
    enforcement_level=MANDATORY,
)
no_plaintext_secrets = ResourceValidationPolicy(
    name="gigstack-no-plaintext-secrets",
    description="Credentials live only in secret carriers: not in URLs, ConfigMaps, env literals or specs.",
    validate=governance.validate_no_plaintext_secrets,
    enforcement_level=MANDATORY,
)

ALL_POLICIES = [
    storage_encryption,
    transit_encryption,
    no_public_data_store,
    no_open_ingress,
    required_tags,
    production_safeguards,
    no_plaintext_secrets,
]
