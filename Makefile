# Gigstack developer entry points (`make help`). CI runs `.ci/run`, which is `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The services `make up` starts, in start order (names and ports: docs/contracts.md): every service of
# services/registry.toml (tests/registry fails when one is missing). Consumers first, so each declares and binds
# its queues before anything publishes what it consumes (auth's account.created feeds users, chat, order and
# review); the gateway once every service it routes to answers, then the storefront (a client of the gateway). Services that are not in services/ are
# skipped with a message. Override: make up DEV_SERVICES="gateway auth".
DEV_SERVICES ?= notification users gig chat order review auth gateway storefront
# 1: `make up` also runs Prometheus, Alertmanager, the OpenTelemetry Collector, Jaeger and log shipping into
# OpenSearch (docs/local-development.md); `make up OBSERVABILITY=0` for a lean stack.
OBSERVABILITY ?= 1

# install-deps may install uv with `pip install --user` on a fresh machine.
export PATH := $(HOME)/.local/bin:$(PATH)
# --frozen: use uv.lock exactly as committed (install-deps has synced it); never re-lock as a side effect.
UV_RUN := uv run --frozen
# Python trees that are linted and type-checked; pytest collects libs, services and tests.
CODE_PATHS := $(wildcard libs services tests scripts bench platform)
TEST_PATHS := $(wildcard libs services tests)
# Every member's src/ dir: mypy needs them as package bases (explicit_package_bases), so that a file is known by
# its import name (gateway_service.x), not by its path (services.gateway.src.gateway_service.x).
MYPYPATH := $(subst $(eval) ,:,$(wildcard libs/*/src services/*/src platform/src))
PYTEST_ARGS ?=
# The suites' slowest tests at the end of every run, so CI's log tail shows where the time went.
SUITE_REPORT_ARGS := --durations=25

# Image tests need a private dockerd and minutes cold: their own target (make test-images), not `make test`.
IMAGE_TESTS := tests/cluster/images
# The full tier needs the one-node cluster (make test-cluster), not `make test`.
FULL_CLUSTER_TESTS := tests/cluster/full
SERVICE_IMAGES := $(notdir $(patsubst %/Dockerfile,%,$(wildcard services/*/Dockerfile)))

# The testcontainers backend on store images built here from Debian's packages (no registry reachable): the
# infra suite's store tests (MongoDB and OpenSearch have no local image) and one service's integration suite.
CONTAINER_TESTS := tests/infra/test_sql_stores.py tests/infra/test_redis_and_mongo.py tests/infra/test_rabbitmq.py \
	services/notification/tests/integration

.PHONY: help deps up down status test fuzz-deep test-images test-containers cluster-up cluster-down test-cluster lint fmt

help:
	@echo "make deps    install servers and tools (scripts/install-deps.sh; idempotent, cached in ~/.cache/gigstack)"
	@echo "make up      start stores, mail catcher, DEV_SERVICES ($(DEV_SERVICES)) and observability (OBSERVABILITY=0: skip)"
	@echo "make down    stop everything make up started"
	@echo "make status  what make up left running"
	@echo "make test    deps + lint + pytest over $(TEST_PATHS) (real servers, see docs/local-development.md)"
	@echo "make fuzz-deep  the public API's schemathesis run, randomized, FUZZ_EXAMPLES per operation (not in CI)"
	@echo "make test-images  build every service image from its Dockerfile and run it read-only, non-root"
	@echo "             (private dockerd, no registry: docs/local-cluster.md)"
	@echo "make test-containers  infra + notification integration suites on the testcontainers backend, local store images"
	@echo "make cluster-up    one-node Kubernetes cluster + stores + Argo CD syncing environments/local (docs/local-cluster.md)"
	@echo "make cluster-down  stop it and remove everything it created"
	@echo "make test-cluster  cluster-up, the full tier (tests/cluster/full), cluster-down"
	@echo "make lint    ruff check, ruff format --check, mypy (strict), lint-imports"
	@echo "make fmt     ruff --fix and ruff format"

deps:
	@scripts/install-deps.sh

up: deps
	@$(UV_RUN) python -m scripts.devstack up --services "$(DEV_SERVICES)" --observability "$(OBSERVABILITY)"

down:
	@$(UV_RUN) python -m scripts.devstack down

status:
	@$(UV_RUN) python -m scripts.devstack status

lint:
	$(UV_RUN) ruff check $(CODE_PATHS)
	$(UV_RUN) ruff format --check $(CODE_PATHS)
	MYPYPATH=$(MYPYPATH) $(UV_RUN) mypy $(CODE_PATHS)
	$(UV_RUN) lint-imports

fmt:
	$(UV_RUN) ruff check --fix $(CODE_PATHS)
	$(UV_RUN) ruff format $(CODE_PATHS)

# tests/infra always exists, so pytest never exits 5 ("no tests collected"). The image and testcontainers tiers
# follow the suites, then the one-node cluster's full tier (CI runs exactly `make test`); IMAGE_TIERS=0 skips
# the image tiers and CLUSTER_TIER=0 the cluster tier for a quicker local run (times in README.md).
IMAGE_TIERS ?= 1
CLUSTER_TIER ?= 1
test: deps
	@$(MAKE) --no-print-directory lint
	$(UV_RUN) pytest $(TEST_PATHS) --ignore=$(IMAGE_TESTS) --ignore=$(FULL_CLUSTER_TESTS) $(SUITE_REPORT_ARGS) \
		$(PYTEST_ARGS)
	@if [[ "$(IMAGE_TIERS)" != 0 ]]; then $(MAKE) --no-print-directory test-images test-containers PYTEST_ARGS=; fi
	@if [[ "$(CLUSTER_TIER)" != 0 ]]; then $(MAKE) --no-print-directory test-cluster PYTEST_ARGS=; fi

# A deeper hunt than CI's bounded, derandomized contract run: random data (the seed is printed; FUZZ_SEED replays
# it), FUZZ_EXAMPLES per operation. Not part of `make test`: its findings become fixes and tests there.
FUZZ_EXAMPLES ?= 100
fuzz-deep: deps
	GIGSTACK_FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) GIGSTACK_FUZZ_SEED=$(FUZZ_SEED) GIGSTACK_FUZZ_TIMEOUT_SECONDS=3600 \
		$(UV_RUN) pytest tests/contracts/test_public_api_fuzzing.py -rP $(PYTEST_ARGS)

# The private dockerd is stopped whatever the result (it leaves no bridge or iptables chain either way).
test-images: deps
	@scripts/install/images.sh
	@scripts/cluster/docker.sh start
	status=0; $(UV_RUN) pytest $(IMAGE_TESTS) $(PYTEST_ARGS) || status=$$?; scripts/cluster/docker.sh stop; exit $$status

test-containers: deps
	@scripts/install/images.sh
	@scripts/cluster/docker.sh start
	status=0; images="$$(scripts/cluster/store-images.sh)" || status=$$?; \
	if [[ $$status -eq 0 ]]; then \
		DOCKER_HOST=unix:///run/gigstack-docker/docker.sock GIGSTACK_TEST_BACKEND=containers \
		TESTCONTAINERS_RYUK_DISABLED=true GIGSTACK_TEST_IMAGES="$$images" \
		$(UV_RUN) pytest $(CONTAINER_TESTS) -k "not mongo" $(PYTEST_ARGS) || status=$$?; \
	fi; \
	scripts/cluster/docker.sh stop; exit $$status

# The full tier (docs/local-cluster.md): a one-node cluster on its own bridge, the stores as host processes behind
# selector-less Services, every service image built from this worktree and imported into the node, and Argo CD
# syncing environments/local from a git daemon serving this worktree's HEAD (commit first).
# The last step of `make test` (CLUSTER_TIER=0 skips it); time in README.md.
cluster-up: deps
	@scripts/install/images.sh
	@scripts/install/argocd.sh
	@# The private dockerd is needed only to build and hand over the images; stopped again if it was not running.
	docker_was_up=0; [[ -S /run/gigstack-docker/docker.sock ]] && docker_was_up=1; \
	scripts/cluster/cluster.sh up && scripts/cluster/images.sh dev \
	&& scripts/cluster/cluster.sh import $(foreach s,$(SERVICE_IMAGES),gigstack/$(s):dev); status=$$?; \
	[[ $$docker_was_up == 1 ]] || scripts/cluster/docker.sh stop; exit $$status
	@$(UV_RUN) python -m scripts.cluster.stores up
	@scripts/cluster/cluster.sh gitops

cluster-down:
	@$(UV_RUN) python -m scripts.cluster.stores down
	@scripts/cluster/cluster.sh down

test-cluster: cluster-up
	status=0; $(UV_RUN) pytest $(FULL_CLUSTER_TESTS) $(PYTEST_ARGS) || status=$$?; \
	$(MAKE) --no-print-directory cluster-down; exit $$status
