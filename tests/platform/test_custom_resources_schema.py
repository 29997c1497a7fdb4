"""Custom resources the program creates validate against the CRD schemas in ../shared/schemas (offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

# shared/ is a sibling of the repository root (../shared in CI), wherever the clone lives.
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"


def _documents(run: Any) -> list[tuple[str, Path, dict[str, Any]]]:
    found = []
    for resource in run.resources:
        if not resource.type.startswith("kubernetes:") or not resource.custom:
            continue
        group_version, kind = resource.type.split(":")[1:]
        if "/" not in group_version or "." not in group_version.split("/")[0]:
            continue  # core and built-in groups are not custom resources
        group, version = group_version.split("/")
        if group in {"apps", "rbac.authorization.k8s.io", "storage.k8s.io", "helm.sh", "yaml"}:
            continue
        document = {**resource.inputs, "apiVersion": f"{group}/{version}", "kind": kind}
        found.append((resource.name, SCHEMAS / group / f"{kind.lower()}_{version}.json", document))
    return found


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_custom_resources_match_their_crd_schemas(build_stack: Any, stack: str) -> None:
    # CI clones the repository with ../shared beside it: a missing schema folder is a broken setup.
    assert SCHEMAS.is_dir(), f"CRD schemas not found at {SCHEMAS}"
    documents = _documents(build_stack(stack))
    assert documents, "the program creates custom resources on every stack"
    for name, schema_path, document in documents:
        assert schema_path.is_file(), f"{name}: no schema {schema_path}"
        schema = json.loads(schema_path.read_text())
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
        assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
