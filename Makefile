# Gigstack developer entry points (`make help`). CI runs `.ci/run`, which is `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The services `make up` starts, in start order (names and ports: docs/contracts.md). Services that are not in
# services/ yet are skipped with a message. Override: make up DEV_SERVICES="gateway auth".
DEV_SERVICES ?= gateway auth notification users

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

.PHONY: help deps up down status test lint fmt

help:
	@echo "make deps    install servers and tools (scripts/install-deps.sh; idempotent, cached in ~/.cache/gigstack)"
	@echo "make up      start stores, mail catcher and DEV_SERVICES ($(DEV_SERVICES)) from .local/"
	@echo "make down    stop everything make up started"
	@echo "make status  what make up left running"
	@echo "make test    deps + lint + pytest over $(TEST_PATHS) (real servers, see docs/local-development.md)"
	@echo "make lint    ruff check, ruff format --check, mypy (strict), lint-imports"
	@echo "make fmt     ruff --fix and ruff format"

deps:
	@scripts/install-deps.sh

up: deps
	@$(UV_RUN) python -m scripts.devstack up --services "$(DEV_SERVICES)"

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

# tests/infra always exists, so pytest never exits 5 ("no tests collected").
test: deps
	@$(MAKE) --no-print-directory lint
	$(UV_RUN) pytest $(TEST_PATHS) $(PYTEST_ARGS)
