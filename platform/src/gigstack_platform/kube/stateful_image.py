"""A single-replica StatefulSet + Service for stores that run from their official image (Redis, MongoDB)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import DATA_NAMESPACE

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# Both official images run as uid 999 once the entrypoint has nothing to chown.
IMAGE_USER = 999


def stateful_image(
    parent: pulumi.Resource,
    name: str,
    *,
    app: str,
    image: str,
    port: int,
    credentials_secret: k8s.core.v1.Secret,
    password_env: tuple[str, str] | None,
    storage_class: str,
    acl_secret: k8s.core.v1.Secret | None = None,
) -> pulumi.Output[str]:
    """Create the workload and return the in-cluster host name.

    Redis with `acl_secret`: the server loads its users from the Secret's `users.acl` (mounted read-only),
    so each service logs in as its own user and `default` is off (gigstack_registry.redis_acl).
    """
    labels: dict[str, str] = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "gigstack"}
    secret_ref = credentials_secret.metadata.apply(lambda meta: meta.name or "")
    extra_volumes: list[Any] = []
    extra_mounts: list[Any] = []
    env: list[Any]
    if password_env is None and acl_secret is not None:
        env = []
        command = ["redis-server", "--appendonly", "yes", "--aclfile", "/etc/redis/users.acl"]
        data_path = "/data"
        acl_name = acl_secret.metadata.apply(lambda meta: meta.name or "")
        extra_volumes = [{"name": "acl", "secret": {"secretName": acl_name, "defaultMode": 0o400}}]
        extra_mounts = [{"name": "acl", "mountPath": "/etc/redis", "readOnly": True}]
    elif password_env is None:
        # Redis: the password reaches the server as an env var expanded in the command line.
        env = [
            {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret_ref, "key": "password"}}}
        ]
        command = ["sh", "-c", 'exec redis-server --appendonly yes --requirepass "$REDIS_PASSWORD"']
        data_path = "/data"
    else:
        user_var, password_var = password_env
        env = [
            {"name": user_var, "valueFrom": {"secretKeyRef": {"name": secret_ref, "key": "username"}}},
            {"name": password_var, "valueFrom": {"secretKeyRef": {"name": secret_ref, "key": "password"}}},
        ]
        command = None
        data_path = "/data/db"
    metadata: Any = {"name": app, "namespace": DATA_NAMESPACE, "labels": labels}
    service_spec: Any = {"selector": labels, "ports": [{"name": app, "port": port, "targetPort": port}]}
    service = k8s.core.v1.Service(
        name,
        metadata=metadata,
        spec=service_spec,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    statefulset_spec: Any = {
        "serviceName": app,
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "securityContext": {
                    "runAsUser": IMAGE_USER,
                    "runAsGroup": IMAGE_USER,
                    "fsGroup": IMAGE_USER,
                },
                "containers": [
                    {
                        "name": app,
                        "image": image,
                        "command": command,
                        "env": env,
                        "ports": [{"containerPort": port, "name": app}],
                        "securityContext": RESTRICTED_CONTAINER,
                        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "128Mi"},
                            "limits": {"memory": "512Mi"},
                        },
                        "volumeMounts": [{"name": "data", "mountPath": data_path}, *extra_mounts],
                    }
                ],
                "volumes": extra_volumes,
            },
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": storage_class,
                    "resources": {"requests": {"storage": "2Gi"}},
                },
            }
        ],
    }
    k8s.apps.v1.StatefulSet(
        name,
        metadata=metadata,
        spec=statefulset_spec,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[credentials_secret, service, *([acl_secret] if acl_secret is not None else [])],
        ),
    )
    return pulumi.Output.from_input(f"{app}.{DATA_NAMESPACE}.svc")
