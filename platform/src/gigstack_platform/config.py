"""Typed stack configuration: the only module that reads `pulumi.Config`.

Every other module receives a `PlatformConfig` (or a part of it), so what a stack can be configured with is
listed in one place (docs/platform/configuration.md mirrors this file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pulumi

Environment = Literal["minikube", "eks"]
NatMode = Literal["single", "per_az"]
SearchEngine = Literal["opensearch", "elasticsearch"]
MonitoringInstaller = Literal["pulumi", "argocd"]

CONFIG_NAMESPACE = "gigstack"
# The repository root, found from this file so the program works from any working directory.
REPO_ROOT = Path(__file__).resolve().parents[3]
RDS_GLOBAL_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


class ConfigError(ValueError):
    """A stack configuration value is missing or invalid."""


@dataclass(frozen=True)
class NodeGroupConfig:
    instance_types: list[str]
    min_size: int
    desired_size: int
    max_size: int
    spot: bool = False


@dataclass(frozen=True)
class NetworkConfig:
    cidr: str = "10.20.0.0/16"
    availability_zones: list[str] = field(default_factory=list)
    nat_gateways: NatMode = "single"


@dataclass(frozen=True)
class ClusterConfig:
    version: str = "1.34"
    endpoint_public_access: bool = True
    public_access_cidrs: list[str] = field(default_factory=list)
    admin_principal_arns: list[str] = field(default_factory=list)
    system_nodes: NodeGroupConfig = field(
        default_factory=lambda: NodeGroupConfig(["t3.large"], min_size=2, desired_size=2, max_size=3)
    )
    app_nodes: NodeGroupConfig = field(
        default_factory=lambda: NodeGroupConfig(["t3.large"], min_size=2, desired_size=3, max_size=6)
    )


@dataclass(frozen=True)
class StoreSizes:
    search_engine: SearchEngine = "opensearch"
    postgres_instance_class: str = "db.t4g.micro"
    mysql_instance_class: str = "db.t4g.micro"
    relational_storage_gb: int = 20
    redis_node_type: str = "cache.t4g.micro"
    mq_instance_type: str = "mq.t3.micro"
    docdb_instance_class: str = "db.t4g.medium"
    opensearch_instance_type: str = "t3.small.search"
    opensearch_volume_gb: int = 10
    backup_retention_days: int = 7


@dataclass(frozen=True)
class MinikubeConfig:
    kube_context: str = "minikube"
    storage_class: str = "standard"
    # When set, the kubernetes provider writes manifests here instead of talking to a cluster.
    render_yaml_to_directory: str | None = None


@dataclass(frozen=True)
class MonitoringConfig:
    installed_by: MonitoringInstaller = "pulumi"
    observability_dir: Path = REPO_ROOT / "observability"


@dataclass(frozen=True)
class DeliveryConfig:
    """Who may push images (.github/workflows/deliver.yaml through GitHub's OIDC provider); eks only."""

    github_repository: str = ""
    branch: str = "main"
    # An existing GitHub OIDC provider of the account (one per account and URL); None creates it.
    oidc_provider_arn: str | None = None


@dataclass(frozen=True)
class IngressConfig:
    """The public gateway host on eks; must equal the eks overlay's Ingress host (tests check it)."""

    host: str = ""
    # Route 53 zone of `host`: the program then validates the ACM certificate itself.
    hosted_zone_id: str | None = None


@dataclass(frozen=True)
class PlatformConfig:
    project: str
    stack: str
    environment: Environment
    production: bool
    repo_url: str
    repo_revision: str
    aws_region: str
    network: NetworkConfig
    cluster: ClusterConfig
    stores: StoreSizes
    minikube: MinikubeConfig
    monitoring: MonitoringConfig
    # Origins allowed to PUT presigned uploads from the browser.
    upload_origins: list[str]
    # SES SMTP credentials for the notification service; empty on minikube (mail catcher, no auth).
    smtp_username: pulumi.Output[str]
    smtp_password: pulumi.Output[str]
    # Stripe keys for the order service (a test-mode key on minikube): the API secret key and the webhook
    # endpoint's signing secret. Empty until set; the order service then refuses to start (it needs both).
    stripe_secret_key: pulumi.Output[str] = field(default_factory=lambda: pulumi.Output.secret(""))
    stripe_webhook_secret: pulumi.Output[str] = field(default_factory=lambda: pulumi.Output.secret(""))
    # Amazon's RDS/DocumentDB CA bundle (PEM text) for the eks workloads; None on minikube.
    rds_ca_bundle_pem: str | None = None
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    ingress: IngressConfig = field(default_factory=IngressConfig)
    # Read access to a private repoUrl for Argo CD (a token as password); None: the repository is public.
    repo_username: str = "git"
    repo_password: pulumi.Output[str] | None = None
    # Alertmanager webhook for `severity: page` alerts (kube/alerting.py); empty: pages reach nobody.
    alert_webhook_url: pulumi.Output[str] = field(default_factory=lambda: pulumi.Output.secret(""))

    @property
    def name_prefix(self) -> str:
        return f"gigstack-{self.stack}"

    @property
    def secrets_manager_prefix(self) -> str:
        return f"gigstack/{self.stack}/"

    @property
    def tags(self) -> dict[str, str]:
        """Tags required on every AWS resource (checked by the policy pack)."""
        return {
            "Project": "gigstack",
            "Stack": self.stack,
            "Environment": self.environment,
            "ManagedBy": "pulumi",
            "Production": "true" if self.production else "false",
        }


def _node_group(raw: dict[str, Any] | None, default: NodeGroupConfig) -> NodeGroupConfig:
    if not raw:
        return default
    return NodeGroupConfig(
        instance_types=list(raw.get("instanceTypes", default.instance_types)),
        min_size=int(raw.get("minSize", default.min_size)),
        desired_size=int(raw.get("desiredSize", default.desired_size)),
        max_size=int(raw.get("maxSize", default.max_size)),
        spot=bool(raw.get("spot", default.spot)),
    )


def _choice(value: str, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{CONFIG_NAMESPACE}:{key} must be one of {allowed}, got {value!r}")
    return value


def _network(raw: dict[str, Any], region: str) -> NetworkConfig:
    zones = list(raw.get("availabilityZones") or [f"{region}{suffix}" for suffix in "abc"])
    if len(zones) < 3:
        raise ConfigError(f"{CONFIG_NAMESPACE}:network.availabilityZones needs three zones, got {zones}")
    nat = _choice(str(raw.get("natGateways", "single")), ("single", "per_az"), "network.natGateways")
    return NetworkConfig(
        cidr=str(raw.get("cidr", "10.20.0.0/16")), availability_zones=zones, nat_gateways=cast(NatMode, nat)
    )


def _cluster(raw: dict[str, Any]) -> ClusterConfig:
    default = ClusterConfig()
    public = bool(raw.get("endpointPublicAccess", default.endpoint_public_access))
    cidrs = list(raw.get("publicAccessCidrs", []))
    if public and (not cidrs or "0.0.0.0/0" in cidrs):
        # An API endpoint open to the internet is the most common EKS finding; make the operator name sources.
        raise ConfigError(f"{CONFIG_NAMESPACE}:cluster.publicAccessCidrs must list the allowed source ranges")
    return ClusterConfig(
        version=str(raw.get("version", default.version)),
        endpoint_public_access=public,
        public_access_cidrs=cidrs,
        admin_principal_arns=list(raw.get("adminPrincipalArns", [])),
        system_nodes=_node_group(raw.get("systemNodes"), default.system_nodes),
        app_nodes=_node_group(raw.get("appNodes"), default.app_nodes),
    )


def _stores(raw: dict[str, Any]) -> StoreSizes:
    default = StoreSizes()
    values: dict[str, Any] = {}
    for name in default.__dataclass_fields__:
        camel = "".join(part if i == 0 else part.capitalize() for i, part in enumerate(name.split("_")))
        if camel in raw:
            values[name] = raw[camel]
    if "search_engine" in values:
        _choice(str(values["search_engine"]), ("opensearch", "elasticsearch"), "stores.searchEngine")
    return StoreSizes(**values)


def _rds_ca_bundle(path_value: str | None) -> str:
    """Read the CA bundle the eks workloads verify RDS MySQL and DocumentDB against (runbook-eks.md).

    Read when the program runs, so a missing file stops `pulumi preview` with this message instead of
    leaving pods that cannot reach their databases.
    """
    key = f"{CONFIG_NAMESPACE}:rdsCaBundleFile"
    if not path_value:
        raise ConfigError(f"{key} is required on the eks stack (see docs/platform/runbook-eks.md)")
    path = Path(path_value)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        raise ConfigError(
            f"{key}: {path} does not exist; download Amazon's global bundle there "
            f"({RDS_GLOBAL_BUNDLE_URL}, see docs/platform/runbook-eks.md)"
        )
    text = path.read_text(encoding="utf-8")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(
            f"{key}: {path} holds no PEM certificate; expected Amazon's global bundle "
            f"({RDS_GLOBAL_BUNDLE_URL}, see docs/platform/runbook-eks.md)"
        )
    return text


def _ingress(raw: dict[str, Any]) -> IngressConfig:
    host = str(raw.get("host") or "")
    if not host or "." not in host:
        raise ConfigError(f"{CONFIG_NAMESPACE}:ingress.host (the gateway's public name) is required on eks")
    return IngressConfig(host=host, hosted_zone_id=raw.get("hostedZoneId") or None)


def _delivery(raw: dict[str, Any], repo_url: str) -> DeliveryConfig:
    """The repository defaults to repoUrl's owner/name when that is a GitHub URL."""
    repository = str(raw.get("githubRepository") or "")
    if not repository and repo_url.startswith("https://github.com/"):
        repository = repo_url.removeprefix("https://github.com/").removesuffix(".git").strip("/")
    if repository.count("/") != 1:
        raise ConfigError(
            f"{CONFIG_NAMESPACE}:delivery.githubRepository must be <owner>/<name> (repoUrl is not on GitHub)"
        )
    return DeliveryConfig(
        github_repository=repository,
        branch=str(raw.get("branch", "main")),
        oidc_provider_arn=raw.get("oidcProviderArn") or None,
    )


def load_config() -> PlatformConfig:
    """Read and validate the current stack's configuration."""
    config = pulumi.Config(CONFIG_NAMESPACE)
    environment = _choice(config.require("environment"), ("minikube", "eks"), "environment")
    region = pulumi.Config("aws").get("region") or ""
    if environment == "eks" and not region:
        raise ConfigError("aws:region is required on the eks stack")
    minikube_raw: dict[str, Any] = config.get_object("minikube") or {}
    monitoring_raw: dict[str, Any] = config.get_object("monitoring") or {}
    installer = _choice(
        str(monitoring_raw.get("installedBy", "pulumi")), ("pulumi", "argocd"), "monitoring.installedBy"
    )
    return PlatformConfig(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=environment,  # type: ignore[arg-type]
        production=config.get_bool("production") or False,
        repo_url=config.require("repoUrl"),
        repo_revision=config.get("repoRevision") or "main",
        aws_region=region,
        network=_network(config.get_object("network") or {}, region)
        if environment == "eks"
        else NetworkConfig(),
        cluster=_cluster(config.get_object("cluster") or {}) if environment == "eks" else ClusterConfig(),
        stores=_stores(config.get_object("stores") or {}),
        minikube=MinikubeConfig(
            kube_context=str(minikube_raw.get("kubeContext", "minikube")),
            storage_class=str(minikube_raw.get("storageClass", "standard")),
            render_yaml_to_directory=minikube_raw.get("renderYamlToDirectory"),
        ),
        monitoring=MonitoringConfig(installed_by=installer),  # type: ignore[arg-type]
        upload_origins=list(config.get_object("uploadOrigins") or ["http://localhost:3000"]),
        smtp_username=config.get_secret("smtpUsername") or pulumi.Output.secret(""),
        smtp_password=config.get_secret("smtpPassword") or pulumi.Output.secret(""),
        stripe_secret_key=config.get_secret("stripeSecretKey") or pulumi.Output.secret(""),
        stripe_webhook_secret=config.get_secret("stripeWebhookSecret") or pulumi.Output.secret(""),
        rds_ca_bundle_pem=_rds_ca_bundle(config.get("rdsCaBundleFile")) if environment == "eks" else None,
        alert_webhook_url=config.get_secret("alertWebhookUrl") or pulumi.Output.secret(""),
        repo_username=config.get("repoUsername") or "git",
        repo_password=config.get_secret("repoPassword"),
        ingress=_ingress(config.get_object("ingress") or {}) if environment == "eks" else IngressConfig(),
        delivery=_delivery(config.get_object("delivery") or {}, config.require("repoUrl"))
        if environment == "eks"
        else DeliveryConfig(),
    )
