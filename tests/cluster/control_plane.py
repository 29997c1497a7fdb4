"""A real Kubernetes API server on loopback for the cluster tests: etcd + kube-apiserver from the cache.

scripts/install/kubernetes.sh builds kube-apiserver from the Go module proxy and installs etcd (Debian
etcd-server); both start here in seconds. Certificates are made with openssl for each run. The API server
runs the production admission chain (PodSecurity, ServiceAccount, NodeRestriction, ResourceQuota, ...) so
that a dry run is judged as a real cluster would judge it. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gigstack_testinfra.net import LOOPBACK, free_port, wait_until
from gigstack_testinfra.servers.base import LocalServer
from gigstack_testinfra.supervision import ManagedProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "v1.34.4"  # keep in step with scripts/install/kubernetes.sh
CACHE = Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))
BIN_DIR = CACHE / f"kubernetes-{KUBERNETES_VERSION}" / "bin"
ADDON_CRDS_TABLE = REPO_ROOT / "scripts" / "cluster" / "addon-crds.txt"
# The Service range only has to exist; nothing is routed to it in the fast tier (no kube-proxy).
SERVICE_CIDR = "10.213.128.0/24"
# A value the API server advertises (it is never bound); the local cluster's bridge uses this /24 too.
ADVERTISE_ADDRESS = "10.213.0.1"
INSTALL_HINT = "run scripts/install/kubernetes.sh (make deps) to build and cache it"


def cached_binary(name: str) -> Path:
    path = BIN_DIR / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is missing: {INSTALL_HINT}")
    return path


def etcd_binary() -> Path:
    found = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.access(found, os.X_OK):
        raise FileNotFoundError(f"etcd (Debian etcd-server) is missing: {INSTALL_HINT}")
    return Path(found)


# --- certificates -------------------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _signed_certificate(directory: Path, name: str, subject: str, extensions: str) -> None:
    """An EC key and a certificate signed by the run's CA (EC: key generation is instant, RSA is not)."""
    (directory / f"{name}.ext").write_text(extensions + "\n")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=directory)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
        cwd=directory,
    )  # fmt: skip


@dataclass(frozen=True)
class Certificates:
    directory: Path

    @classmethod
    def create(cls, directory: Path) -> Certificates:
        directory.mkdir(parents=True, exist_ok=True)
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=gigstack-test-ca", "-days", "2",
            cwd=directory,
        )  # fmt: skip
        _signed_certificate(
            directory,
            "apiserver",
            "/CN=kube-apiserver",
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
            "extendedKeyUsage=serverAuth",
        )
        _signed_certificate(
            directory, "admin", "/O=system:masters/CN=gigstack-admin", "extendedKeyUsage=clientAuth"
        )
        _openssl(
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "service-account.key",
            cwd=directory,
        )
        _openssl("ec", "-in", "service-account.key", "-pubout", "-out", "service-account.pub", cwd=directory)
        return cls(directory)

    def path(self, name: str) -> str:
        return str(self.directory / name)


# --- servers ------------------------------------------------------------------------------------------------


def _get(url: str, context: ssl.SSLContext | None = None) -> bool:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310 - loopback URL
        return bool(response.status == 200)


class EtcdServer(LocalServer):
    name = "etcd"
    start_timeout = 30.0

    def __init__(self, base_dir: Path) -> None:
        super().__init__(base_dir)
        self.client_port = free_port()
        self.peer_port = free_port()

    @property
    def client_url(self) -> str:
        return f"http://{LOOPBACK}:{self.client_port}"

    def build_process(self) -> ManagedProcess:
        peer_url = f"http://{LOOPBACK}:{self.peer_port}"
        args = [
            str(etcd_binary()),
            "--name=gigstack-test",
            f"--data-dir={self.base_dir / 'data'}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=gigstack-test={peer_url}",
            "--log-level=warn",
        ]
        return ManagedProcess(self.name, args, log_path=self.log_path)

    def wait_ready(self) -> None:
        wait_until(
            lambda: _get(f"{self.client_url}/health"),
            timeout=self.start_timeout,
            what="etcd",
            abort=self.exit_reason,
        )


class ApiServer(LocalServer):
    name = "kube-apiserver"
    start_timeout = 90.0

    def __init__(self, base_dir: Path, etcd: EtcdServer, certificates: Certificates) -> None:
        super().__init__(base_dir)
        self.etcd = etcd
        self.certificates = certificates
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    def build_process(self) -> ManagedProcess:
        certs = self.certificates
        args = [
            str(cached_binary("kube-apiserver")),
            f"--etcd-servers={self.etcd.client_url}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={self.port}",
            f"--advertise-address={ADVERTISE_ADDRESS}",
            # No node publishes the master Service's endpoints here; the default reconciler would try to.
            "--endpoint-reconciler-type=none",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,"
            "PodSecurity,NodeRestriction",
            f"--client-ca-file={certs.path('ca.crt')}",
            f"--tls-cert-file={certs.path('apiserver.crt')}",
            f"--tls-private-key-file={certs.path('apiserver.key')}",
            f"--service-account-key-file={certs.path('service-account.pub')}",
            f"--service-account-signing-key-file={certs.path('service-account.key')}",
            "--service-account-issuer=https://kubernetes.default.svc",
            # As kubeadm and managed clusters do: Pod Security admission, not this switch, judges privileged.
            "--allow-privileged=true",
            "--anonymous-auth=true",  # /readyz without credentials
            f"--cert-dir={self.base_dir / 'certs'}",
            "--v=1",
        ]
        return ManagedProcess(self.name, args, log_path=self.log_path)

    def wait_ready(self) -> None:
        context = ssl.create_default_context(cafile=self.certificates.path("ca.crt"))
        wait_until(
            lambda: _get(f"{self.url}/readyz", context),
            timeout=self.start_timeout,
            what="kube-apiserver",
            abort=self.exit_reason,
            interval=0.25,
        )


def write_kubeconfig(path: Path, server: str, certificates: Certificates) -> Path:
    """A kubeconfig for the admin client certificate (group system:masters)."""
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
  - name: gigstack-test
    cluster:
      server: {server}
      certificate-authority: {certificates.path("ca.crt")}
users:
  - name: admin
    user:
      client-certificate: {certificates.path("admin.crt")}
      client-key: {certificates.path("admin.key")}
contexts:
  - name: gigstack-test
    context: {{cluster: gigstack-test, user: admin}}
current-context: gigstack-test
"""
    )
    return path
