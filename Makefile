# The inventory service. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs the locked versions (uv.lock) from PyPI; it is bootstrapped with pip, pinned,
# into .uv/ (outside .venv, which `uv sync` keeps to exactly the lock's packages).
UV_VERSION := 0.13.8
UV := .uv/$(UV_VERSION)/bin/uv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore --target .uv/$(UV_VERSION) uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync -q --locked --extra dev || { echo "install: after a change to pyproject.toml, make lock" >&2; exit 1; }
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install exactly the locked versions (uv.lock) with the dev tools

lock: | $(UV) ## lock every dependency again after pyproject.toml changed (uv.lock; ARGS="--upgrade" for newer versions)
	$(UV) lock $(ARGS)

run: install ## start the local PostgreSQL and RabbitMQ if stopped, migrate, load demo data when empty, serve
	bash .ci/services
	$(BIN)/inventory migrate
	-$(BIN)/inventory broker-policy
	$(BIN)/inventory seed-demo --if-empty
	$(BIN)/inventory keys demo
	$(BIN)/inventory serve

worker: install ## run the message consumer, outbox relay and expiry sweeper
	$(BIN)/inventory worker

lint: install ## ruff check, format check, the import layers (import-linter), the lock, the Dockerfile (hadolint), migrations (squawk)
	$(BIN)/ruff check service tests bench chaos
	$(BIN)/ruff format --check service tests bench chaos
	$(BIN)/lint-imports
	$(UV) lock --check
	$(BIN)/hadolint Dockerfile
	$(BIN)/squawk --no-error-on-unmatched-pattern migrations/*.sql

format: install ## ruff format and autofix
	$(BIN)/ruff format service tests bench chaos
	$(BIN)/ruff check --fix service tests bench chaos

typecheck: install ## mypy (strict) on service/
	$(BIN)/mypy

browser: ## install Debian's chromium for the staff-page browser test (if missing)
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

tools: ## install promtool (Debian's prometheus package, no server left running) if missing
	@command -v promtool >/dev/null || bash .ci/promtool

test: pytest chaos-short ## everything CI runs: lint, type-check, the pytest suite, then the fault suite's short version

pytest: lint typecheck browser tools ## lint, type-check and run the pytest suite (real PostgreSQL, RabbitMQ, chromium, promtool)
	bash .ci/services
	$(BIN)/pytest

corpus: install ## record the answer corpus again from this tree (tests/corpus/answers/; review the diff)
	ANSWER_CORPUS=record $(BIN)/pytest -q tests/integration/test_answer_corpus.py

fuzz: install ## hostile input and random sequences at length: schemathesis, the message fuzzer, the model-based test
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} FUZZ_MESSAGES=$${FUZZ_MESSAGES:-3000} \
	MODEL_EXAMPLES=$${MODEL_EXAMPLES:-300} MODEL_STEPS=$${MODEL_STEPS:-60} \
	$(BIN)/pytest -q tests/integration/test_schemathesis.py \
	  tests/integration/test_message_fuzzer.py tests/integration/test_model_based.py

proto: install ## regenerate proto/ (JSON Schema, AsyncAPI, golden examples) from the message structs
	$(BIN)/python -m service.messaging.proto_gen

bench: install ## run the benchmark suite (see bench/README.md; ARGS="--quick" for a short run)
	bash bench/run.sh $(ARGS)

chaos: install ## the fault suite, long version (docs/reliability.md; ARGS="--only db-restart" runs one)
	$(BIN)/python -m chaos.run $(ARGS)

chaos-short: install ## the fault suite's short version, part of make test (about 2 minutes)
	$(BIN)/python -m chaos.run --short $(ARGS)

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .uv .mypy_cache .ruff_cache .pytest_cache

.PHONY: help install lock run worker lint format typecheck browser tools test pytest corpus fuzz proto bench chaos chaos-short clean
