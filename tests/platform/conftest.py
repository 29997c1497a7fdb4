"""Run the Pulumi program under mocks and record the resource graph it registers.

Each `build_stack(...)` call resets Pulumi's settings, installs fresh mocks and a recording monitor, loads
the stack's real config file (environments/<stack>/Pulumi.<stack>.yaml) plus overrides, and runs `main()`
to completion within a time limit. Tests then assert on the recorded registrations: their inputs (with the
secret markers the SDK sent), their explicit dependencies and their parents.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.settings import SETTINGS, reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

# The helper modules sit beside the tests; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAM_TIME_LIMIT_SECONDS = 60
# A self-signed stand-in for Amazon's RDS global bundle, which operators download (runbook-eks.md) and the
# repository does not ship; the eks stack refuses to run without a bundle file.
TEST_RDS_CA_BUNDLE = Path(__file__).resolve().parent / "data" / "test-rds-ca-bundle.pem"
ACCOUNT_ID = "123456789012"
NODE_SECURITY_GROUP = "sg-eks-cluster"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    secret_inputs: set[str]
    dependencies: list[str]
    parent: str


@dataclass
class StackRun:
    stack: str
    seconds: float
    resources: list[Registration] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Registration:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources {type_} named {name}"
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def named(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name}"
        return matches[0]

    def ancestors(self, registration: Registration) -> list[Registration]:
        chain = []
        parent = registration.parent
        while parent:
            found = [r for r in self.resources if r.urn == parent]
            if not found:
                break
            chain.append(found[0])
            parent = found[0].parent
        return chain

    def depends_on(self, later: Registration, earlier: Registration) -> bool:
        """True when `later` (or an ancestor) lists `earlier` (or an ancestor) as an explicit dependency."""
        earlier_urns = {earlier.urn, *(a.urn for a in self.ancestors(earlier))}
        for candidate in (later, *self.ancestors(later)):
            if earlier_urns & set(candidate.dependencies):
                return True
        return False


def _unwrap(value: Any) -> Any:
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _fake_outputs(args: MockResourceArgs, inputs: dict[str, Any]) -> dict[str, Any]:
    name = inputs.get("name") or args.name
    outputs: dict[str, Any] = {"arn": f"arn:aws:mock:::{args.typ.split(':')[-1]}/{name}", "name": name}
    match args.typ:
        case "aws:eks/cluster:Cluster":
            outputs["endpoint"] = "https://eks.mock"
            outputs["certificateAuthority"] = {"data": "Q0E="}
            outputs["vpcConfig"] = {
                **inputs.get("vpcConfig", {}),
                "clusterSecurityGroupId": NODE_SECURITY_GROUP,
            }
        case "aws:rds/instance:Instance":
            outputs["address"] = f"{inputs['identifier']}.rds.mock"
        case "aws:elasticache/replicationGroup:ReplicationGroup":
            outputs["primaryEndpointAddress"] = "redis.cache.mock"
        case "aws:mq/broker:Broker":
            outputs["instances"] = [{"endpoints": ["amqps://b-1.mq.mock:5671"]}]
        case "aws:docdb/cluster:Cluster":
            outputs["endpoint"] = "docdb.mock"
        case "aws:opensearch/domain:Domain":
            outputs["endpoint"] = "vpc-search.es.mock"
        case "aws:s3/bucket:Bucket":
            outputs["bucket"] = f"{inputs.get('bucketPrefix', '')}mock"
            outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
        case "aws:ecr/repository:Repository":
            outputs["repositoryUrl"] = f"{ACCOUNT_ID}.dkr.ecr.mock/{name}"
        case "aws:acm/certificate:Certificate":
            outputs["domainValidationOptions"] = [
                {
                    "domainName": inputs["domainName"],
                    "resourceRecordName": f"_x1.{inputs['domainName']}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_x2.acm-validations.aws.",
                }
            ]
        case "aws:route53/record:Record":
            outputs["fqdn"] = inputs["name"].rstrip(".")
        case "aws:acm/certificateValidation:CertificateValidation":
            outputs["certificateArn"] = inputs["certificateArn"]
        case "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"Pw-{args.name}-0"
        case "tls:index/privateKey:PrivateKey":
            outputs["privateKeyPemPkcs8"] = "-----BEGIN PRIVATE KEY-----\nmock\n-----END PRIVATE KEY-----\n"
            outputs["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nmock\n-----END PUBLIC KEY-----\n"
    return outputs


class RecordingMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _unwrap(args.inputs)
        state = {**inputs, **_fake_outputs(args, inputs)}
        return f"{args.name}-id", state

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        # A bare dict means "no failures" to the mock monitor.
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "id": ACCOUNT_ID,
                "userId": "AIDAMOCK",
            }
        return {}


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    inputs=_unwrap(inputs),
                    secret_inputs={key for key, value in inputs.items() if rpc.is_rpc_secret(value)},
                    dependencies=list(request.dependencies),
                    parent=request.parent,
                )
            )
        return response


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The stack's config file as the CLI hands it to the program (objects as JSON strings)."""
    path = REPO_ROOT / "environments" / stack / f"Pulumi.{stack}.yaml"
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    if "gigstack:rdsCaBundleFile" in raw:
        raw["gigstack:rdsCaBundleFile"] = str(TEST_RDS_CA_BUNDLE)
    raw.update(overrides or {})
    flattened = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            flattened[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            flattened[key] = json.dumps(value)
        else:
            flattened[key] = str(value)
    return flattened


def _ensure_event_loop() -> None:
    """Pulumi's runtime asks for the thread's event loop (`asyncio.get_event_loop`), which raises once any
    earlier test in the session ran `asyncio.run` (it leaves the main thread's loop unset on purpose)."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def run_stack(stack: str, overrides: dict[str, Any] | None = None) -> StackRun:
    from gigstack_platform.entrypoint import main

    _ensure_event_loop()
    reset_options(project="gigstack", stack=stack)
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="gigstack", stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(stack_config(stack, overrides), secret_keys=[])
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    started = time.monotonic()
    _sync_await(asyncio.wait_for(run_pulumi_func(main), timeout=PROGRAM_TIME_LIMIT_SECONDS))
    return StackRun(stack=stack, seconds=time.monotonic() - started, resources=list(monitor.registrations))


@pytest.fixture
def build_stack() -> Iterator[Callable[..., StackRun]]:
    """A fresh program per call; settings and config are reset afterwards so tests do not leak state."""
    yield run_stack
    reset_options()
    pulumi.runtime.set_all_config({}, secret_keys=[])
