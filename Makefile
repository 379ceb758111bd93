# The single entry point: every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-fast chaos lint format bench clean lock

help:
	@echo "make run    - start SeaweedFS, the provider simulator, the receiver and a worker (receiver dev)"
	@echo "make test   - lint, type-check and run the whole test suite"
	@echo "make chaos  - the fault suite: kills, outages, storms (CHAOS_SCALE=full|ci)"
	@echo "make lint   - ruff and mypy --strict"
	@echo "make bench  - benchmarks, printing ratios against their baselines"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/receiver dev

lint: $(STAMP)
	$(BIN)/ruff check receiver tests bench
	$(BIN)/ruff format --check receiver tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix receiver tests bench
	$(BIN)/ruff format receiver tests bench

test: lint
	bash infra/ensure-postgres.sh
	bash infra/ensure-caddy.sh
	bash infra/ensure-nginx.sh
	bash infra/ensure-chromium.sh
	$(BIN)/pytest -n 4 --dist worksteal

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit

# The fault suite (tests/chaos, docs/testing.md): each scenario bounded by its own timeout.
CHAOS_SCALE ?= full
chaos: $(STAMP)
	bash infra/ensure-postgres.sh
	CHAOS_SCALE=$(CHAOS_SCALE) $(BIN)/pytest -m chaos -s tests/chaos

bench: $(STAMP)
	bash infra/ensure-caddy.sh
	bash infra/ensure-rclone.sh
	$(BIN)/python -m bench

# Refresh requirements.lock from what pyproject.toml asks for today.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
