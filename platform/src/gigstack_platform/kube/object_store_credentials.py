"""minikube's object-store key pair: the Secret s3proxy checks signatures with and media services sign with.

Generated like every store password; on eks there is no key pair (Pod Identity roles, aws/media_access.py).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import OBJECT_STORE_CREDENTIALS_SECRET, SERVICES_NAMESPACE
from gigstack_platform.credentials import generated_password


class ObjectStoreCredentials(pulumi.ComponentResource):
    secret: k8s.core.v1.Secret

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:kube:ObjectStoreCredentials", name, None, opts)
        self.secret = k8s.core.v1.Secret(
            name,
            metadata={
                "name": OBJECT_STORE_CREDENTIALS_SECRET,
                "namespace": SERVICES_NAMESPACE,
                "labels": {"app.kubernetes.io/name": "s3proxy", "app.kubernetes.io/part-of": "gigstack"},
            },
            type="Opaque",
            string_data={
                # Any string is an s3proxy identity; generated too, so neither half of the pair is guessable.
                "OBJECT_STORE_ACCESS_KEY_ID": generated_password(f"{name}-access-key-id", self, 20),
                "OBJECT_STORE_SECRET_ACCESS_KEY": generated_password(f"{name}-secret-access-key", self, 40),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
