"""Add a MongoDB + events service: ``uv run python -m scripts.new_service <name> [--port P --group G ...]``.

Renders scripts/service_template/ into services/<name>/ and its manifests into gitops/base/services/<name>/,
marks it as existing in services/registry.toml (or adds it there) and lists it everywhere tests/registry
checks: .importlinter, mypy's path, compose.yaml, both overlays, the gateway's configmap. What is left by
hand is printed at the end (docs/adding-a-service.md).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from gigstack_registry import Service, load_registry

from scripts.service_template import gitops, shared_files

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "service_template" / "service"
NAME = re.compile(r"[a-z][a-z0-9]*")


def render(text: str, service: Service) -> str:
    keys = [f'"{key}"' for key in service.consumes]
    # Formatted as ruff formats it: one line for up to one key, one key per line beyond.
    consumes = f"({keys[0]},)" if len(keys) == 1 else "(" + "".join(f"\n    {key}," for key in keys) + "\n)"
    consumes = "()" if not keys else consumes
    return (
        text.replace("{{name}}", service.name)
        .replace("{{Name}}", service.name.capitalize())
        .replace("{{NAME}}", service.name.upper())
        .replace("{{consumes}}", consumes)
    )


def render_service(root: Path, service: Service) -> None:
    target = root / "services" / service.name
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).with_suffix("")
        relative = Path(render(str(relative), service).replace("src/pkg", f"src/{service.package}"))
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_text(render(source.read_text(), service))
    # The Dockerfiles are one template (tests/manifests/test_dockerfiles_in_step.py): the gateway's, renamed.
    gateway = (root / "services/gateway/Dockerfile").read_text()
    (target / "Dockerfile").write_text(gateway.replace("gateway", service.name))


def render_manifests(root: Path, service: Service) -> None:
    folder = root / "gitops/base/services" / service.name
    folder.mkdir(parents=True)
    for name, content in (
        ("kustomization.yaml", gitops.kustomization(service)),
        ("configmap.yaml", gitops.configmap(service)),
        ("networkpolicy.yaml", gitops.networkpolicy(service)),
        ("deployment.yaml", gitops.deployment(service)),
    ):
        (folder / name).write_text(content)


def edit(path: Path, change: Callable[[str, Service], str], service: Service) -> None:
    path.write_text(change(path.read_text(), service))


def add_service(root: Path, name: str, port: int | None, groups: list[str]) -> Service:
    registry = load_registry(root)
    if name in registry.names and registry[name].exists:
        raise SystemExit(f"{name} exists already")
    if name not in registry.names and port is None:
        raise SystemExit(f"{name} is not in services/registry.toml: give it a --port")
    registry_file = root / "services/registry.toml"
    registry_file.write_text(shared_files.registry_entry(registry_file.read_text(), name, port or 0, groups))
    service = load_registry(root)[name]
    if "mongodb" not in service.stores:
        raise SystemExit(f"{name} owns {service.stores}; this template is for a MongoDB service")
    render_service(root, service)
    render_manifests(root, service)
    edit(root / ".importlinter", shared_files.import_linter, service)
    edit(root / "pyproject.toml", shared_files.mypy_path, service)
    edit(root / "compose.yaml", shared_files.compose, service)
    for overlay in ("eks", "minikube", "local"):
        edit(root / "environments" / overlay / "kustomization.yaml", shared_files.overlay, service)
    edit(root / "gitops/base/services/gateway/configmap.yaml", shared_files.gateway_configmap, service)
    return service


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", help="lower-case service name, e.g. chat")
    parser.add_argument("--port", type=int, help="local port, for a service not yet in the registry")
    parser.add_argument("--group", action="append", default=[], help="public group it serves (repeatable)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not NAME.fullmatch(args.name):
        raise SystemExit("a service name is lower-case letters and digits, starting with a letter")
    service = add_service(args.root, args.name, args.port, args.group)
    print(f"""Added {service.name} (services/{service.name}/, gitops/base/services/{service.name}/). By hand:
  uv sync --all-packages                    # adds the workspace member to uv.lock
  uv run pytest tests/registry              # every registry-driven place lists {service.name}
  docs/contracts.md                         # its port/store row, settings and event types
  bench/idle_memory, docs/benchmarks.md     # measure it; cite the MiB figures in its deployment.yaml
  the gateway, if it serves public groups    # a {service.name}_service_url setting, its public operations""")


if __name__ == "__main__":
    main()
