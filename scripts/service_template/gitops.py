"""A service's own manifests (gitops/base/services/<name>/); the rest: gitops/components/service-workload."""

from __future__ import annotations

from gigstack_registry import Service


def pod_labels(service: Service) -> list[str]:
    """The gigstack.io labels that open the service's egress and ingress (gitops/components/stores-*)."""
    labels = [f"gigstack.io/uses-{store}" for store in service.stores]
    labels += ["gigstack.io/uses-amqp"] if service.uses_bus else []
    labels += ["gigstack.io/uses-smtp"] if service.sends_mail else []
    labels += ["gigstack.io/internal-api"] if service.internal_api else []
    return labels


def kustomization(service: Service) -> str:
    return f"""# What is {service.name}'s own in any environment: its settings, who may call it, its image,
# store labels and measured resources. The objects every service has are gitops/components/service-workload.
# Environment differences live in environments/<env>/ and gitops/components/, never here.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - configmap.yaml
  - networkpolicy.yaml
components:
  - ../../../components/service-workload
patches:
  - path: deployment.yaml
"""


def configmap(service: Service) -> str:
    return f"""# Non-secret settings (docs/contracts.md); store URLs come from {service.name}-secrets.
# The label names the service for gitops/components/service-workload.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {service.name}-config
  labels:
    app.kubernetes.io/name: {service.name}
    app.kubernetes.io/part-of: gigstack
data:
  CONSUMER_PREFETCH: "16"
"""


def networkpolicy(service: Service) -> str:
    if service.internal_api:
        who, ingress = (
            f"Only the gateway calls {service.name}.",
            """  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: gateway
      ports:
        - port: 8000
          protocol: TCP
""",
        )
    else:
        who, ingress = f"{service.name} is a pure consumer: no service calls it.", "  ingress: []\n"
    return f"""# {who} Store and broker egress comes from the gigstack.io/uses-* pod labels
# (gitops/components/stores-*).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {service.name}
  labels:
    app.kubernetes.io/name: {service.name}
    app.kubernetes.io/part-of: gigstack
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {service.name}
  policyTypes:
    - Ingress
{ingress}"""


def deployment(service: Service) -> str:
    labels = pod_labels(service)
    workload = "".join(f'    {label}: "true"\n' for label in labels if label != "gigstack.io/internal-api")
    pod = "".join(f'        {label}: "true"\n' for label in labels)
    return f"""# What is {service.name}'s own in its Deployment; the rest (probes, security context, envFrom,
# rollout) is gitops/components/service-workload.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {service.name}
  labels:
    # The pod template's store labels, repeated here because kustomize patches select workloads by
    # these (gitops/components/stores-aws-managed mounts the RDS CA bundle for mysql/mongodb).
{workload}spec:
  template:
    metadata:
      labels:
{pod}    spec:
      containers:
        - name: {service.name}
          image: gigstack/{service.name}:dev
          resources:
            # Measurement pending: run bench/idle_memory with {service.name} added, record it in
            # docs/benchmarks.md and cite the MiB figures here (tests/manifests fails until then).
            requests:
              cpu: 50m
              memory: 128Mi
            limits:
              cpu: 500m
              memory: 256Mi
"""
