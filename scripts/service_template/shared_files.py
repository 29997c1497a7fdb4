"""Edits that add a service to the files every service is listed in (the places tests/registry checks)."""

from __future__ import annotations

import re

from gigstack_registry import Service


def _append_to_option(text: str, section: str, option: str, item: str) -> str:
    """Add `item` as the last line of a multi-line `option` in `[section]` of an INI file."""
    header = f"\n{option} ="
    start = text.index(header, text.index(f"[{section}]")) + len(header)
    lines = text[start:].split("\n")
    end = 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    lines.insert(end, f"    {item}")
    return text[:start] + "\n".join(lines)


def import_linter(text: str, service: Service) -> str:
    package, contract = service.package, "importlinter:contract:"
    text = _append_to_option(text, "importlinter", "root_packages", package)
    text = _append_to_option(text, f"{contract}services-independent", "modules", package)
    text = _append_to_option(text, f"{contract}servicekit-standalone", "forbidden_modules", package)
    text = _append_to_option(text, f"{contract}domain-pure", "source_modules", f"{package}.domain")
    layers = f"""[{contract}{service.name}-layers]
name = {service.name} layers point inward
type = layers
layers =
    {package}.entrypoints
    {package}.adapters
    {package}.service_layer
    {package}.domain

"""
    domain = text.index(f"[{contract}domain-pure]")
    return text[:domain] + layers + text[domain:]


def overlay(text: str, service: Service) -> str:
    listed = re.findall(r"^  - \.\./\.\./gitops/base/services/\S+\n", text, re.MULTILINE)
    last = text.index(listed[-1]) + len(listed[-1])
    return text[:last] + f"  - ../../gitops/base/services/{service.name}\n" + text[last:]


def mypy_path(text: str, service: Service) -> str:
    return re.sub(
        r'^(mypy_path = ".*)"$', rf'\1:services/{service.name}/src"', text, count=1, flags=re.MULTILINE
    )


def gateway_configmap(text: str, service: Service) -> str:
    if not service.internal_api:
        return text
    return text.rstrip("\n") + f"\n  {service.name.upper()}_SERVICE_URL: http://{service.name}:8000\n"


def compose(text: str, service: Service) -> str:
    environment = [f"      SERVICE_PACKAGE: {service.package}"]
    depends = ["      internal-token-keys:\n        condition: service_completed_successfully"]
    if "mongodb" in service.stores:
        environment.append(f"      MONGODB_URL: mongodb://mongodb:27017/{service.name}")
        depends.append("      mongodb:\n        condition: service_healthy")
    if service.uses_bus:
        environment.append("      AMQP_URL: amqp://gigstack:rabbitmq-dev-password@rabbitmq:5672/")
        depends.append("      rabbitmq:\n        condition: service_healthy")
    block = f"""  {service.name}:
    <<: *service-defaults
    image: gigstack/{service.name}:dev
    build:
      context: .
      dockerfile: services/{service.name}/Dockerfile
    ports:
      - "127.0.0.1:{service.port}:8000"
    environment:
      <<: *service-environment
{chr(10).join(environment)}
    depends_on:
{chr(10).join(depends)}

"""
    volumes = text.index("\nvolumes:\n") + 1
    text = text[:volumes] + block + text[volumes:]
    if not service.internal_api:
        return text
    # The gateway reaches the services behind it by URL, one setting each.
    last_url = list(re.finditer(r"^      [A-Z]+_SERVICE_URL: http://[a-z]+:8000\n", text, re.MULTILINE))[-1]
    url = f"      {service.name.upper()}_SERVICE_URL: http://{service.name}:8000\n"
    return text[: last_url.end()] + url + text[last_url.end() :]


def registry_entry(text: str, name: str, port: int, groups: list[str]) -> str:
    """Mark a planned service as existing, or append a new MongoDB + events service."""
    planned = f'name = "{name}"\nexists = false\n'
    if planned in text:
        return text.replace(planned, f'name = "{name}"\nexists = true\n')
    quoted = ", ".join(f'"{group}"' for group in groups)
    return (
        text.rstrip("\n")
        + f"""

[[service]]
name = "{name}"
exists = true
port = {port}
stores = ["mongodb"]
public_groups = [{quoted}]
consumes = []
produces = ["{name}.item.created.v1"]
"""
    )
