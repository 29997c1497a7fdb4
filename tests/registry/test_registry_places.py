"""Every place that names a service agrees with services/registry.toml; each kind of drift is caught."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from gigstack_registry import RegistryError, load_registry, parse_registry
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from registry_places import GATEWAY_OPERATIONS, registry_problems

Plant = Callable[[str, Callable[[str], str]], Path]


def test_the_registry_lists_the_marketplace_services_and_the_storefront() -> None:
    registry = load_registry()
    assert registry.names == (
        "gateway",
        "auth",
        "users",
        "gig",
        "chat",
        "order",
        "review",
        "notification",
        "storefront",
    )
    assert registry.group_owners()["gigs"] == "gig"


def test_every_place_agrees_with_the_registry(repo_root: Path) -> None:
    assert registry_problems(repo_root) == []


def test_planted_service_missing_from_import_linter_is_named(broken_copy: Plant) -> None:
    """Forgetting .importlinter used to skip a service's layer checks silently."""

    def drop_notification(text: str) -> str:
        block = text.index("[importlinter:contract:notification-layers]")
        end = text.index("\n\n", block)
        return text[:block] + text[end + 2 :]

    root = broken_copy(".importlinter", drop_notification)
    assert registry_problems(root) == [
        "notification: .importlinter has no layers contract for notification_service"
    ]


def test_planted_service_missing_from_an_overlay_is_named(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/eks/kustomization.yaml",
        lambda text: text.replace("  - ../../gitops/base/services/notification\n", ""),
    )
    assert registry_problems(root) == ["notification: environments/eks/kustomization.yaml does not list it"]


def test_planted_service_missing_from_compose_is_named(broken_copy: Plant) -> None:
    root = broken_copy(
        "compose.yaml", lambda text: text.replace("127.0.0.1:8001:8000", "127.0.0.1:8011:8000")
    )
    assert registry_problems(root) == ["auth: compose.yaml does not publish port 8001 (127.0.0.1:8001:8000)"]


def test_planted_new_package_outside_the_registry_is_named(broken_copy: Plant) -> None:
    root = broken_copy("services/ledger/pyproject.toml", lambda _: '[project]\nname = "ledger-service"\n')
    assert registry_problems(root) == ["ledger: services/ledger/ exists but is not in services/registry.toml"]


PLANTED_SERVICE = """
[[service]]
name = "ledger"
exists = true
port = 8010
stores = ["postgres"]
migrates = true
public_groups = ["ledgers"]
consumes = []
produces = ["ledger.entry.created.v1"]
"""


def test_planted_existing_service_is_checked_everywhere(broken_copy: Plant) -> None:
    """A service marked exists = true lists every place it is still missing from (an entry of its own, so
    the test does not depend on which planned services have been built)."""
    root = broken_copy("services/registry.toml", lambda text: text + PLANTED_SERVICE)
    problems = registry_problems(root)
    assert "ledger: registry says exists = true, but services/ledger/ has no pyproject.toml" in problems
    for place in (
        ".importlinter root_packages lacks ledger_service",
        "pyproject.toml [tool.mypy] mypy_path lacks services/ledger/src",
        "compose.yaml has no service ledger",
        "compose.yaml gateway lacks LEDGER_SERVICE_URL: http://ledger:8000",
        "gitops/base/services/ledger/kustomization.yaml is missing",
        "environments/minikube/kustomization.yaml does not list it",
        "gateway configmap lacks LEDGER_SERVICE_URL: http://ledger:8000",
    ):
        assert f"ledger: {place}" in problems, problems


def test_planted_store_label_drift_is_named(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/base/services/auth/deployment.yaml",
        lambda text: text.replace('        gigstack.io/uses-mysql: "true"\n', ""),
    )
    assert registry_problems(root) == [
        "auth: gitops/base/services/auth/deployment.yaml pod labels "
        "['gigstack.io/internal-api', 'gigstack.io/uses-amqp'], the registry implies "
        "['gigstack.io/internal-api', 'gigstack.io/uses-amqp', 'gigstack.io/uses-mysql']"
    ]


def test_planted_migrating_service_without_its_migration_job_is_named(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/base/services/auth/kustomization.yaml",
        lambda text: text.replace("  - ../../../components/service-migration\n", ""),
    )
    assert registry_problems(root) == [
        "auth: gitops/base/services/auth: migration-job.yaml and the service-migration component "
        "exactly when it migrates"
    ]


def test_planted_gateway_route_to_the_wrong_service_is_named(broken_copy: Plant) -> None:
    table = {"operations": [{"operation_id": "reviews.create", "service": "order"}]}
    root = broken_copy(str(GATEWAY_OPERATIONS), lambda _: json.dumps(table))
    assert registry_problems(root) == [
        "gateway operation reviews.create goes to order, the registry gives group reviews to review"
    ]


def test_planted_gateway_without_a_service_url_is_named(broken_copy: Plant) -> None:
    root = broken_copy(
        "services/gateway/src/gateway_service/settings.py",
        lambda text: text.replace("    chat_service_url:", "    chats_service_url:"),
    )
    assert registry_problems(root) == [
        "chat: serves public groups, but the gateway has no chat_service_url setting",
        "chats: the gateway has a chats_service_url setting, but the registry gives it no public group",
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "x"\nexists = false\nport = 9000\nstores = ["oracle"]', "x: unknown store 'oracle'"),
        ('name = "x"\nexists = false\nport = 9000\nproduces = ["y.thing.done.v1"]', "which is not <x>."),
        ('name = "x"\nexists = false\nport = 9000\nconsumes = ["nobody.#"]', "which no service produces"),
        ('name = "x"\nexists = false\nport = 9000\ncolour = "red"', "unknown fields ['colour']"),
        ('name = "x"\nexists = false', "missing 1 required"),
    ],
)
def test_broken_registry_entries_are_refused(entry: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_registry(f"[[service]]\n{entry}\n")


def test_two_services_on_one_port_are_refused() -> None:
    entry = '[[service]]\nname = "{}"\nexists = false\nport = 1\n'
    text = entry.format("a") + entry.format("b")
    with pytest.raises(RegistryError, match="port 1 is used twice"):
        parse_registry(text)


def test_the_dev_stack_runs_each_service_on_the_local_servers_of_its_registry_stores() -> None:
    from scripts.devstack.catalogue import CATALOGUE, service_env

    assert list(CATALOGUE) == list(load_registry().names)
    assert CATALOGUE["gig"].stores == ("ferretdb", "opensearch", "rabbitmq", "s3proxy")
    assert CATALOGUE["auth"].stores == ("mariadb", "rabbitmq")
    assert CATALOGUE["auth"].migrates
    keys = {
        "INTERNAL_TOKEN_PUBLIC_KEY": "p",
        "INTERNAL_TOKEN_PRIVATE_KEY": "k",
        "ACCESS_TOKEN_SECRET": "a",
        "PAYMENT_WEBHOOK_SECRET": "w",
    }
    notification = service_env(CATALOGUE["notification"], keys, ["notification"])
    assert notification["REDIS_URL"].endswith(":6379/1")
    gig = service_env(CATALOGUE["gig"], keys, ["gig"])
    assert gig["OBJECT_STORE_ENDPOINT"] == "http://127.0.0.1:9000"
    assert gig["OBJECT_STORE_BUCKET"] == "gigstack-media"
    gateway = service_env(CATALOGUE["gateway"], keys, ["gateway", "auth", "notification"])
    assert {key for key in gateway if key.endswith("_SERVICE_URL")} == {"AUTH_SERVICE_URL"}


def test_the_platform_provisions_every_registry_service_its_stores() -> None:
    from gigstack_platform.catalog import OWNED_STORES, REDIS_DATABASE_INDEX, SERVICES, secret_keys

    assert load_registry().names == SERVICES
    assert [str(kind) for kind in OWNED_STORES["gig"]] == ["mongodb", "search"]
    assert REDIS_DATABASE_INDEX == {"gateway": 0, "notification": 1, "storefront": 2}
    assert secret_keys("users") == ["AMQP_URL", "MONGODB_URL"]


def make_up_problems(makefile: str, names: Sequence[str]) -> list[str]:
    """What `make up` (the Makefile's DEV_SERVICES) leaves out of the registry's existing services."""
    match = re.search(r"^DEV_SERVICES \?=(.*)$", makefile, re.MULTILINE)
    started = match.group(1).split() if match else []
    problems = [
        f"{name}: Makefile DEV_SERVICES does not start it (make up)" for name in names if name not in started
    ]
    problems += [
        f"{name}: Makefile DEV_SERVICES names it, the registry does not"
        for name in started
        if name not in names
    ]
    # The gateway routes to every other service: it starts once they answer (the Makefile explains the order);
    # only its own clients (the storefront) start after it.
    after_gateway = started[started.index("gateway") + 1 :] if "gateway" in started else []
    problems.extend(
        f"gateway: Makefile DEV_SERVICES starts it before {name}"
        for name in after_gateway
        if name not in GATEWAY_CLIENTS
    )
    return problems


# Services that call the gateway rather than being called by it (docs/adr/0025).
GATEWAY_CLIENTS = frozenset({"storefront"})


def test_make_up_starts_every_existing_service(repo_root: Path) -> None:
    names = [service.name for service in load_registry().existing]
    assert make_up_problems((repo_root / "Makefile").read_text(), names) == []


def test_planted_service_missing_from_make_up_is_named(repo_root: Path) -> None:
    makefile = re.sub(
        r"^(DEV_SERVICES \?=.*) order ", r"\1 ", (repo_root / "Makefile").read_text(), flags=re.MULTILINE
    )
    names = [service.name for service in load_registry().existing]
    assert make_up_problems(makefile, names) == ["order: Makefile DEV_SERVICES does not start it (make up)"]


@pytest.mark.parametrize("name", load_registry().names)
def test_make_up_gives_each_service_every_setting_it_requires(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A setting without a default that the dev stack does not set would stop that service in `make up`."""
    from servicekit.settings import ServiceSettings

    from scripts.devstack.catalogue import CATALOGUE, service_env

    private_pem, public_pem = generate_ed25519_pem_pair()
    dev = {
        "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
        "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
        "ACCESS_TOKEN_SECRET": "dev-access-token-key-0123456789abcdef-0123456789",
        "PAYMENT_WEBHOOK_SECRET": "whsec_dev_0123456789abcdef",
    }
    module = importlib.import_module(f"{name}_service.settings")
    (settings_class,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    for key, value in service_env(CATALOGUE[name], dev, list(CATALOGUE)).items():
        monkeypatch.setenv(key, value)
    settings = settings_class()
    assert settings.service_name == name
