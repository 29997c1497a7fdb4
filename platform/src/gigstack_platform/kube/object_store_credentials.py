"""minikube's object-store key pair: the Secret s3proxy checks signatures with and media services sign with.

Generated like every store password; on eks there is no key pair (Pod Identity roles, aws/media_access.py).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from gigstack_platform.catalog import OBJECT_STORE_CREDENTIALS_SECRET, SERVICES_NAMESPACE
from gigstack_platform.credentials import generated_password


def object_store_credentials(name: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    access_key = random.RandomString(
        f"{name}-access-key-id", length=20, special=False, upper=True, lower=False, opts=opts
    )
    secret = k8s.core.v1.Secret(
        name,
        metadata={
            "name": OBJECT_STORE_CREDENTIALS_SECRET,
            "namespace": SERVICES_NAMESPACE,
            "labels": {"app.kubernetes.io/name": "s3proxy", "app.kubernetes.io/part-of": "gigstack"},
        },
        type="Opaque",
        string_data={
            "OBJECT_STORE_ACCESS_KEY_ID": access_key.result,
            "OBJECT_STORE_SECRET_ACCESS_KEY": generated_password(f"{name}-secret-access-key", access_key, 40),
        },
        opts=opts,
    )
    return secret
